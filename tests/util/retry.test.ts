/** The resend loop every outgoing request shares: attempts, waits, deadline and Retry-After. */
import { backoffMs, retryAfterMs, retryWithin, withRetries } from '../../src/util/retry';

const failing = (times: number, error: unknown = new Error('passing')) => {
  let calls = 0;
  return {
    attempt: async (n: number) => {
      calls += 1;
      if (n <= times) throw error;
      return `ok after ${n}`;
    },
    calls: () => calls,
  };
};

describe('withRetries', () => {
  const waits: number[] = [];
  const options = { attempts: 4, remaining: () => 10_000, minAttemptMs: 100, sleep: async (ms: number) => void waits.push(ms) };
  beforeEach(() => (waits.length = 0));

  test('resends what may be resent, until it succeeds', async () => {
    const work = failing(2);
    await expect(withRetries(work.attempt, () => ({}), options)).resolves.toBe('ok after 3');
    expect(work.calls()).toBe(3);
  });

  test('never resends what the verdict refuses', async () => {
    const work = failing(1);
    await expect(withRetries(work.attempt, () => false, options)).rejects.toThrow('passing');
    expect(work.calls()).toBe(1);
  });

  test('stops after the attempts, with the last failure', async () => {
    const work = failing(10);
    await expect(withRetries(work.attempt, () => ({}), options)).rejects.toThrow('passing');
    expect(work.calls()).toBe(4);
  });

  test("honours the far end's Retry-After instead of its own backoff", async () => {
    await withRetries(failing(1).attempt, () => ({ afterMs: 1234 }), options);
    expect(waits).toEqual([1234]);
  });

  test('gives up rather than wait past the deadline', async () => {
    const work = failing(1);
    await expect(withRetries(work.attempt, () => ({ afterMs: 5000 }), { ...options, remaining: () => 1000 })).rejects.toThrow('passing');
    expect(waits).toEqual([]);
  });
});

describe('backoff', () => {
  test('full jitter under a cap that doubles per attempt, up to the maximum', () => {
    expect(backoffMs(1, { random: () => 1 })).toBe(50);
    expect(backoffMs(3, { random: () => 1 })).toBe(200);
    expect(backoffMs(10, { random: () => 1 })).toBe(800);
    expect(backoffMs(3, { random: () => 0 })).toBe(0);
    expect(backoffMs(2, { random: () => 0.5, baseDelayMs: 100 })).toBe(100);
  });
});

describe('Retry-After', () => {
  test('seconds, an HTTP date, or nothing usable', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(['2'])).toBe(2000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});

describe('retryWithin', () => {
  test('each attempt gets what is left (at most attemptMs), and one that stalls past it is cut off', async () => {
    const given: number[] = [];
    const started = Date.now();
    const stall = (timeout: number) => {
      given.push(timeout);
      return new Promise<never>(() => undefined);
    };
    await expect(retryWithin(600, { attempts: 3, minAttemptMs: 100, attemptMs: 250, what: 'stand-in' }, stall, () => ({}))).rejects.toThrow(
      'stand-in did not answer',
    );
    expect(given[0]).toBe(250);
    expect(given.length).toBeGreaterThanOrEqual(2);
    expect(given.every((t) => t >= 100 && t <= 250)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1200);
  });
});
