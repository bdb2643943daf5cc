/**
 * The `outbound` API: validate everything, create the LiveKit connector
 * session, place the Twilio call that streams into it, and clean up after
 * whichever step fails. Answers within {@link TOTAL_BUDGET_MS} in every case
 * (Studio's Run Function gives 10 s).
 */
import { statusCallbackUrl } from '../status/room-status';
import { LiveKitSettings, readLiveKitSettings } from '../config/settings';
import { withDeadline } from '../util/deadline';
import { describeProblems, Env } from '../config/env-reader';
import { errorReply, HttpReply, jsonReply } from '../twilio/reply';
import { compactAttributes } from '../incoming/connect-request';
import { ConnectTwilioCall, LiveKitError, liveKitConnector } from '../livekit/connector';
import { LiveKitRooms, liveKitRooms } from '../livekit/rooms';
import { LogFields, logLine } from '../util/log';
import { readOutboundSettings } from './settings';
import { CallOptions, OutboundRequest, readOutboundRequest, RequestError } from './request';
import { checkLocalSignature } from '../twilio/request-auth';
import { outboundForRoute } from '../config/route-settings';
import type { LoadedRoutes } from '../config/routes';
import { routesFromAssets } from '../config/routes-asset';
import { functionUrl } from '../twilio/signature';
import { callCreateParams, classifyTwilioFailure, TwilioCalls } from './twilio-call';
import { connectTwiml } from '../twilio/twiml';

export const TOTAL_BUDGET_MS = 7500;
const LIVEKIT_BUDGET_MS = 3000;
const ROOM_BUDGET_MS = 1000;

export interface OutboundDependencies {
  connector: (settings: LiveKitSettings) => ConnectTwilioCall;
  rooms: (settings: LiveKitSettings, timeoutMs: number) => LiveKitRooms;
  /** A Twilio client whose requests give up after `timeoutMs`. */
  twilio: (timeoutMs: number) => TwilioCalls;
  log: (fields: LogFields, level: 'info' | 'error') => void;
  now: () => number;
  routes: () => LoadedRoutes;
}

export function outboundDependencies(twilio: OutboundDependencies['twilio']): OutboundDependencies {
  return { connector: liveKitConnector, rooms: liveKitRooms, twilio, log: logLine, now: Date.now, routes: routesFromAssets };
}

/**
 * The call's options with this service's `status` function as the status
 * callback (all four events) and, when machine detection is asked for, as the
 * asynchronous AMD callback: unless the request chose its own.
 */
export function withStatusCallbacks(request: OutboundRequest, domainName: string): CallOptions {
  const url = statusCallbackUrl(functionUrl(domainName, ''), request.roomName, request.participantIdentity);
  const call: CallOptions = { ...request.call };
  if (!call.statusCallback) {
    call.statusCallback = url;
    call.statusCallbackEvent = ['initiated', 'ringing', 'answered', 'completed'];
    call.statusCallbackMethod = 'POST';
  }
  // Asynchronous AMD: LiveKit's TwiML is not kept waiting, and the result comes here.
  if (call.machineDetection && call.asyncAmd !== false && !call.asyncAmdStatusCallback) {
    call.asyncAmd = true;
    call.asyncAmdStatusCallback = url;
    call.asyncAmdStatusCallbackMethod = 'POST';
  }
  return call;
}

/** LiveKit's `wss://` connect URL in the `https://` form Twilio fetches TwiML from (the seed's way). */
export function twimlUrlFor(connectUrl: string): string {
  return connectUrl.replace(/^wss:/, 'https:');
}

export async function placeOutboundCall(env: Env, event: Record<string, unknown>, deps: OutboundDependencies): Promise<HttpReply> {
  const started = deps.now();
  const remaining = () => TOTAL_BUDGET_MS - (deps.now() - started);
  const line: LogFields = { fn: 'outbound' };
  const finish = (reply: HttpReply, fields: LogFields): HttpReply => {
    deps.log({ ...line, ...fields, status: reply.status, ms: deps.now() - started }, reply.status >= 400 ? 'error' : 'info');
    return reply;
  };

  const refused = checkLocalSignature(env, event);
  if (refused) return finish(refused.reply, { outcome: 'rejected', reason: refused.reason });

  const liveKit = readLiveKitSettings(env);
  const outbound = readOutboundSettings(env);
  if (!liveKit.ok || !outbound.ok) {
    const problems = [...(liveKit.ok ? [] : liveKit.problems), ...(outbound.ok ? [] : outbound.problems)];
    const message = `The service is misconfigured: ${describeProblems(problems)}`;
    return finish(errorReply(500, { code: 'configuration', message }), { outcome: 'error', reason: message });
  }

  // Unlike incoming, a broken routes file stops outbound: a route may narrow
  // where calls can go, and guessing wider would be spending someone's money.
  const routes = deps.routes();
  if (routes.error) {
    const message = `The service is misconfigured: ${routes.error}`;
    return finish(errorReply(500, { code: 'configuration', message }), { outcome: 'error', reason: message });
  }
  const requestedFrom = typeof event.From === 'string' && event.From.trim() ? event.From.trim() : outbound.value.callerIds[0]!;
  const settings = outboundForRoute(outbound.value, routes.table.match(requestedFrom));
  line.route = settings.route;

  let request;
  try {
    request = readOutboundRequest(event, settings);
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    return finish(errorReply(error.status, error.error), { outcome: 'invalid', reason: `${error.error.code} ${error.error.field ?? ''}` });
  }
  line.room = request.roomName;

  const attributes = compactAttributes({
    ...settings.attributes,
    ...request.participantAttributes,
    'twilio.route': settings.route,
    'twilio.accountSid': String(env.ACCOUNT_SID ?? ''),
    'twilio.direction': 'outbound',
    'twilio.from': request.from,
    'twilio.to': request.to,
    'twilio.phoneNumber': request.to,
  });

  const liveKitTimeout = Math.min(liveKit.value.timeoutMs, LIVEKIT_BUDGET_MS);
  let connectUrl: string;
  try {
    connectUrl = await deps.connector({ ...liveKit.value, timeoutMs: liveKitTimeout })({
      direction: 'outbound',
      roomName: request.roomName,
      participantIdentity: request.participantIdentity,
      participantName: request.participantName,
      participantMetadata: request.participantMetadata,
      participantAttributes: attributes,
      agents: request.agentNames.map((agentName) => ({ agentName, metadata: request.agentMetadata })),
      destinationCountry: request.destinationCountry,
    });
  } catch (error) {
    const failure = error instanceof LiveKitError ? error : new LiveKitError('unreachable', 'LiveKit failed');
    const timedOut = failure.kind === 'timeout';
    const rooms = deps.rooms(liveKit.value, Math.min(ROOM_BUDGET_MS, remaining() - 200));
    // A timed-out request may still have created the hidden participant.
    if (timedOut) await rooms.removeParticipant(request.roomName, request.participantIdentity);
    return finish(
      errorReply(timedOut ? 504 : 502, {
        code: timedOut ? 'livekit-timeout' : 'livekit-error',
        message: timedOut ? 'LiveKit did not answer in time; no call was placed' : `LiveKit could not create the session (${failure.kind}); no call was placed`,
      }),
      { outcome: 'livekit-failed', reason: `livekit ${failure.kind}: ${failure.message}` },
    );
  }

  const twilioTimeout = Math.max(500, Math.min(settings.twilioTimeoutMs, remaining() - ROOM_BUDGET_MS - 200));
  const placement =
    settings.twimlMode === 'inline'
      ? { twiml: connectTwiml({ streamUrl: connectUrl, greeting: settings.greeting, actionUrl: settings.connectActionUrl }) }
      : { url: twimlUrlFor(connectUrl) };
  let call: { sid: string; status: string };
  try {
    const client = deps.twilio(twilioTimeout);
    call = await withDeadline(
      client.calls.create(
        callCreateParams({
          to: request.to,
          from: request.from,
          ...placement,
          options: settings.statusCallbacks ? withStatusCallbacks(request, String(env.DOMAIN_NAME ?? '')) : request.call,
        }),
      ),
      twilioTimeout + 100,
      'Twilio',
    );
  } catch (error) {
    const failure = classifyTwilioFailure(error);
    const rooms = deps.rooms(liveKit.value, Math.max(200, Math.min(ROOM_BUDGET_MS, remaining() - 100)));
    const removal = await rooms.removeParticipant(request.roomName, request.participantIdentity);
    return finish(errorReply(failure.status, failure.error), {
      outcome: 'twilio-failed',
      reason: [failure.error.code, failure.error.twilioCode, failure.detail].filter(Boolean).join(' '),
      participantRemoved: removal,
    });
  }

  line.callSid = call.sid;
  // The connector response carries no call SID; the agent learns it here.
  const rooms = deps.rooms(liveKit.value, Math.max(200, Math.min(ROOM_BUDGET_MS, remaining() - 100)));
  const tagged = await rooms.setAttributes(request.roomName, request.participantIdentity, { 'twilio.callSid': call.sid });
  return finish(
    jsonReply(200, {
      callSid: call.sid,
      roomName: request.roomName,
      participantIdentity: request.participantIdentity,
      status: call.status,
    }),
    { outcome: 'placed', callSidAttribute: tagged },
  );
}
