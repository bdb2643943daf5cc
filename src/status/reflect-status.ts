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
import { endedUnanswered, isNewer, roomStatusOf, STATUS_TOPIC } from './room-status';
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
function participantOf(env: Env, event: Record<string, unknown>, routes: LoadedRoutes): { room: string; identity: string } | undefined {
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

export async function reflectCallStatus(env: Env, event: Record<string, unknown>, deps: StatusDependencies): Promise<HttpReply> {
  const started = Date.now();
  const callSid = clean(event.CallSid, 64);
  const twilioStatus = clean(event.CallStatus, 32);
  const answeredBy = clean(event.AnsweredBy, 32);
  const sipResponseCode = clean(event.SipResponseCode, 8);
  const line: LogFields = { fn: 'status', callSid, callStatus: twilioStatus, answeredBy };
  const done = (reply: HttpReply, fields: LogFields, level: 'info' | 'error' = 'info'): HttpReply => {
    deps.log({ ...line, ...fields, ms: Date.now() - started }, level);
    return reply;
  };

  const refused = checkLocalSignature(env, event, STATUS_QUERY);
  if (refused) return done(refused.reply, { outcome: 'rejected', reason: refused.reason }, 'error');

  const liveKit = readLiveKitSettings(env);
  if (!liveKit.ok) {
    const { reply, message } = misconfigured(describeProblems(liveKit.problems));
    return done(reply, { outcome: 'error', reason: message }, 'error');
  }

  const participant = participantOf(env, event, deps.routes());
  if (!participant)
    return done(jsonReply(200, { outcome: 'ignored' }), { outcome: 'ignored', reason: 'no room or identity for this call' });
  line.room = participant.room;

  const status = roomStatusOf(twilioStatus);
  const amd = ANSWERED_BY.test(answeredBy) ? answeredBy : '';
  if (!status && !amd) return done(jsonReply(200, { outcome: 'ignored' }), { outcome: 'ignored', reason: 'no status or AnsweredBy' });

  const rooms = deps.rooms(liveKit.value, ROOM_OP_MS);
  const current = await rooms.getAttributes(participant.room, participant.identity);
  if (current === 'not-found') return done(jsonReply(200, { outcome: 'unknown-participant' }), { outcome: 'unknown-participant' });
  if (current === 'failed') return done(jsonReply(200, { outcome: 'livekit-failed' }), { outcome: 'livekit-failed' }, 'error');

  const changes: Record<string, string> = {};
  if (status && isNewer(status, current['twilio.callStatus'])) {
    changes['twilio.callStatus'] = status;
    changes['twilio.callStatusDetail'] = twilioStatus;
  }
  if (amd && current['twilio.answeredBy'] !== amd) changes['twilio.answeredBy'] = amd;
  if (callSid && !current['twilio.callSid']) changes['twilio.callSid'] = callSid;
  if (!changes['twilio.callStatus'] && !changes['twilio.answeredBy']) {
    return done(jsonReply(200, { outcome: 'unchanged' }), { outcome: 'unchanged' });
  }

  const updated = await rooms.setAttributes(participant.room, participant.identity, changes);
  // A hidden or departed participant's attributes may reach nobody; the
  // data message reaches whoever is in the room, the agent included.
  const message = JSON.stringify({
    callSid,
    status: changes['twilio.callStatus'] ?? current['twilio.callStatus'] ?? '',
    detail: twilioStatus || undefined,
    answeredBy: amd || undefined,
    sipResponseCode: sipResponseCode || undefined,
  });
  const sent = await rooms.sendData(participant.room, STATUS_TOPIC, message);
  // Nobody answered: the hidden connector participant would otherwise wait for LiveKit's timeout.
  const removed =
    changes['twilio.callStatus'] === 'hangup' && endedUnanswered(twilioStatus)
      ? await rooms.removeParticipant(participant.room, participant.identity)
      : undefined;
  return done(jsonReply(200, { outcome: 'updated' }), { outcome: 'updated', attributes: updated, dataMessage: sent, removed });
}
