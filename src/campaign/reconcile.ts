/**
 * Settling a request whose outcome was lost, once its IdempotencyKey can no
 * longer do it, with Twilio's call list.
 *
 * Why this never calls anyone twice:
 * - It runs only at least RECONCILE_AFTER_MS (10 minutes) after the first
 *   request with the key was sent. `outbound` runs at most 10 s (the
 *   Functions execution limit) and creates its call, if ever, inside that
 *   time, so any call the lost request made exists in the call list long
 *   before this looks (queued calls included: they are listed by status,
 *   since a call Twilio has not yet dialled has no start time to filter on).
 * - It matches on the destination alone, not on From: a row without From
 *   is placed from whatever the deployed service's first caller ID is, and
 *   a wider match can only make the campaign call less, never twice.
 * - Every call to the number created from CLOCK_SKEW_MS before the first
 *   send on counts (this machine's clock and Twilio's may differ), except
 *   the calls the journal already holds for the row (its earlier
 *   attempts). Twilio's StartTime filter takes a date (YYYY-MM-DD, UTC), so
 *   the list starts the day before and the time is compared here.
 * - Found: the call is the row's, and is followed to its end like any other.
 *   Not found: the lost request placed nothing, and the row is sent again
 *   under a new key (the old one may still answer 409 call-may-exist).
 * What is left: a call list that lags its calls by more than ten minutes, which
 * Twilio does not document either way.
 */
import type { CallLookup, ListedCall } from './calls';

export const RECONCILE_AFTER_MS = 10 * 60_000;
/** A key is resent only while it is surely still held: 10 minutes from the first send, less a minute's margin. */
export const KEY_FRESH_MS = 9 * 60_000;
export const CLOCK_SKEW_MS = 5 * 60_000;
const LIST_LIMIT = 200;

export async function findLostCall(
  calls: CallLookup,
  request: { to: string; since: number; known: readonly string[] },
): Promise<{ callSid: string | null; listed: number }> {
  const day = new Date(request.since - CLOCK_SKEW_MS);
  const startedAfter = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() - 1));
  // Queued first, then started, one after the other: a call that leaves the queue between two lists read
  // at once would be in neither, and the row would be called again.
  const queued = await calls.list({ to: request.to, status: 'queued', limit: LIST_LIMIT });
  const started = await calls.list({ to: request.to, startedAfter, limit: LIST_LIMIT });
  const seen = new Map<string, ListedCall>();
  for (const call of [...started, ...queued]) seen.set(call.sid, call);
  const candidates = [...seen.values()].filter(
    (c) =>
      !request.known.includes(c.sid) &&
      (c.direction === '' || c.direction.startsWith('outbound')) &&
      // No creation time: it cannot be ruled out.
      (c.dateCreated === null || c.dateCreated.getTime() >= request.since - CLOCK_SKEW_MS),
  );
  candidates.sort((a, b) => (a.dateCreated?.getTime() ?? Infinity) - (b.dateCreated?.getTime() ?? Infinity));
  return { callSid: candidates[0]?.sid ?? null, listed: seen.size };
}
