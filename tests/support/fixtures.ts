/**
 * What the suites keep building: the LiveKit part of a function's
 * environment, and the webhook Twilio sends for an inbound call.
 */
import { voiceWebhook } from '../../src/deploy/voice-webhook';
import { API_KEY, API_SECRET } from './livekit-stand-in';
import { ACCOUNT_SID, callSid } from './runtime';

/** LIVEKIT_* pointing at a stand-in, plus whatever else the suite sets. */
export function liveKitEnv(stand: { url: string }, extra: Record<string, string> = {}): Record<string, string> {
  return { LIVEKIT_URL: stand.url, LIVEKIT_API_KEY: API_KEY, LIVEKIT_API_SECRET: API_SECRET, ...extra };
}

/** Twilio's voice webhook for call number `n`, from a US caller to a US number unless told otherwise. */
export function inboundWebhook(n: number, extra: Record<string, string> = {}): Record<string, string> {
  return voiceWebhook({ callSid: callSid(n), accountSid: ACCOUNT_SID, from: '+14155550100', to: '+14155550199' }, extra);
}
