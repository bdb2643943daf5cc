/**
 * The person a warm transfer brought in, wherever they are: their call (from
 * the progress on the caller's participant), and their participant, in the
 * consult room before the join or in this room after a move.
 */
import { ROOM_BUDGET_MS } from '../../outbound/steps';
import { consultRoom } from '../../transfer/consult-leg';
import { isLive, Progress, progressOf } from '../../transfer/progress';
import { findCalls, RoomCall } from '../find-call';
import type { ActionContext } from './action';

export interface PersonLeg {
  progress: Progress;
  /** Their participant and the room it is in, once their stream opened. */
  participant?: { room: string; call: RoomCall };
}

/** The live person of this call, `none`, or `failed` when LiveKit could not be asked. */
export async function personLeg(context: ActionContext): Promise<PersonLeg | 'none' | 'failed'> {
  const { room, call, legs, settings, deps, budget } = context;
  // Only a person brought into this very call: their binding names this room as the caller's.
  const ours = (leg: RoomCall) => leg.role === 'person' && leg.callerRoom === room;
  const joined = legs.find(ours);
  const progress =
    (call.role === 'caller' ? progressOf(call.attributes, room, settings.service.authToken) : undefined) ??
    (joined && progressFromLeg(joined));
  if (!progress || !isLive(progress.status)) return 'none';
  if (joined) return { progress, participant: { room, call: joined } };
  const consult = consultRoom(room);
  const rooms = deps.rooms(settings.liveKit, budget.share(ROOM_BUDGET_MS, 100, 200));
  const there = await findCalls(rooms, consult, settings.service.authToken);
  if (there === 'failed') return 'failed';
  // Their participant, for the call the progress names: never a stale one of an earlier person.
  const waiting = there.find((leg) => ours(leg) && leg.callSid === progress.callSid);
  return waiting ? { progress, participant: { room: consult, call: waiting } } : { progress };
}

/** A joined person's leg, once the caller's participant (with the progress) is gone. */
function progressFromLeg(leg: RoomCall): Progress {
  return { status: 'joined', callSid: leg.callSid, target: leg.identity.replace(/^human-/, '') };
}

/**
 * How the person's call is ended, in whatever state: `completed` "will attempt
 * to hang up a call even if it's already in progress", while `canceled` "will
 * not affect calls already in progress" (Twilio, Modifying Live Calls), and
 * the progress may lag behind Twilio.
 */
export const END_PERSON = { status: 'completed' } as const;
