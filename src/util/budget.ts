/**
 * A fixed time budget for one request, shared out between the steps that
 * follow each other in it: each step gets at most its own cap, and leaves
 * back what the steps after it need.
 */
export class Budget {
  private readonly started: number;

  constructor(
    readonly totalMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
  }

  elapsed(): number {
    return this.now() - this.started;
  }

  remaining(): number {
    return this.totalMs - this.elapsed();
  }

  /** Up to `maxMs`, keeping `reserveMs` back for later steps, and never under `minMs`. */
  share(maxMs: number, reserveMs: number, minMs = 0): number {
    return Math.max(minMs, Math.min(maxMs, this.remaining() - reserveMs));
  }
}
