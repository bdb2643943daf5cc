/**
 * The `outbound` API: validate everything, create the LiveKit connector
 * session, place the Twilio call that streams into it, and clean up after
 * whichever step fails. Answers within {@link TOTAL_BUDGET_MS} in every case
 * (Studio's Run Function gives 10 s).
 */
import { describeProblems, Env } from '../config/env-reader';
import { outboundForRoute } from '../config/route-settings';
import { problemsOf, readLiveKitSettings } from '../config/settings';
import { OutboundConfig, readOutboundConfig } from './config';
import { bindingAttributes } from '../twilio/call-binding';
import { errorReply, HttpReply, jsonReply, misconfigured } from '../twilio/reply';
import { checkLocalSignature, localAuthProblems } from '../twilio/request-auth';
import { Budget } from '../util/budget';
import type { LogFields } from '../util/log';
import { placementFor, withRecording, withStatusCallbacks } from './call-options';
import { recordingForRoute } from '../recording/settings';
import { summaryForRoute } from '../summary/settings';
import { callJournal } from '../journal/call-journal';
import { unavailable } from './earlier-request';
import { FENCE_MS, oncePerKey, PlaceResult, SETTLE_MS } from './once-per-key';
import { RequestError } from '../api/parameters';
import { readOutboundRequest } from './request';
import { openSession } from './session';
import { readOutboundSettings } from './settings';
import { OutboundDependencies, Prepared, ROOM_BUDGET_MS, Stop, SYNC_BUDGET_MS, TOTAL_BUDGET_MS } from './steps';
import { callCreateParams, classifyTwilioFailure, createCall, failureReply } from '../twilio/calls';

/** Route and request, checked against the configuration before anything is created anywhere. */
function prepare(config: OutboundConfig, event: Record<string, unknown>, deps: OutboundDependencies): Prepared | Stop {
  // Unlike incoming, a broken routes file stops outbound: a route may narrow
  // where calls can go, and guessing wider would be spending someone's money.
  const routes = deps.routes();
  if (routes.error) {
    const { reply, message } = misconfigured(routes.error);
    return { reply, fields: { outcome: 'error', reason: message } };
  }
  const { outbound } = config;
  const requestedFrom = typeof event.From === 'string' && event.From.trim() ? event.From.trim() : outbound.callerIds[0]!;
  const route = routes.table.match(requestedFrom);
  const settings = outboundForRoute(outbound, route);
  const recording = recordingForRoute(config.recording, route);
  const summarised = summaryForRoute(config.summary, route).url !== '';
  try {
    const request = readOutboundRequest(event, settings);
    // In url mode Twilio fetches LiveKit's TwiML, which the service cannot add a notice to.
    const recorded = recording.mode === 'always' || request.call.record === true;
    if (recorded && recording.notice && settings.twimlMode === 'url') {
      const { reply, message } = misconfigured(
        "RECORDING_NOTICE: a recorded call hears the notice only with OUTBOUND_TWIML_MODE=inline (in url mode Twilio plays LiveKit's TwiML); set inline, or leave the notice to the agent",
      );
      return { reply, fields: { route: settings.route, outcome: 'error', reason: message } };
    }
    return { liveKit: config.liveKit, service: config.service, settings, request, recording, summarised };
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    return {
      reply: errorReply(error.status, error.error),
      fields: { route: settings.route, outcome: 'invalid', reason: `${error.error.code} ${error.error.field ?? ''}` },
    };
  }
}

/** A placed call, or the reply after closing the session; `uncertain` when the call may exist anyway. */
type Placement = { sid: string; status: string } | (Stop & { uncertain?: { sessionClosed: boolean } });

/** Places the Twilio call into the session. */
async function placeCall(
  prepared: Prepared,
  connectUrl: string,
  deps: OutboundDependencies,
  budget: Budget,
  after: number,
): Promise<Placement> {
  const { liveKit, settings, request, service } = prepared;
  const twilioTimeout = budget.share(settings.twilioTimeoutMs, ROOM_BUDGET_MS + 200 + after, 500);
  const options = settings.statusCallbacks ? withStatusCallbacks(request, service.origin, settings.route) : { ...request.call };
  const recorded = withRecording(options, prepared);
  const params = callCreateParams({
    to: request.to,
    from: request.from,
    ...placementFor(connectUrl, settings, recorded ? prepared.recording.notice : ''),
    options,
  });
  try {
    return await createCall(deps.twilio, params, twilioTimeout);
  } catch (error) {
    const failure = classifyTwilioFailure(error);
    const removal = await deps
      .rooms(liveKit, budget.share(ROOM_BUDGET_MS, 100, 200))
      .removeParticipant(request.roomName, request.participantIdentity);
    const sessionClosed = removal !== 'failed';
    const fields = {
      outcome: 'twilio-failed',
      reason: [failure.error.code, failure.error.twilioCode, failure.detail].filter(Boolean).join(' '),
      participantRemoved: removal,
    };
    if (!failure.uncertain) return { reply: failureReply(failure), fields };
    // Twilio may have created the call before its answer was lost, or despite its 5xx: say exactly what is known.
    const what =
      failure.error.code === 'twilio-timeout'
        ? 'Twilio did not answer in time'
        : `Twilio answered with an error (${failure.error.twilioCode})`;
    const message = sessionClosed
      ? `${what}. The call may have been created anyway; its LiveKit session was closed, so it cannot reach an agent`
      : `${what}. The call may have been created, and its LiveKit session could not be closed, so it may still connect to the agent`;
    return { reply: errorReply(failure.status, { ...failure.error, message, callMayExist: true }), fields, uncertain: { sessionClosed } };
  }
}

/** The call SID for the agent, and the binding that lets the agent's call control act on this call only. */
function callTag({ request, settings, service }: Prepared, callSid: string): Record<string, string> {
  const facts = {
    room: request.roomName,
    identity: request.participantIdentity,
    callSid,
    accountSid: service.accountSid,
    flowSid: '',
    route: settings.route,
  };
  return { 'twilio.callSid': callSid, ...bindingAttributes(service.authToken, facts) };
}

export async function placeOutboundCall(env: Env, event: Record<string, unknown>, deps: OutboundDependencies): Promise<HttpReply> {
  const budget = new Budget(TOTAL_BUDGET_MS, deps.now);
  const line: LogFields = { fn: 'outbound' };
  const finish = ({ reply, fields }: Stop): HttpReply => {
    deps.log({ ...line, ...fields, status: reply.status, ms: budget.elapsed() }, reply.status >= 400 ? 'error' : 'info');
    return reply;
  };

  const unverifiable = localAuthProblems(env);
  if (unverifiable.length) {
    const { reply, message } = misconfigured(
      describeProblems([...unverifiable, ...problemsOf(readLiveKitSettings(env), readOutboundSettings(env))]),
    );
    return finish({ reply, fields: { outcome: 'error', reason: message } });
  }
  const refused = checkLocalSignature(env, event);
  if (refused) return finish({ reply: refused.reply, fields: { outcome: 'rejected', reason: refused.reason } });

  const config = readOutboundConfig(env);
  if ('reply' in config) return finish(config);
  const prepared = prepare(config, event, deps);
  if ('reply' in prepared) return finish(prepared);
  const { request } = prepared;
  line.route = prepared.settings.route;

  const key = request.idempotencyKey;
  const placeIt = async (beforeCall?: () => Promise<boolean>): Promise<PlaceResult> => {
    // Only a request that goes on to place a call logs its room: a replayed or refused one's never existed.
    line.room = request.roomName;
    const placed = await sessionAndCall(prepared, deps, budget, beforeCall);
    if ('reply' in placed) return placed;
    return { reply: jsonReply(200, placed.body), fields: { outcome: 'placed', ...placed.fields }, placed: placed.body };
  };
  const result = key ? await oncePerKey(key, prepared, deps, budget, placeIt) : await placeIt();
  if (result.placed) line.callSid = result.placed.callSid;
  return finish(result);
}

/** Opens the session, places the call into it, and tells the participant its call SID. */
async function sessionAndCall(
  first: Prepared,
  deps: OutboundDependencies,
  budget: Budget,
  /** Asked once the session is open: false, and no call is placed (an IdempotencyKey's fence failed). */
  beforeCall?: () => Promise<boolean>,
): Promise<Placed | (Stop & { uncertain?: { sessionClosed: boolean } })> {
  // Kept back after the session: the fence and the outcome's record, for a keyed request.
  const after = beforeCall ? FENCE_MS + SETTLE_MS : 0;
  const session = await openSession(first, deps, budget, after);
  if ('reply' in session) return session;
  const { prepared, connectUrl, abandoned } = session;
  if (beforeCall && !(await beforeCall())) {
    const removed = await deps
      .rooms(prepared.liveKit, budget.share(ROOM_BUDGET_MS, 100, 200))
      .removeParticipant(prepared.request.roomName, prepared.request.participantIdentity);
    return { ...unavailable(), fields: { outcome: 'idempotency-unavailable', participantRemoved: removed } };
  }
  const call = await placeCall(prepared, connectUrl, deps, budget, after);
  if ('reply' in call) return { ...call, fields: { ...call.fields, abandonedSession: abandoned } };
  // The connector response carries no call SID; the agent learns it here. Resent on a passing
  // failure (../livekit/rooms); if it still fails, the call's first status callback writes it.
  const { request } = prepared;
  const rooms = deps.rooms(prepared.liveKit, budget.share(ROOM_BUDGET_MS, 100 + after, 200));
  const [tagged, journal] = await Promise.all([
    rooms.setAttributes(request.roomName, request.participantIdentity, callTag(prepared, call.sid)),
    keepConnected(prepared, call.sid, deps, budget.share(SYNC_BUDGET_MS, 100 + after, 200)),
  ]);
  const body = { callSid: call.sid, roomName: request.roomName, participantIdentity: request.participantIdentity, status: call.status };
  return { body, fields: { callSidAttribute: tagged, abandonedSession: abandoned, journal } };
}

/** For the call's summary, what only the service knows of it (../journal/call-journal). */
async function keepConnected(
  prepared: Prepared,
  callSid: string,
  deps: OutboundDependencies,
  withinMs: number,
): Promise<string | undefined> {
  if (!prepared.summarised) return undefined;
  const { request, settings } = prepared;
  const fact = { direction: 'outbound', route: settings.route, room: request.roomName, identity: request.participantIdentity };
  return callJournal(deps.twilio, callSid).add('connected', fact, withinMs);
}

/** A placed call: the answer, and what the log line says of the steps after Twilio's. */
interface Placed {
  body: Record<string, string>;
  fields: LogFields;
}
