/**
 * The `incoming` voice webhook: check the request is Twilio's, ask LiveKit
 * for a stream URL, answer TwiML. Every failure after the signature check
 * still answers 200 TwiML with the spoken fallback, so the caller never hears
 * Twilio's "application error".
 */
import {
  readFallbackSettings,
  readInboundSettings,
  readLiveKitSettings,
  readSignatureSettings,
} from './config';
import { describeProblems, Env } from './env';
import { HttpReply, textReply, xmlReply } from './http-reply';
import { inboundConnectRequest, readInboundCall } from './inbound-call';
import { ConnectTwilioCall, LiveKitError, liveKitConnector } from './livekit-connector';
import { LogFields, logLine } from './log';
import { fallbackForRoute, inboundForRoute } from './route-settings';
import type { LoadedRoutes } from './routes';
import { routesFromAssets } from './routes-asset';
import { functionUrl, signatureHeader, signedParams, verifySignature } from './signature';
import { connectTwiml, fallbackTwiml } from './twiml';
import type { LiveKitSettings } from './config';

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
  const fallback = (reason: string): HttpReply => {
    deps.log({ ...line, outcome: 'fallback', reason, ms: Date.now() - started }, 'error');
    return xmlReply(fallbackTwiml(fallbackForRoute(readFallbackSettings(env), route)));
  };

  const signature = readSignatureSettings(env);
  if (!signature.ok) return fallback(`configuration: ${describeProblems(signature.problems)}`);
  if (signature.value.required) {
    const verdict = verifySignature(signature.value.authToken, {
      signature: signatureHeader(event),
      url: functionUrl(String(env.DOMAIN_NAME ?? ''), String(env.PATH ?? '')),
      params: signedParams(event),
    });
    if (verdict !== 'valid') {
      deps.log({ ...line, outcome: 'rejected', reason: `signature ${verdict}`, ms: Date.now() - started }, 'error');
      return textReply(403, 'Forbidden: this URL answers only requests signed by Twilio.');
    }
  }

  const liveKit = readLiveKitSettings(env);
  const inbound = readInboundSettings(env);
  const problems = [...(liveKit.ok ? [] : liveKit.problems), ...(inbound.ok ? [] : inbound.problems)];
  if (!liveKit.ok || !inbound.ok) return fallback(`configuration: ${describeProblems(problems)}`);

  const settings = inboundForRoute(inbound.value, route);
  const request = inboundConnectRequest(call, settings);
  line.room = request.roomName;
  try {
    const streamUrl = await deps.connector(liveKit.value)(request);
    const twiml = connectTwiml({
      streamUrl,
      greeting: settings.greeting,
      actionUrl: settings.connectActionUrl,
    });
    deps.log({ ...line, outcome: 'connected', ms: Date.now() - started }, 'info');
    return xmlReply(twiml);
  } catch (error) {
    const reason = error instanceof LiveKitError ? `livekit ${error.kind}: ${error.message}` : 'internal error';
    return fallback(reason);
  }
}
