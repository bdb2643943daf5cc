/**
 * What a status callback means for a warm transfer. The person's callbacks
 * (their URL names the caller's room) move their progress on where the agent
 * is; the end of either leg ends the other when nobody should be left
 * behind: the caller gone ends the person's call (before or after the
 * join), the person gone after the join ends the caller's.
 */
import { findCall, findCalls } from '../call-control/find-call';
import type { LiveKitRooms } from '../livekit/rooms';
import type { RoomCallStatus } from '../status/room-status';
import { TwilioFor, updateCall } from '../twilio/calls';
import type { LogFields } from '../util/log';
import { consultRoom } from './consult-leg';
import { isLive, PersonStatus, progressOf, reportProgress } from './progress';

export interface TransferLeg {
  room: string;
  identity: string;
  /** Set for the person's leg: the room of the call they were brought into. */
  callerRoom?: string;
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

const end = (twilio: TwilioFor, callSid: string, status: 'completed' | 'canceled') => updateCall(twilio, callSid, { status }, END_MS);

export async function followTransfer(
  context: FollowContext,
  leg: TransferLeg,
  callSid: string,
  status: RoomCallStatus | undefined,
): Promise<LogFields> {
  if (!status) return {};
  if (leg.callerRoom) return followPerson(context, leg.callerRoom, callSid, status);
  return status === 'hangup' ? endPersonOf(context, leg.room) : {};
}

async function followPerson(context: FollowContext, callerRoom: string, callSid: string, status: RoomCallStatus): Promise<LogFields> {
  const next = FROM_STATUS[status];
  if (!next) return {};
  const caller = await findCall(context.rooms, callerRoom, context.authToken);
  const progress = typeof caller === 'object' ? progressOf(caller.attributes, callerRoom, context.authToken) : undefined;
  // Only this person's call moves the progress, and only forward.
  if (progress && progress.callSid !== callSid) return { transfer: 'other-person' };
  if (progress && next !== 'gone' && (!isLive(progress.status) || ORDER.indexOf(next) <= ORDER.indexOf(progress.status))) return {};
  const endedCaller =
    next === 'gone' && progress?.status === 'joined' && typeof caller === 'object'
      ? await end(context.twilio, caller.callSid, 'completed')
      : undefined;
  const reported = await reportProgress(context.rooms, callerRoom, context.authToken, {
    status: next,
    callSid,
    target: progress?.target ?? '',
    ...(progress?.via ? { via: progress.via } : {}),
  });
  return {
    transfer: next,
    callerEnded: typeof endedCaller === 'object' ? endedCaller.error.code : endedCaller,
    progress: reported.attributes,
  };
}

/** The caller's call ended: the person they were to meet goes too, wherever they are. */
async function endPersonOf(context: FollowContext, room: string): Promise<LogFields> {
  const ended: string[] = [];
  const here = await findCalls(context.rooms, room, context.authToken);
  const caller = here === 'failed' ? undefined : here.find((l) => l.role === 'caller');
  const progress = caller && progressOf(caller.attributes, room, context.authToken);
  if (progress && isLive(progress.status)) {
    const before = progress.status === 'dialing' || progress.status === 'ringing';
    await end(context.twilio, progress.callSid, before ? 'canceled' : 'completed');
    ended.push(progress.callSid);
  }
  // The caller's participant (and its progress) may be gone already: the person's own participant says where they are.
  const waiting = await findCalls(context.rooms, consultRoom(room), context.authToken);
  for (const legs of [here, waiting]) {
    if (legs === 'failed') continue;
    for (const person of legs.filter((l) => l.role === 'person' && !ended.includes(l.callSid))) {
      await end(context.twilio, person.callSid, 'completed');
      ended.push(person.callSid);
    }
  }
  return ended.length ? { transfer: 'person-ended', personCalls: ended.length } : {};
}
