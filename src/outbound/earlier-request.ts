/**
 * What a request answers when its IdempotencyKey was claimed before
 * (./idempotency): the first answer again, "still in progress", "the call may
 * exist", or, when the claim's request has died, its place. A claim that
 * says "placing" is checked against its room first, since the room outlives
 * a lost outcome: a participant bound to a call (../twilio/call-binding) means
 * the call was placed, whatever Sync still says.
 */
import { isBound, BINDING_ATTRIBUTE } from '../twilio/call-binding';
import { errorReply, jsonReply } from '../twilio/reply';
import type { Budget } from '../util/budget';
import { ABANDONED_AFTER_MS, IdempotencyStore, Outcome, Placing } from './idempotency';
import { resentIdentity } from './request';
import { OutboundDependencies, Prepared, ROOM_BUDGET_MS, Stop } from './steps';

const inProgress = (retryAfterSeconds: number): Stop => ({
  reply: {
    ...errorReply(409, {
      code: 'request-in-progress',
      field: 'IdempotencyKey',
      message: 'A request with this IdempotencyKey is still being handled; no second call was placed',
    }),
    headers: { 'Retry-After': String(Math.max(1, retryAfterSeconds)) },
  },
  fields: { outcome: 'replay-in-progress' },
});

const mayExist = (sessionClosed: boolean): Stop => ({
  reply: errorReply(409, {
    code: 'call-may-exist',
    field: 'IdempotencyKey',
    callMayExist: true,
    message: `An earlier request with this IdempotencyKey timed out at Twilio or stopped half-way, so its call may exist${
      sessionClosed ? ' (its LiveKit session was closed)' : ''
    }; no second call was placed. Check the call log, or retry with a new key`,
  }),
  fields: { outcome: 'replay-uncertain' },
});

const unavailable = (): Stop => ({
  reply: errorReply(503, {
    code: 'idempotency-unavailable',
    field: 'IdempotencyKey',
    message: 'The IdempotencyKey could not be checked (Twilio Sync or LiveKit did not answer); no call was placed',
  }),
  fields: { outcome: 'idempotency-unavailable' },
});

const replayed = (body: Record<string, string>): Stop => ({
  reply: jsonReply(200, { ...body, replayed: true }),
  fields: { outcome: 'replayed', room: body.roomName, callSid: body.callSid },
});

/** What the claim's room shows: the bound call, a participant with no proven call, nothing, or no answer. */
async function roomOf(claim: Placing, prepared: Prepared, deps: OutboundDependencies, budget: Budget) {
  const rooms = deps.rooms(prepared.liveKit, budget.share(ROOM_BUDGET_MS, 200, 200));
  let present = false;
  for (const identity of [claim.identity, resentIdentity(claim.identity)]) {
    const state = await rooms.getParticipant(claim.room, identity);
    if (state === 'failed') return 'failed' as const;
    if (state === 'not-found') continue;
    present = true;
    const callSid = state.attributes['twilio.callSid'] ?? '';
    const facts = {
      room: claim.room,
      identity,
      callSid,
      accountSid: prepared.service.accountSid,
      flowSid: '',
      route: prepared.settings.route,
    };
    if (callSid && isBound(prepared.service.authToken, facts, state.attributes[BINDING_ATTRIBUTE])) {
      return {
        callSid,
        roomName: claim.room,
        participantIdentity: identity,
        status: state.attributes['twilio.callStatusDetail'] || 'queued',
      };
    }
  }
  return present ? ('present' as const) : ('none' as const);
}

/** `proceed` when this request now holds the key; otherwise the answer to give. */
export async function answerEarlier(
  found: { existing: Outcome; revision: string },
  key: string,
  mine: Placing,
  store: IdempotencyStore,
  context: { prepared: Prepared; deps: OutboundDependencies; budget: Budget },
): Promise<'proceed' | Stop> {
  const { existing } = found;
  if (existing.state === 'placed') return replayed(existing.body);
  if (existing.state === 'uncertain') return mayExist(existing.sessionClosed);
  const age = mine.at - existing.at;
  const abandoned = age >= ABANDONED_AFTER_MS;
  const room = await roomOf(existing, context.prepared, context.deps, context.budget);
  if (room === 'failed') return unavailable();
  if (typeof room === 'object') {
    // The outcome was lost on the way to Sync; record it for the next retry (best effort).
    await store.settle(key, { state: 'placed', body: room });
    return replayed(room);
  }
  if (!abandoned) return inProgress(Math.ceil((ABANDONED_AFTER_MS - age) / 1000));
  // Its request died after opening a session: a call may have been placed.
  if (room === 'present') return mayExist(false);
  const taken = await store.takeOver(key, mine, found.revision);
  if (taken === 'claimed') return 'proceed';
  return taken === 'lost' ? inProgress(Math.ceil(ABANDONED_AFTER_MS / 1000)) : unavailable();
}
