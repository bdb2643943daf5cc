/**
 * What a status callback means for a warm transfer. The person's callbacks
 * (their URL names the caller's room) move their progress on where the agent
 * is; the end of either leg ends the other when nobody should be left
 * behind: the caller gone ends the person's call (before or after the
 * join), the person gone after the join ends the caller's.
 */
import { findCalls } from '../call-control/find-call';
import type { LiveKitRooms } from '../livekit/rooms';
import type { RoomCallStatus } from '../status/room-status';
import { TwilioFor, updateCall } from '../twilio/calls';
import type { LogFields } from '../util/log';
import { consultRoom } from './consult-leg';
import { isLive, PERSON_ATTRIBUTES, PersonStatus, progressOf, reportProgress } from './progress';

export interface TransferLeg {
  room: string;
  identity: string;
  /** Set for the person's leg: the room of the call they were brought into. */
  callerRoom?: string;
  /** The leg's participant's attributes, when the callback found it. */
  attributes?: Record<string, string>;
}

export interface FollowContext {
  rooms: LiveKitRooms;
  twilio: TwilioFor;
  authToken: string;
}

/** Progress only moves forward; the final states end it. */
const ORDER: PersonStatus[] = ['dialing', 'ringing', 'answered', 'accepted', 'joined'];
const FROM_STATUS: Partial<Record<RoomCallStatus, PersonStatus>> = { ringing: 'ringing', active: 'answered', hangup: 'gone' };
const END_MS = 1500;

// `completed` ends a call in any state; `canceled` leaves an answered one alone (Twilio, Modifying Live Calls).
const end = (twilio: TwilioFor, callSid: string) => updateCall(twilio, callSid, { status: 'completed' }, END_MS);

export async function followTransfer(
  context: FollowContext,
  leg: TransferLeg,
  callSid: string,
  status: RoomCallStatus | undefined,
): Promise<LogFields> {
  if (!status) return {};
  if (leg.callerRoom) return followPerson(context, leg.callerRoom, leg.identity, callSid, status);
  if (status !== 'hangup') return {};
  // The caller's participant is still here and nobody was ever brought in: nothing to look for.
  if (leg.attributes && !leg.attributes[PERSON_ATTRIBUTES.status]) return {};
  return endPersonOf(context, leg.room);
}

async function followPerson(
  context: FollowContext,
  callerRoom: string,
  identity: string,
  callSid: string,
  status: RoomCallStatus,
): Promise<LogFields> {
  const next = FROM_STATUS[status];
  if (!next) return {};
  const legs = await findCalls(context.rooms, callerRoom, context.authToken);
  const caller = legs === 'failed' ? undefined : legs.find((l) => l.role === 'caller');
  const progress = caller && progressOf(caller.attributes, callerRoom, context.authToken);
  // Only this person's call moves a live progress, and only forward. Declined or failed says why
  // they left: a later `gone` does not overwrite it.
  if (progress && isLive(progress.status) && progress.callSid !== callSid) return { transfer: 'other-person' };
  if (
    progress?.callSid === callSid &&
    (!isLive(progress.status) || (next !== 'gone' && ORDER.indexOf(next) <= ORDER.indexOf(progress.status)))
  )
    return {};
  // Joined: by the progress, or by their participant here, should that write have been lost.
  const moved = legs !== 'failed' && legs.some((l) => l.role === 'person' && l.callSid === callSid && l.callerRoom === callerRoom);
  const joined = moved || (progress?.callSid === callSid && progress.status === 'joined');
  let endedCaller: Awaited<ReturnType<typeof end>> | undefined;
  let endedPerson: Awaited<ReturnType<typeof end>> | undefined;
  // The person left a joined call: the caller is not left alone in the room.
  if (next === 'gone' && joined && caller) endedCaller = await end(context.twilio, caller.callSid);
  // The person answered after the caller hung up: nobody is there for them.
  if (next === 'answered' && legs !== 'failed' && !caller) endedPerson = await end(context.twilio, callSid);
  const reported = await reportProgress(
    context.rooms,
    callerRoom,
    context.authToken,
    {
      status: next,
      callSid,
      // The progress record may be missing (its write failed): the identity names the target.
      target: progress?.callSid === callSid ? progress.target : identity.replace(/^human-/, ''),
      ...(progress?.via ? { via: progress.via } : {}),
    },
    caller?.identity,
  );
  const outcome = (e: typeof endedCaller) => (typeof e === 'object' ? e.error.code : e);
  return { transfer: next, callerEnded: outcome(endedCaller), personEnded: outcome(endedPerson), progress: reported.attributes };
}

/** The caller's call ended: the person they were to meet goes too, wherever they are. */
async function endPersonOf(context: FollowContext, room: string): Promise<LogFields> {
  const ended: string[] = [];
  const here = await findCalls(context.rooms, room, context.authToken);
  const caller = here === 'failed' ? undefined : here.find((l) => l.role === 'caller');
  const progress = caller && progressOf(caller.attributes, room, context.authToken);
  if (progress && isLive(progress.status)) {
    await end(context.twilio, progress.callSid);
    ended.push(progress.callSid);
  }
  // The caller's participant (and its progress) may be gone already: the person's own participant says where they are.
  const waiting = await findCalls(context.rooms, consultRoom(room), context.authToken);
  for (const legs of [here, waiting]) {
    if (legs === 'failed') continue;
    for (const person of legs.filter((l) => l.role === 'person' && l.callerRoom === room && !ended.includes(l.callSid))) {
      await end(context.twilio, person.callSid);
      ended.push(person.callSid);
    }
  }
  return ended.length ? { transfer: 'person-ended', personCalls: ended.length } : {};
}
