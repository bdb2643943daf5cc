/**
 * The `status` function: Twilio's call status and asynchronous answering
 * machine detection callbacks, reflected into the LiveKit room so the agent
 * knows when the phone rings, is answered, is busy or reaches a machine.
 *
 * Twilio may repeat or reorder callbacks, so the participant's current
 * attributes are read first and only a newer status is written. Every
 * callback is answered 200 (Twilio does not need to try again: an unknown
 * room or participant will not become known), within about 4 s.
 */
import { endedUnanswered, isNewer, RoomCallStatus, roomStatusOf, STATUS_TOPIC } from './room-status';
import { LiveKitSettings, readInboundSettings, readLiveKitSettings } from '../config/settings';
import { describeProblems, Env } from '../config/env-reader';
import { HttpReply, jsonReply, misconfigured } from '../twilio/reply';
import { inboundConnectRequest, readInboundCall } from '../incoming/connect-request';
import type { LiveKitRooms } from '../livekit/rooms';
import type { LogFields } from '../util/log';
import { checkLocalSignature } from '../twilio/request-auth';
import { inboundForRoute } from '../config/route-settings';
import type { LoadedRoutes } from '../config/routes';
import { clean } from '../util/sanitize';

/** Query parameters the service puts in the status callback URLs it gives Twilio. */
export const STATUS_QUERY = ['room', 'identity'] as const;

const ROOM_OP_MS = 1000;

export interface StatusDependencies {
  rooms: (settings: LiveKitSettings, timeoutMs: number) => LiveKitRooms;
  log: (fields: LogFields, level: 'info' | 'error') => void;
  routes: () => LoadedRoutes;
}

const ANSWERED_BY = /^(human|machine_start|machine_end_beep|machine_end_silence|machine_end_other|fax|unknown)$/;

/** Room and identity: from the URL outbound gave Twilio, or for an inbound call worked out as incoming did. */
interface Participant {
  room: string;
  identity: string;
}

function participantOf(env: Env, event: Record<string, unknown>, routes: LoadedRoutes): Participant | undefined {
  const room = clean(event.room, 128);
  const identity = clean(event.identity, 128);
  if (room && identity) return { room, identity };
  if (clean(event.Direction, 32) !== 'inbound') return undefined;
  const inbound = readInboundSettings(env);
  const call = readInboundCall(event);
  if (!inbound.ok || !call.callSid) return undefined;
  const request = inboundConnectRequest(call, inboundForRoute(inbound.value, routes.table.match(call.to)));
  return { room: request.roomName, identity: request.participantIdentity };
}

/** What one status or AMD callback says, cleaned. */
interface Callback {
  callSid: string;
  twilioStatus: string;
  /** The room's form of the status, when the callback carries one. */
  status: RoomCallStatus | undefined;
  /** A recognised AnsweredBy, or ''. */
  amd: string;
  sipResponseCode: string;
}

function readCallback(event: Record<string, unknown>): Callback {
  const twilioStatus = clean(event.CallStatus, 32);
  const answeredBy = clean(event.AnsweredBy, 32);
  return {
    callSid: clean(event.CallSid, 64),
    twilioStatus,
    status: roomStatusOf(twilioStatus),
    amd: ANSWERED_BY.test(answeredBy) ? answeredBy : '',
    sipResponseCode: clean(event.SipResponseCode, 8),
  };
}

/** The attributes this callback changes: only a newer status, a new AMD result, a missing call SID. */
function changesFor(callback: Callback, current: Record<string, string>): Record<string, string> {
  const changes: Record<string, string> = {};
  if (callback.status && isNewer(callback.status, current['twilio.callStatus'])) {
    changes['twilio.callStatus'] = callback.status;
    changes['twilio.callStatusDetail'] = callback.twilioStatus;
  }
  if (callback.amd && current['twilio.answeredBy'] !== callback.amd) changes['twilio.answeredBy'] = callback.amd;
  if (callback.callSid && !current['twilio.callSid']) changes['twilio.callSid'] = callback.callSid;
  return changes;
}

/** Writes the changes, tells the room, and removes the participant of a call nobody answered. */
async function apply(
  rooms: LiveKitRooms,
  participant: Participant,
  callback: Callback,
  changes: Record<string, string>,
  current: Record<string, string>,
): Promise<LogFields> {
  const attributes = await rooms.setAttributes(participant.room, participant.identity, changes);
  // A hidden or departed participant's attributes may reach nobody; the
  // data message reaches whoever is in the room, the agent included.
  const message = JSON.stringify({
    callSid: callback.callSid,
    status: changes['twilio.callStatus'] ?? current['twilio.callStatus'] ?? '',
    detail: callback.twilioStatus || undefined,
    answeredBy: callback.amd || undefined,
    sipResponseCode: callback.sipResponseCode || undefined,
  });
  const dataMessage = await rooms.sendData(participant.room, STATUS_TOPIC, message);
  // Nobody answered: the hidden connector participant would otherwise wait for LiveKit's timeout.
  const removed =
    changes['twilio.callStatus'] === 'hangup' && endedUnanswered(callback.twilioStatus)
      ? await rooms.removeParticipant(participant.room, participant.identity)
      : undefined;
  return { outcome: 'updated', attributes, dataMessage, removed };
}

export async function reflectCallStatus(env: Env, event: Record<string, unknown>, deps: StatusDependencies): Promise<HttpReply> {
  const started = Date.now();
  const callback = readCallback(event);
  const line: LogFields = {
    fn: 'status',
    callSid: callback.callSid,
    callStatus: callback.twilioStatus,
    answeredBy: clean(event.AnsweredBy, 32),
  };
  const done = (fields: LogFields, level: 'info' | 'error' = 'info', reply = jsonReply(200, { outcome: fields.outcome })): HttpReply => {
    deps.log({ ...line, ...fields, ms: Date.now() - started }, level);
    return reply;
  };

  const refused = checkLocalSignature(env, event, STATUS_QUERY);
  if (refused) return done({ outcome: 'rejected', reason: refused.reason }, 'error', refused.reply);

  const liveKit = readLiveKitSettings(env);
  if (!liveKit.ok) {
    const { reply, message } = misconfigured(describeProblems(liveKit.problems));
    return done({ outcome: 'error', reason: message }, 'error', reply);
  }

  const participant = participantOf(env, event, deps.routes());
  if (!participant) return done({ outcome: 'ignored', reason: 'no room or identity for this call' });
  line.room = participant.room;
  if (!callback.status && !callback.amd) return done({ outcome: 'ignored', reason: 'no status or AnsweredBy' });

  const rooms = deps.rooms(liveKit.value, ROOM_OP_MS);
  const current = await rooms.getAttributes(participant.room, participant.identity);
  if (current === 'not-found') return done({ outcome: 'unknown-participant' });
  if (current === 'failed') return done({ outcome: 'livekit-failed' }, 'error');

  const changes = changesFor(callback, current);
  if (!changes['twilio.callStatus'] && !changes['twilio.answeredBy']) return done({ outcome: 'unchanged' });
  return done(await apply(rooms, participant, callback, changes, current));
}
