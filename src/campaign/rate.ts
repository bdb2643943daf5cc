/**
 * The pace of requests: `rate` a second, `burst` at once after a pause.
 * Kept as a schedule (when the next request may go), not as a count, so
 * that a wake-up a little late is made up by the next gap and the rate
 * over a minute is the rate asked for; a pause of a whole interval or more
 * is not saved up beyond `burst`.
 */
export class TokenBucket {
  private nextAt: number;
  private readonly interval: number;

  constructor(
    readonly rate: number,
    readonly burst: number,
    now: number,
  ) {
    this.interval = 1000 / rate;
    this.nextAt = now;
  }

  /** 0 when a request may go now (and it is counted); else the milliseconds until one may. */
  take(now: number): number {
    if (now - this.nextAt >= this.interval) this.nextAt = now;
    const allowedAt = this.nextAt - (this.burst - 1) * this.interval;
    if (now < allowedAt) return Math.max(1, Math.ceil(allowedAt - now));
    this.nextAt += this.interval;
    return 0;
  }
}
