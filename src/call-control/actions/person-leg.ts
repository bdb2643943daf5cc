/**
 * The person a warm transfer brought in, wherever they are: their call (from
 * the progress on the caller's participant), and their participant, in the
 * consult room before the join or in this room after a move.
 */
import { ROOM_BUDGET_MS } from '../../outbound/steps';
import { consultRoom } from '../../transfer/consult-leg';
import { isLive, Progress, progressOf } from '../../transfer/progress';
import { findCall, RoomCall } from '../find-call';
import type { ActionContext } from './action';

export interface PersonLeg {
  progress: Progress;
  /** Their participant and the room it is in, once their stream opened. */
  participant?: { room: string; call: RoomCall };
}

/** The live person of this call, `none`, or `failed` when LiveKit could not be asked. */
export async function personLeg(context: ActionContext): Promise<PersonLeg | 'none' | 'failed'> {
  const { room, call, legs, settings, deps, budget } = context;
  const joined = legs.find((leg) => leg.role === 'person');
  const progress = (call.role === 'caller' ? progressOf(call.attributes, room, settings.service.authToken) : undefined) ?? (joined && progressFromLeg(joined));
  if (!progress || !isLive(progress.status)) return 'none';
  if (joined) return { progress, participant: { room, call: joined } };
  const consult = consultRoom(room);
  const rooms = deps.rooms(settings.liveKit, budget.share(ROOM_BUDGET_MS, 100, 200));
  const waiting = await findCall(rooms, consult, settings.service.authToken, 'person');
  if (waiting === 'failed') return 'failed';
  return waiting === 'none' ? { progress } : { progress, participant: { room: consult, call: waiting } };
}

/** A joined person's leg, once the caller's participant (with the progress) is gone. */
function progressFromLeg(leg: RoomCall): Progress {
  return { status: 'joined', callSid: leg.callSid, target: leg.identity.replace(/^human-/, '') };
}

/** Twilio's way to end a call in that state: `canceled` before it is answered, `completed` after. */
export function endStatus(progress: Progress): 'canceled' | 'completed' {
  return progress.status === 'dialing' || progress.status === 'ringing' ? 'canceled' : 'completed';
}
