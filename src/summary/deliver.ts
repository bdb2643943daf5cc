/**
 * Posts a signed webhook, and resends it while time allows when the receiver
 * could not be reached, answered 429 or 5xx, or did not answer in time: the
 * event id stays the same, so a receiver that got it already counts it once.
 * Any 2xx is delivery; another 4xx is the receiver's refusal, final.
 */
import { retryWithin } from '../util/retry';
import { webhookHeaders } from './sign';

export type Delivery =
  { outcome: 'delivered'; status: number; attempts: number } | { outcome: 'undelivered'; reason: string; attempts: number };

class ReceiverError extends Error {
  constructor(
    readonly reason: string,
    readonly resend: boolean,
  ) {
    super(reason);
  }
}

/** One attempt's most: a receiver slower than this is given a second chance rather than all the time. */
const ATTEMPT_MS = 2500;

export async function deliverWebhook(
  url: string,
  key: Buffer,
  id: string,
  body: string,
  withinMs: number,
  now = Date.now,
): Promise<Delivery> {
  let attempts = 0;
  try {
    const status = await retryWithin(
      withinMs,
      { attempts: 3, minAttemptMs: 500, attemptMs: ATTEMPT_MS, baseDelayMs: 200, what: 'the summary webhook' },
      async (timeoutMs) => {
        attempts += 1;
        // Signed anew each attempt: the timestamp is when it was sent.
        const headers = webhookHeaders(key, id, Math.floor(now() / 1000), body);
        let response: Response;
        try {
          response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
        } catch (error) {
          const name = (error as { name?: unknown } | null)?.name;
          throw new ReceiverError(name === 'TimeoutError' ? 'timeout' : 'unreachable', true);
        }
        await response.body?.cancel().catch(() => undefined);
        if (response.status >= 200 && response.status < 300) return response.status;
        throw new ReceiverError(`HTTP ${response.status}`, response.status === 429 || response.status >= 500);
      },
      (error) => (error instanceof ReceiverError && error.resend ? {} : false),
    );
    return { outcome: 'delivered', status, attempts };
  } catch (error) {
    return { outcome: 'undelivered', reason: error instanceof ReceiverError ? error.reason : 'timeout', attempts };
  }
}
