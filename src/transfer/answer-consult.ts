/**
 * `/consult`: Twilio asks it what the person of a warm transfer does once
 * they have answered and heard the brief (and, when asked to, pressed 1).
 * It opens their connector session in the consult room (OUTBOUND, as for
 * any call the service placed: the participant joins at once and shows when
 * the stream starts), dispatched to no agent, bound as the call's person
 * leg, and answers `<Connect><Stream>`. The caller already gone, a key other
 * than 1, or LiveKit unable: a goodbye, and the call ends. Every outcome is
 * reported where the agent is (./progress).
 */
import type { Env } from '../config/env-reader';
import { LiveKitSettings, readFallbackSettings, readLiveKitSettings } from '../config/settings';
import { findCall } from '../call-control/find-call';
import { compactAttributes } from '../livekit/attributes';
import { ConnectTwilioCall, LiveKitError } from '../livekit/connector';
import type { LiveKitRooms } from '../livekit/rooms';
import { serviceFacts } from '../twilio/service';
import { bindingAttributes, ROLE_ATTRIBUTE } from '../twilio/call-binding';
import { HttpReply, misconfigured, xmlReply } from '../twilio/reply';
import { checkLocalSignature, localAuthProblems } from '../twilio/request-auth';
import { connectTwiml } from '../twilio/twiml';
import type { LogFields } from '../util/log';
import { clean } from '../util/sanitize';
import { CONSULT_QUERY, consultRoom, goodbyeTwiml, NO_AGENT, personIdentity } from './consult-leg';
import { isLive, PERSON_ATTRIBUTES, PersonStatus, progressOf, reportProgress } from './progress';
import { LIMITS } from '../config/rules';

export interface ConsultDependencies {
  connector: (settings: LiveKitSettings) => ConnectTwilioCall;
  rooms: (settings: LiveKitSettings, timeoutMs: number) => LiveKitRooms;
  log: (fields: LogFields, level: 'info' | 'error') => void;
}

const ROOM_OP_MS = 1000;

export async function answerConsult(env: Env, event: Record<string, unknown>, deps: ConsultDependencies): Promise<HttpReply> {
  const started = Date.now();
  const callSid = clean(event.CallSid, 64);
  const room = clean(event.room, 128);
  const target = clean(event.target, 32);
  const line: LogFields = { fn: 'consult', callSid, room };
  const { voice, language } = readFallbackSettings(env);
  const finish = (reply: HttpReply, fields: LogFields, level: 'info' | 'error' = 'info'): HttpReply => {
    deps.log({ ...line, ...fields, ms: Date.now() - started }, level);
    return reply;
  };
  const goodbye = (message: string) => xmlReply(goodbyeTwiml(message, voice, language));

  const liveKit = readLiveKitSettings(env);
  const unverifiable = localAuthProblems(env);
  if (unverifiable.length || !liveKit.ok) {
    const { message } = misconfigured('LiveKit settings or AUTH_TOKEN');
    return finish(goodbye('Sorry, this call cannot be connected right now.'), { outcome: 'error', reason: message }, 'error');
  }
  const refused = checkLocalSignature(env, event, CONSULT_QUERY);
  if (refused) return finish(refused.reply, { outcome: 'rejected', reason: refused.reason }, 'error');
  if (!room || !target || !/^CA[0-9a-f]{32}$/.test(callSid)) return finish(goodbye('Goodbye.'), { outcome: 'ignored' });

  const service = serviceFacts(env);
  const rooms = deps.rooms(liveKit.value, ROOM_OP_MS);

  // Nobody left behind: a person who answers after the caller hung up is told so, and not connected.
  const caller = await findCall(rooms, room, service.authToken);
  // The caller's participant is known by now: the progress goes straight onto it.
  const report = (status: PersonStatus) =>
    reportProgress(rooms, room, service.authToken, { status, callSid, target }, typeof caller === 'object' ? caller.identity : undefined);
  if (caller === 'none') return finish(goodbye('The caller has hung up. Goodbye.'), { outcome: 'caller-gone' });
  const progress = typeof caller === 'object' ? progressOf(caller.attributes, room, service.authToken) : undefined;
  // Only the person the call is waiting for, while it waits: not one cancelled meanwhile, nor an earlier one.
  if (progress && (progress.callSid !== callSid || !isLive(progress.status)))
    return finish(goodbye('This call is no longer needed. Goodbye.'), { outcome: 'stale' });
  if (event.accept === '1' && event.Digits !== '1') {
    await report('declined');
    return finish(goodbye('Goodbye.'), { outcome: 'declined' });
  }
  const brief = typeof caller === 'object' ? clean(caller.attributes[PERSON_ATTRIBUTES.brief], LIMITS.speech) : '';

  const consult = consultRoom(room);
  const identity = personIdentity(target);
  const route = clean(event.route, 64);
  const facts = {
    room: consult,
    identity,
    callSid,
    accountSid: service.accountSid,
    flowSid: '',
    route,
    role: 'person' as const,
    callerRoom: room,
  };
  try {
    const streamUrl = await deps.connector(liveKit.value)({
      direction: 'outbound',
      roomName: consult,
      participantIdentity: identity,
      participantName: target,
      participantMetadata: '',
      participantAttributes: compactAttributes({
        'twilio.callSid': callSid,
        'twilio.accountSid': service.accountSid,
        'twilio.direction': 'outbound',
        'twilio.route': route,
        'twilio.phoneNumber': clean(event.To, 64),
        [ROLE_ATTRIBUTE]: 'person',
        ...bindingAttributes(service.authToken, facts),
      }),
      agents: [{ agentName: NO_AGENT, metadata: '' }],
      destinationCountry: '',
    });
    await report('accepted');
    return finish(xmlReply(connectTwiml({ streamUrl, greeting: { text: brief, voice, language } })), { outcome: 'connected' });
  } catch (error) {
    await report('failed');
    const reason = error instanceof LiveKitError ? `livekit ${error.kind}: ${error.message}` : 'internal error';
    return finish(goodbye('Sorry, this call cannot be connected right now. Goodbye.'), { outcome: 'failed', reason }, 'error');
  }
}
