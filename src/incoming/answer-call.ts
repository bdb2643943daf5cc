/**
 * The `incoming` voice webhook: check the request is Twilio's, ask LiveKit
 * for a stream URL, answer TwiML. Every failure after the signature check
 * still answers 200 TwiML, so the caller never hears Twilio's "application
 * error": the spoken fallback, or for a call a Studio flow sent here, a
 * redirect back to that flow with the reason.
 */
import {
  LiveKitSettings,
  problemsOf,
  readFallbackSettings,
  readInboundSettings,
  readLiveKitSettings,
  readSignatureSettings,
} from '../config/settings';
import { describeProblems, Env } from '../config/env-reader';
import { HttpReply, textReply, xmlReply } from '../twilio/reply';
import { inboundConnectRequest, readInboundCall } from './connect-request';
import { ConnectRequest, ConnectTwilioCall, LiveKitError } from '../livekit/connector';
import { bindingAttributes, CALL_TOKEN_BINDING_ATTRIBUTE, callTokenBinding } from '../twilio/call-binding';
import { LogFields, redact } from '../util/log';
import { fallbackForRoute, inboundForRoute } from '../config/route-settings';
import type { LoadedRoutes } from '../config/routes';
import { functionUrlOf, isDeployed } from '../twilio/public-url';
import { verifyFunctionRequest } from '../twilio/signature';
import { FLOW_SID_PARAM, flowSidOf, isStudioReturnUrl, returnWith, studioReturnUrl } from '../twilio/studio';
import { connectTwiml, fallbackTwiml, redirectTwiml } from '../twilio/twiml';
import { readRecordingSettings, recordingForRoute } from '../recording/settings';
import { recordingCallbackUrl } from '../recording/callbacks';
import { RECORDING_STATUS } from '../recording/attributes';
import { readSummarySettings, summaryForRoute } from '../summary/settings';
import type { CallJournal } from '../journal/call-journal';
import { serviceFacts } from '../twilio/service';

export interface IncomingDependencies {
  connector: (settings: LiveKitSettings) => ConnectTwilioCall;
  log: (fields: LogFields, level: 'info' | 'error') => void;
  routes: () => LoadedRoutes;
  /** The call's journal, for its summary (../journal/call-journal); without it, nothing is kept. */
  journal?: (callSid: string) => CallJournal;
}

/** The journal's own deadline: it runs beside LiveKit's request. */
const JOURNAL_MS = 1500;
/** How much longer than LiveKit the caller may wait for it: past that, the fact is given up rather than the caller kept waiting. */
const JOURNAL_GRACE_MS = 250;

export async function answerIncomingCall(env: Env, event: Record<string, unknown>, deps: IncomingDependencies): Promise<HttpReply> {
  const started = Date.now();
  const call = readInboundCall(event);
  // A broken routes file gives the empty table: every call takes the default route.
  const route = deps.routes().table.match(call.to);
  const line: LogFields = { fn: 'incoming', callSid: call.callSid || 'missing', route: route.name };
  // A call sent here by a Studio flow goes back to it, with the reason, instead of the spoken fallback.
  let flowReturn = studioReturnUrl(event);
  const fallback = (reason: string, kind: string): HttpReply => {
    deps.log({ ...line, outcome: flowReturn ? 'returned-to-flow' : 'fallback', reason, ms: Date.now() - started }, 'error');
    // Locally only, for npm run ring: deployed, the reason stays in the log.
    const headers = isDeployed(env) ? undefined : { 'X-Connector-Reason': encodeURIComponent(redact(reason)) };
    if (flowReturn) return { ...xmlReply(redirectTwiml(returnWith(flowReturn, 'unavailable', kind))), headers };
    return { ...xmlReply(fallbackTwiml(fallbackForRoute(readFallbackSettings(env), route))), headers };
  };

  const signature = readSignatureSettings(env);
  const liveKit = readLiveKitSettings(env);
  const inbound = readInboundSettings(env);
  // Without a usable auth token nothing can be verified: report every problem at once.
  if (!signature.ok) return fallback(`configuration: ${describeProblems(problemsOf(signature, liveKit, inbound))}`, 'configuration');
  const verdict = signature.value.required
    ? verifyFunctionRequest(signature.value.authToken, functionUrlOf(env), event, [FLOW_SID_PARAM])
    : 'valid';
  if (verdict !== 'valid') {
    deps.log({ ...line, outcome: 'rejected', reason: `signature ${verdict}`, ms: Date.now() - started }, 'error');
    return textReply(403, 'Forbidden: this URL answers only requests signed by Twilio.');
  }

  if (!liveKit.ok || !inbound.ok) return fallback(`configuration: ${describeProblems(problemsOf(liveKit, inbound))}`, 'configuration');

  const settings = inboundForRoute(inbound.value, route);
  const recordingSettings = readRecordingSettings(env);
  const summarySettings = readSummarySettings(env);
  // A broken recording setting is not a reason to record, nor to drop the call: connected, unrecorded, and logged.
  if (!recordingSettings.ok || !summarySettings.ok) line.configuration = describeProblems(problemsOf(recordingSettings, summarySettings));
  const recording = recordingSettings.ok ? recordingForRoute(recordingSettings.value, route) : undefined;
  // A configured action that is a flow's return URL is a round trip too.
  if (!flowReturn && isStudioReturnUrl(settings.connectActionUrl)) flowReturn = settings.connectActionUrl;
  const connect = inboundConnectRequest(call, settings);
  const request = withCallBinding(
    recording?.mode === 'always' ? withRecordingStarting(connect) : connect,
    signature.value.authToken,
    flowReturn,
  );
  line.room = request.roomName;
  const recorded = recording?.mode === 'always';
  // Kept for the call's summary beside the LiveKit request, not after it; a slow Sync costs the caller at most JOURNAL_GRACE_MS.
  const summarised = summarySettings.ok && summaryForRoute(summarySettings.value, route).url !== '' && call.callSid !== '';
  const kept =
    summarised && deps.journal
      ? deps.journal(call.callSid).add(
          'connected',
          {
            direction: 'inbound',
            route: route.name,
            room: request.roomName,
            identity: request.participantIdentity,
            flowSid: flowReturn ? flowSidOf(flowReturn) : '',
          },
          JOURNAL_MS,
        )
      : undefined;
  try {
    const streamUrl = await deps.connector(liveKit.value)(request);
    const twiml = connectTwiml({
      streamUrl,
      greeting: settings.greeting,
      actionUrl: flowReturn ? returnWith(flowReturn, 'stream-ended') : settings.connectActionUrl,
      ...(recorded
        ? {
            recording: {
              callbackUrl: recordingCallbackUrl(serviceFacts(env).origin, request.roomName, request.participantIdentity, route.name),
              channels: recording.channels,
            },
            notice: recording.notice,
          }
        : {}),
    });
    if (kept) line.journal = await Promise.race([kept, new Promise<string>((r) => setTimeout(() => r('late'), JOURNAL_GRACE_MS).unref())]);
    if (recorded) line.recorded = true;
    deps.log({ ...line, outcome: 'connected', ms: Date.now() - started }, 'info');
    return xmlReply(twiml);
  } catch (error) {
    if (error instanceof LiveKitError) return fallback(`livekit ${error.kind}: ${error.message}`, `livekit-${error.kind}`);
    return fallback('internal error', 'internal');
  }
}

/** Recorded from the start: the room knows before Twilio's first recording callback does. */
function withRecordingStarting(request: ConnectRequest): ConnectRequest {
  return { ...request, participantAttributes: { ...request.participantAttributes, [RECORDING_STATUS]: 'starting' } };
}

/**
 * The Studio flow (when the call came from one) and the call's binding, for
 * the agent's call control: it may act only on the call bound to its room.
 */
function withCallBinding(request: ConnectRequest, authToken: string, flowReturn: string | undefined): ConnectRequest {
  const attributes = request.participantAttributes;
  const binding = bindingAttributes(authToken, {
    room: request.roomName,
    identity: request.participantIdentity,
    callSid: attributes['twilio.callSid'] ?? '',
    accountSid: attributes['twilio.accountSid'] ?? '',
    flowSid: flowReturn ? flowSidOf(flowReturn) : '',
    route: attributes['twilio.route'] ?? '',
  });
  const token = attributes['twilio.callToken'];
  const tokenBinding: Record<string, string> =
    token && authToken
      ? {
          [CALL_TOKEN_BINDING_ATTRIBUTE]: callTokenBinding(
            authToken,
            request.roomName,
            attributes['twilio.callSid'] ?? '',
            attributes['twilio.from'] ?? '',
            token,
          ),
        }
      : {};
  return { ...request, participantAttributes: { ...attributes, ...binding, ...tokenBinding } };
}
