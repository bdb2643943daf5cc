/**
 * A clock for the campaign that jumps instead of waiting: a sleep resolves,
 * in order of when it is due, as soon as real work in flight has had a
 * moment (`settleMs` of real time) to go on. Hours of calling windows and
 * retry delays pass in milliseconds, and every time the campaign reads is
 * the one it would have read. Work handed to `hold` (a request to the
 * service, a call fetch) takes no virtual time: the clock stands still
 * until it is done, so what happens is the same from run to run.
 */
import type { Clock } from '../../src/campaign/clock';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers: Timer[] = [];
  private pending = false;
  private holds = 0;

  constructor(
    start: number,
    private readonly settleMs = 2,
  ) {
    this.t = start;
  }

  now = (): number => this.t;

  /** Moves time on by hand (the keys of an earlier run expiring, say). */
  advance(ms: number): void {
    this.t += ms;
  }

  sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      // Waiting only for an answer: no time passes for it.
      if (!Number.isFinite(ms)) {
        signal?.addEventListener('abort', () => resolve(), { once: true });
        return;
      }
      const onAbort = () => {
        const i = this.timers.indexOf(timer);
        if (i >= 0) this.timers.splice(i, 1);
        resolve();
      };
      const timer: Timer = {
        at: this.t + Math.max(0, ms),
        seq: (this.seq += 1),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.timers.push(timer);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.schedule();
    });

  /** Keeps the clock still until `work` is done. */
  hold<T>(work: Promise<T>): Promise<T> {
    this.holds += 1;
    const release = () => {
      this.holds -= 1;
      if (this.holds === 0 && this.timers.length) this.schedule();
    };
    work.then(release, release);
    return work;
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    setTimeout(() => this.pump(), this.settleMs);
  }

  private pump(): void {
    this.pending = false;
    if (!this.timers.length || this.holds > 0) return;
    this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = this.timers.shift()!;
    this.t = Math.max(this.t, next.at);
    next.resolve();
    if (this.timers.length) this.schedule();
  }
}
