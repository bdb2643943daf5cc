/**
 * What the suites keep building: the LiveKit part of a function's
 * environment, and the webhook Twilio sends for an inbound call.
 */
import { AccessToken, VideoGrant } from 'livekit-server-sdk';
import { requestDigest } from '../../src/call-control/canonical';
import { voiceWebhook } from '../../src/deploy/voice-webhook';
import { API_KEY, API_SECRET } from './livekit-stand-in';
import { handler as outboundHandler } from '../../src/functions/outbound.protected';
import { ACCOUNT_SID, ApiBody, callSid, invoke, localContext, signedEvent } from './runtime';
import type { TwilioStandIn } from './twilio-stand-in';

/** LIVEKIT_* pointing at a stand-in, plus whatever else the suite sets. */
export function liveKitEnv(stand: { url: string }, extra: Record<string, string> = {}): Record<string, string> {
  return { LIVEKIT_URL: stand.url, LIVEKIT_API_KEY: API_KEY, LIVEKIT_API_SECRET: API_SECRET, ...extra };
}

/** Twilio's voice webhook for call number `n`, from a US caller to a US number unless told otherwise. */
export function inboundWebhook(n: number, extra: Record<string, string> = {}): Record<string, string> {
  return voiceWebhook({ callSid: callSid(n), accountSid: ACCOUNT_SID, from: '+14155550100', to: '+14155550199' }, extra);
}

/** Calls the `outbound` handler as twilio-run would locally: signed, its Twilio client reaching the stand-in. */
export async function postOutbound(
  stands: { liveKit: { url: string }; twilioApi: TwilioStandIn },
  params: Record<string, string>,
  extra: Record<string, string> = {},
): Promise<{ status: number; json: ApiBody }> {
  const env = liveKitEnv(stands.liveKit, { AGENT_NAMES: 'outbound-agent', OUTBOUND_CALLER_IDS: '+14155550100', ...extra });
  const context = localContext(env, '/outbound', 3000, (options) => stands.twilioApi.client(options?.timeout));
  const reply = await invoke(outboundHandler, context, signedEvent(context, params));
  return { status: reply.status, json: JSON.parse(reply.body) as ApiBody };
}

/** A call-control request body and the token an agent would send with it (sha256 over the body). */
export async function controlToken(
  room: string,
  body: Record<string, unknown>,
  options: { ttlSeconds?: number; secret?: string; grant?: VideoGrant; sha256?: string } = {},
): Promise<string> {
  const token = new AccessToken(API_KEY, options.secret ?? API_SECRET, { ttl: options.ttlSeconds ?? 60 });
  token.addGrant(options.grant ?? { roomAdmin: true, room });
  token.sha256 = options.sha256 ?? requestDigest(body);
  return token.toJwt();
}
