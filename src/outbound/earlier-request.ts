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
import { ABANDONED_AFTER_MS, Claimed, Held, IdempotencyStore, Outcome, Placing } from './idempotency';
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

export const unavailable = (): Stop => ({
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
async function roomOf(claim: Claimed, prepared: Prepared, deps: OutboundDependencies, timeoutMs: number) {
  const rooms = deps.rooms(prepared.liveKit, timeoutMs);
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

/** Claims written before claims carried an owner and a time are taken as fresh, never as abandoned. */
function ageOf(claim: Claimed, now: number): number {
  return typeof claim.at === 'number' && typeof claim.room === 'string' ? Math.max(0, now - claim.at) : 0;
}

/** This request's hold on the key when it may go on; otherwise the answer to give. */
export async function answerEarlier(
  found: { existing: Outcome; revision: string },
  key: string,
  mine: Placing,
  store: IdempotencyStore,
  context: { prepared: Prepared; deps: OutboundDependencies; withinMs: () => number },
): Promise<Held | Stop> {
  const { existing } = found;
  if (existing.state === 'free') return takeOver(found, key, mine, store, context.withinMs());
  if (existing.state === 'placed') return replayed(existing.body);
  if (existing.state === 'uncertain') return mayExist(existing.sessionClosed);
  const age = ageOf(existing, mine.at);
  const abandoned = age >= ABANDONED_AFTER_MS;
  const inProgressFor = Math.ceil((ABANDONED_AFTER_MS - age) / 1000);
  if (typeof existing.room !== 'string') return inProgress(inProgressFor);
  const room = await roomOf(existing, context.prepared, context.deps, Math.min(ROOM_BUDGET_MS, context.withinMs()));
  if (room === 'failed') return unavailable();
  if (typeof room === 'object') {
    // The outcome was lost on the way to Sync; the room outlives it.
    await store.settle(key, { state: 'placed', body: room }, { revision: found.revision }, Math.min(700, context.withinMs()));
    return replayed(room);
  }
  if (!abandoned) return inProgress(inProgressFor);
  // Its request died once it could have placed the call (it had fenced the claim), or after opening a session.
  if (existing.state === 'calling' || room === 'present') return mayExist(false);
  return takeOver(found, key, mine, store, context.withinMs());
}

async function takeOver(
  found: { revision: string },
  key: string,
  mine: Placing,
  store: IdempotencyStore,
  withinMs: number,
): Promise<Held | Stop> {
  const taken = await store.takeOver(key, mine, found.revision, withinMs);
  if (typeof taken === 'object') return taken;
  return taken === 'lost' ? inProgress(Math.ceil(ABANDONED_AFTER_MS / 1000)) : unavailable();
}
