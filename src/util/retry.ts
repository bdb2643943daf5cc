/**
 * Resending a request that failed in passing, within the time the caller
 * has. Whether a failure may be resent is the caller's to say, request by
 * request (beside each use, with its sources): only a request that cannot
 * act twice, or that the far end says it never processed, is sent again.
 *
 * Backoff is "full jitter" (a random wait up to an exponentially growing
 * cap), so that many containers refused at the same moment do not come back
 * at the same moment. A `Retry-After` the far end gave is honoured instead,
 * when it leaves time for the attempt; nothing depends on it being sent.
 */
import { withDeadline } from './deadline';

/** What a failure allows: another attempt (after `afterMs` when the far end said so), or none. */
export type Resend = false | { afterMs?: number };

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Milliseconds left of the caller's budget. */
  remaining: () => number;
  /** Another attempt is started only with at least this much left after the wait. */
  minAttemptMs: number;
  /** The first backoff's cap; doubled for each attempt after. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The wait before attempt `n + 1`. */
export function backoffMs(n: number, options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'random'>): number {
  const cap = Math.min(options.maxDelayMs ?? 800, (options.baseDelayMs ?? 50) * 2 ** (n - 1));
  return Math.round((options.random ?? Math.random)() * cap);
}

/**
 * Runs `attempt` until it succeeds, or throws the last failure: when
 * `resend` refuses it, the attempts are spent, or the wait would leave less
 * than `minAttemptMs`. `attempt` is given its number (1, 2, ...).
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  resend: (error: unknown) => Resend,
  options: RetryOptions,
): Promise<T> {
  for (let n = 1; ; n += 1) {
    try {
      return await attempt(n);
    } catch (error) {
      const verdict = resend(error);
      if (verdict === false || n >= options.attempts) throw error;
      const wait = verdict.afterMs ?? backoffMs(n, options);
      if (options.remaining() - wait < options.minAttemptMs) throw error;
      await (options.sleep ?? pause)(wait);
    }
  }
}

export interface WithinOptions {
  attempts: number;
  /** No attempt is started, nor given less time, than this. */
  minAttemptMs: number;
  /** One attempt's most, so that a slow answer leaves time for another. Default: all that is left. */
  attemptMs?: number;
  baseDelayMs?: number;
  /** Named in the deadline's error. */
  what: string;
}

/**
 * {@link withRetries} within `totalMs` all told: each attempt is given what
 * is left (at most `attemptMs`) as its timeout, and held to it by a deadline
 * of its own, in case the client's timeout does not fire.
 */
export function retryWithin<T>(
  totalMs: number,
  options: WithinOptions,
  attempt: (timeoutMs: number) => Promise<T>,
  resend: (error: unknown) => Resend,
): Promise<T> {
  const started = Date.now();
  const remaining = () => totalMs - (Date.now() - started);
  return withRetries(
    () => {
      const timeout = Math.max(Math.min(options.attemptMs ?? Infinity, remaining()), options.minAttemptMs);
      return withDeadline(attempt(timeout), timeout + 100, options.what);
    },
    resend,
    { attempts: options.attempts, remaining, minAttemptMs: options.minAttemptMs, baseDelayMs: options.baseDelayMs },
  );
}

/** A Retry-After header's value (seconds, or an HTTP date) in milliseconds, or undefined. */
export function retryAfterMs(value: unknown, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string' || !text.trim()) return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
