/**
 * One call per IdempotencyKey (./idempotency): claim the key, or answer as
 * the earlier request with it did (./earlier-request); fence the claim just
 * before Twilio is asked for the call, so that from then on no other request
 * can take it over; record the outcome for retries. Sync has a share of the
 * request's time of its own, so a slow Sync can never push the answer past
 * the function's deadline: the claim must be settled within
 * {@link CLAIM_PHASE_MS}, or nothing is placed.
 */
import { randomUUID } from 'node:crypto';
import type { Budget } from '../util/budget';
import { answerEarlier, unavailable } from './earlier-request';
import { Held, IDEMPOTENCY_SYNC_SERVICE, Outcome, Placing, syncIdempotencyStore } from './idempotency';
import { OutboundDependencies, Prepared, Stop, SYNC_BUDGET_MS } from './steps';

/** By then the key is this request's, or the request has been answered. */
export const CLAIM_PHASE_MS = 2500;
/** Time kept back for the fence and for recording the outcome. */
export const FENCE_MS = 700;
export const SETTLE_MS = 700;

/** What placing answered: a Stop (with `uncertain` when the call may exist) or the placed call. */
export type PlaceResult = Stop & { uncertain?: { sessionClosed: boolean }; placed?: Record<string, string> };

/** `beforeCall` is given to the placing step: it says whether Twilio may now be asked for the call. */
export async function oncePerKey(
  key: string,
  prepared: Prepared,
  deps: OutboundDependencies,
  budget: Budget,
  place: (beforeCall: () => Promise<boolean>) => Promise<PlaceResult>,
): Promise<PlaceResult> {
  const store = syncIdempotencyStore(deps.twilio, IDEMPOTENCY_SYNC_SERVICE);
  const { request } = prepared;
  const mine: Placing = {
    state: 'placing',
    owner: randomUUID(),
    at: deps.now(),
    room: request.roomName,
    identity: request.participantIdentity,
  };
  const phaseLeft = () => Math.max(CLAIM_PHASE_MS - budget.elapsed(), 200);

  const claim = await store.claim(key, mine, Math.min(SYNC_BUDGET_MS, phaseLeft()));
  if (claim === 'unavailable') return unavailable();
  let held: Held;
  if ('existing' in claim) {
    // The room this request would have made never existed: only an earlier one's goes in the log.
    const earlier = await answerEarlier(claim, key, mine, store, { prepared, deps, withinMs: phaseLeft });
    if ('reply' in earlier) return earlier;
    held = earlier;
  } else held = claim;
  if (budget.elapsed() > CLAIM_PHASE_MS) {
    await store.settle(key, undefined, held, 300);
    return unavailable();
  }

  const fence: { lost: boolean } = { lost: false };
  const result = await place(async () => {
    const fenced = await store.fence(key, mine, held, Math.min(FENCE_MS, budget.remaining() - SETTLE_MS));
    if (typeof fenced === 'object') held = fenced;
    else fence.lost = fenced === 'lost';
    return typeof fenced === 'object';
  });
  // A request that lost the key records nothing: the claim is another's now.
  if (fence.lost) return result;
  const outcome: Outcome | undefined = result.placed
    ? { state: 'placed', body: result.placed }
    : result.uncertain
      ? { state: 'uncertain', ...result.uncertain }
      : undefined;
  // Should recording fail, a retry replays from the room, where the call's binding is (./earlier-request).
  const recorded = await store.settle(key, outcome, held, Math.max(Math.min(SYNC_BUDGET_MS, budget.remaining() - 100), 200));
  return { ...result, fields: { ...result.fields, idempotencyRecord: recorded } };
}
