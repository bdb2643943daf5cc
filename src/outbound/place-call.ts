/**
 * The `outbound` API: validate everything, create the LiveKit connector
 * session, place the Twilio call that streams into it, and clean up after
 * whichever step fails. Answers within {@link TOTAL_BUDGET_MS} in every case
 * (Studio's Run Function gives 10 s).
 */
import { describeProblems, Env } from '../config/env-reader';
import { outboundForRoute, RoutedOutbound } from '../config/route-settings';
import type { LoadedRoutes } from '../config/routes';
import { routesFromAssets } from '../config/routes-asset';
import { LiveKitSettings, readLiveKitSettings } from '../config/settings';
import { compactAttributes } from '../livekit/attributes';
import { ConnectTwilioCall, LiveKitError, liveKitConnector } from '../livekit/connector';
import { LiveKitRooms, liveKitRooms, RoomOutcome } from '../livekit/rooms';
import { errorReply, HttpReply, jsonReply, misconfigured } from '../twilio/reply';
import { checkLocalSignature } from '../twilio/request-auth';
import { Budget } from '../util/budget';
import { withDeadline } from '../util/deadline';
import { LogFields, logLine } from '../util/log';
import { placementFor, withStatusCallbacks } from './call-options';
import { RequestError } from './parameters';
import { OutboundRequest, readOutboundRequest } from './request';
import { readOutboundSettings } from './settings';
import { callCreateParams, classifyTwilioFailure, TwilioCalls } from './twilio-call';

export const TOTAL_BUDGET_MS = 7500;
const LIVEKIT_BUDGET_MS = 3000;
const ROOM_BUDGET_MS = 1000;
const LATE_SESSION_WATCH_MS = 2000;
const LATE_SESSION_POLL_MS = 400;

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

/** A step's answer when it ends the request: the reply and what the log line says of it. */
interface Stop {
  reply: HttpReply;
  fields: LogFields;
}

interface Prepared {
  liveKit: LiveKitSettings;
  settings: RoutedOutbound;
  request: OutboundRequest;
}

/** Settings, route and request, all checked before anything is created anywhere. */
function prepare(env: Env, event: Record<string, unknown>, deps: OutboundDependencies): Prepared | Stop {
  const liveKit = readLiveKitSettings(env);
  const outbound = readOutboundSettings(env);
  if (!liveKit.ok || !outbound.ok) {
    const { reply, message } = misconfigured(
      describeProblems([...(liveKit.ok ? [] : liveKit.problems), ...(outbound.ok ? [] : outbound.problems)]),
    );
    return { reply, fields: { outcome: 'error', reason: message } };
  }
  // Unlike incoming, a broken routes file stops outbound: a route may narrow
  // where calls can go, and guessing wider would be spending someone's money.
  const routes = deps.routes();
  if (routes.error) {
    const { reply, message } = misconfigured(routes.error);
    return { reply, fields: { outcome: 'error', reason: message } };
  }
  const requestedFrom = typeof event.From === 'string' && event.From.trim() ? event.From.trim() : outbound.value.callerIds[0]!;
  const settings = outboundForRoute(outbound.value, routes.table.match(requestedFrom));
  try {
    return { liveKit: liveKit.value, settings, request: readOutboundRequest(event, settings) };
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    return {
      reply: errorReply(error.status, error.error),
      fields: { route: settings.route, outcome: 'invalid', reason: `${error.error.code} ${error.error.field ?? ''}` },
    };
  }
}

/** Opens the connector session; its stream URL, or the reply saying why not. */
async function openSession(env: Env, prepared: Prepared, deps: OutboundDependencies, budget: Budget): Promise<string | Stop> {
  const { liveKit, settings, request } = prepared;
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
  try {
    return await deps.connector({ ...liveKit, timeoutMs: Math.min(liveKit.timeoutMs, LIVEKIT_BUDGET_MS) })({
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
    const lateSession = timedOut ? await removeLateSession(deps, prepared, budget) : undefined;
    const reply = errorReply(timedOut ? 504 : 502, {
      code: timedOut ? 'livekit-timeout' : 'livekit-error',
      message: timedOut
        ? 'LiveKit did not answer in time; no call was placed'
        : `LiveKit could not create the session (${failure.kind}); no call was placed`,
    });
    return { reply, fields: { outcome: 'livekit-failed', reason: `livekit ${failure.kind}: ${failure.message}`, lateSession } };
  }
}

/**
 * A timed-out ConnectTwilioCall may still create its session: LiveKit can
 * finish the request after we stopped waiting, and no call will ever come for
 * it, so nothing later would clean it up. Remove its participant now, and
 * while it is not there yet, look again for {@link LATE_SESSION_WATCH_MS}.
 */
async function removeLateSession(deps: OutboundDependencies, { liveKit, request }: Prepared, budget: Budget): Promise<RoomOutcome> {
  const until = budget.elapsed() + LATE_SESSION_WATCH_MS;
  for (;;) {
    const outcome = await deps
      .rooms(liveKit, budget.share(ROOM_BUDGET_MS, 200))
      .removeParticipant(request.roomName, request.participantIdentity);
    const next = budget.elapsed() + LATE_SESSION_POLL_MS;
    if (outcome !== 'not-found' || next > until || budget.remaining() - LATE_SESSION_POLL_MS < ROOM_BUDGET_MS + 200) return outcome;
    await new Promise((resolve) => setTimeout(resolve, LATE_SESSION_POLL_MS));
  }
}

/** Places the Twilio call into the session; the call, or the reply after closing the session. */
async function placeCall(
  env: Env,
  prepared: Prepared,
  connectUrl: string,
  deps: OutboundDependencies,
  budget: Budget,
): Promise<{ sid: string; status: string } | Stop> {
  const { liveKit, settings, request } = prepared;
  const twilioTimeout = budget.share(settings.twilioTimeoutMs, ROOM_BUDGET_MS + 200, 500);
  const params = callCreateParams({
    to: request.to,
    from: request.from,
    ...placementFor(connectUrl, settings),
    options: settings.statusCallbacks ? withStatusCallbacks(request, String(env.DOMAIN_NAME ?? '')) : request.call,
  });
  try {
    return await withDeadline(deps.twilio(twilioTimeout).calls.create(params), twilioTimeout + 100, 'Twilio');
  } catch (error) {
    const failure = classifyTwilioFailure(error);
    const removal = await deps
      .rooms(liveKit, budget.share(ROOM_BUDGET_MS, 100, 200))
      .removeParticipant(request.roomName, request.participantIdentity);
    return {
      reply: errorReply(failure.status, failure.error),
      fields: {
        outcome: 'twilio-failed',
        reason: [failure.error.code, failure.error.twilioCode, failure.detail].filter(Boolean).join(' '),
        participantRemoved: removal,
      },
    };
  }
}

export async function placeOutboundCall(env: Env, event: Record<string, unknown>, deps: OutboundDependencies): Promise<HttpReply> {
  const budget = new Budget(TOTAL_BUDGET_MS, deps.now);
  const line: LogFields = { fn: 'outbound' };
  const finish = ({ reply, fields }: Stop): HttpReply => {
    deps.log({ ...line, ...fields, status: reply.status, ms: budget.elapsed() }, reply.status >= 400 ? 'error' : 'info');
    return reply;
  };

  const refused = checkLocalSignature(env, event);
  if (refused) return finish({ reply: refused.reply, fields: { outcome: 'rejected', reason: refused.reason } });

  const prepared = prepare(env, event, deps);
  if ('reply' in prepared) return finish(prepared);
  line.route = prepared.settings.route;
  line.room = prepared.request.roomName;

  const connectUrl = await openSession(env, prepared, deps, budget);
  if (typeof connectUrl !== 'string') return finish(connectUrl);

  const call = await placeCall(env, prepared, connectUrl, deps, budget);
  if ('reply' in call) return finish(call);

  line.callSid = call.sid;
  // The connector response carries no call SID; the agent learns it here.
  const { request } = prepared;
  const rooms = deps.rooms(prepared.liveKit, budget.share(ROOM_BUDGET_MS, 100, 200));
  const tagged = await rooms.setAttributes(request.roomName, request.participantIdentity, { 'twilio.callSid': call.sid });
  const reply = jsonReply(200, {
    callSid: call.sid,
    roomName: request.roomName,
    participantIdentity: request.participantIdentity,
    status: call.status,
  });
  return finish({ reply, fields: { outcome: 'placed', callSidAttribute: tagged } });
}
