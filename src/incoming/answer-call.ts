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
import { ConnectRequest, ConnectTwilioCall, LiveKitError, liveKitConnector } from '../livekit/connector';
import { bindingAttributes, CALL_TOKEN_BINDING_ATTRIBUTE, callTokenBinding } from '../twilio/call-binding';
import { LogFields, logLine } from '../util/log';
import { fallbackForRoute, inboundForRoute } from '../config/route-settings';
import type { LoadedRoutes } from '../config/routes';
import { routesFromAssets } from '../config/routes-asset';
import { functionUrlOf } from '../twilio/public-url';
import { verifyFunctionRequest } from '../twilio/signature';
import { FLOW_SID_PARAM, flowSidOf, isStudioReturnUrl, returnWith, studioReturnUrl } from '../twilio/studio';
import { connectTwiml, fallbackTwiml, redirectTwiml } from '../twilio/twiml';

export interface IncomingDependencies {
  connector: (settings: LiveKitSettings) => ConnectTwilioCall;
  log: (fields: LogFields, level: 'info' | 'error') => void;
  routes: () => LoadedRoutes;
}

const defaults: IncomingDependencies = { connector: liveKitConnector, log: logLine, routes: routesFromAssets };

export async function answerIncomingCall(
  env: Env,
  event: Record<string, unknown>,
  deps: IncomingDependencies = defaults,
): Promise<HttpReply> {
  const started = Date.now();
  const call = readInboundCall(event);
  // A broken routes file gives the empty table: every call takes the default route.
  const route = deps.routes().table.match(call.to);
  const line: LogFields = { fn: 'incoming', callSid: call.callSid || 'missing', route: route.name };
  // A call sent here by a Studio flow goes back to it, with the reason, instead of the spoken fallback.
  let flowReturn = studioReturnUrl(event);
  const fallback = (reason: string, kind: string): HttpReply => {
    deps.log({ ...line, outcome: flowReturn ? 'returned-to-flow' : 'fallback', reason, ms: Date.now() - started }, 'error');
    if (flowReturn) return xmlReply(redirectTwiml(returnWith(flowReturn, 'unavailable', kind)));
    return xmlReply(fallbackTwiml(fallbackForRoute(readFallbackSettings(env), route)));
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
  // A configured action that is a flow's return URL is a round trip too.
  if (!flowReturn && isStudioReturnUrl(settings.connectActionUrl)) flowReturn = settings.connectActionUrl;
  const request = withCallBinding(inboundConnectRequest(call, settings), signature.value.authToken, flowReturn);
  line.room = request.roomName;
  try {
    const streamUrl = await deps.connector(liveKit.value)(request);
    const twiml = connectTwiml({
      streamUrl,
      greeting: settings.greeting,
      actionUrl: flowReturn ? returnWith(flowReturn, 'stream-ended') : settings.connectActionUrl,
    });
    deps.log({ ...line, outcome: 'connected', ms: Date.now() - started }, 'info');
    return xmlReply(twiml);
  } catch (error) {
    if (error instanceof LiveKitError) return fallback(`livekit ${error.kind}: ${error.message}`, `livekit-${error.kind}`);
    return fallback('internal error', 'internal');
  }
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
