/**
 * The person's progress, where the agent is: attributes on the caller's
 * participant in the caller's room (`twilio.human.*`) and a data message on
 * topic `twilio.human`. Every step of the transfer reports here, whichever
 * function sees it (call-control, /consult, /status).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { findCall } from '../call-control/find-call';
import type { LiveKitRooms, RoomOutcome } from '../livekit/rooms';

export type PersonStatus =
  /** The call to them is placed. */
  | 'dialing'
  | 'ringing'
  /** They picked up and hear the brief. */
  | 'answered'
  /** Their stream is opening in the consult room (they pressed 1, when asked to). */
  | 'accepted'
  /** They pressed another key, or none in time. */
  | 'declined'
  /** In the caller's room (moved) or a conference with the caller. */
  | 'joined'
  /** Their call ended. */
  | 'gone'
  /** Their stream could not be opened. */
  | 'failed';

export const PERSON_TOPIC = 'twilio.human';

export const PERSON_ATTRIBUTES = {
  status: 'twilio.human.status',
  callSid: 'twilio.human.callSid',
  target: 'twilio.human.target',
  via: 'twilio.human.via',
  binding: 'twilio.human.binding',
  /** What add-human was asked to tell them: /consult says it once they have accepted. */
  brief: 'twilio.human.brief',
} as const;

/**
 * The person's call SID is acted on (cancelled, hung up, put in a
 * conference), and the agent can rewrite any attribute of its room: so, as
 * for the call itself (../twilio/call-binding), it counts only with an HMAC
 * keyed with the auth token over the room, the call SID and the target.
 * Without it an agent could write another call's SID there and have it ended.
 */
function personBinding(authToken: string, room: string, callSid: string, target: string): string {
  return createHmac('sha256', authToken).update(['livekit-twilio-person', room, callSid, target].join('\n')).digest('base64url');
}

export interface Progress {
  status: PersonStatus;
  callSid: string;
  target: string;
  /** How they joined: `move` or `conference`. */
  via?: string;
  /** Only with `dialing`: what they are to hear. */
  brief?: string;
}

/** Writes the progress onto the caller's participant and tells the room. Best effort: says what became of each. */
export async function reportProgress(
  rooms: LiveKitRooms,
  callerRoom: string,
  authToken: string,
  progress: Progress,
  /** The caller's participant, when the reporter knows it: one request less. */
  callerIdentity?: string,
): Promise<{ attributes: RoomOutcome | 'no-caller'; message: RoomOutcome }> {
  const caller = callerIdentity ? { identity: callerIdentity } : await findCall(rooms, callerRoom, authToken);
  const attributes =
    typeof caller === 'object'
      ? await rooms.setAttributes(callerRoom, caller.identity, {
          [PERSON_ATTRIBUTES.status]: progress.status,
          [PERSON_ATTRIBUTES.callSid]: progress.callSid,
          [PERSON_ATTRIBUTES.target]: progress.target,
          [PERSON_ATTRIBUTES.binding]: personBinding(authToken, callerRoom, progress.callSid, progress.target),
          ...(progress.via ? { [PERSON_ATTRIBUTES.via]: progress.via } : {}),
          ...(progress.status === 'dialing' ? { [PERSON_ATTRIBUTES.brief]: progress.brief ?? '' } : {}),
        })
      : caller === 'failed'
        ? 'failed'
        : 'no-caller';
  const { brief: _brief, ...told } = progress;
  const message = await rooms.sendData(callerRoom, PERSON_TOPIC, JSON.stringify(told));
  return { attributes, message };
}

/** The progress the caller's participant in `room` shows, when its binding holds; else none. */
export function progressOf(attributes: Record<string, string>, room: string, authToken: string): Progress | undefined {
  const status = attributes[PERSON_ATTRIBUTES.status] as PersonStatus | undefined;
  const callSid = attributes[PERSON_ATTRIBUTES.callSid];
  const target = attributes[PERSON_ATTRIBUTES.target] ?? '';
  if (!status || !callSid || !authToken) return undefined;
  const expected = Buffer.from(personBinding(authToken, room, callSid, target));
  const given = Buffer.from(attributes[PERSON_ATTRIBUTES.binding] ?? '');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  const via = attributes[PERSON_ATTRIBUTES.via];
  return { status, callSid, target, ...(via ? { via } : {}) };
}

/** Whether the person's call may still be live. */
export function isLive(status: PersonStatus): boolean {
  return status !== 'gone' && status !== 'declined' && status !== 'failed';
}
