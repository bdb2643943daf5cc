/**
 * Time as the campaign sees it, injected so that the tests and the bench
 * can run it on a clock of their own. `sleep` resolves early, never
 * rejecting, when its signal aborts: the runner wakes on an answer. A sleep
 * of Infinity waits for the signal alone.
 */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      // setTimeout takes at most 2^31-1 ms; a longer wait is cut short and the caller looks again.
      const timer = Number.isFinite(ms) ? setTimeout(done, Math.min(Math.max(0, ms), 2 ** 31 - 1)) : undefined;
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};
