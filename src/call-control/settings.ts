/**
 * What call control reads from the environment, once, where the request
 * enters. LiveKit's key and the auth token are needed by every action (the
 * token check, the call binding); the targets and the dial policy only by
 * the actions that dial, so a broken one refuses those actions alone and an
 * agent can still hang up.
 */
import { describeProblems, Env } from '../config/env-reader';
import { LiveKitSettings, problemsOf, Read, readFallbackSettings, readLiveKitSettings } from '../config/settings';
import { readTransferTargets } from '../config/transfer-targets';
import type { OutboundConfig } from '../outbound/config';
import { ServiceFacts, serviceFacts } from '../twilio/service';
import { readOutboundSettings } from '../outbound/settings';
import type { Stop } from '../outbound/steps';
import { misconfigured } from '../twilio/reply';
import type { DialPolicy } from '../phone/dial-policy';
import { readDialPolicy } from '../phone/dial-settings';

export interface ControlSettings {
  liveKit: LiveKitSettings;
  service: ServiceFacts;
  /** The voice and language of what the caller hears from the service. */
  voice: { voice: string; language: string };
  /** TRANSFER_TARGETS: names to addresses. */
  targets: Read<Record<string, string>>;
  /** Where the service may dial: what every target must pass. */
  dial: Read<DialPolicy>;
  /** What placing a call for the agent needs (caller IDs, dial policy). */
  outbound: Read<OutboundConfig>;
}

export function readControlSettings(env: Env): ControlSettings | Stop {
  const liveKit = readLiveKitSettings(env);
  const service = serviceFacts(env);
  if (!liveKit.ok || !service.authToken) {
    const missing = service.authToken ? [] : [{ variable: 'AUTH_TOKEN', message: 'is required (enable "Add my Twilio Credentials")' }];
    const { reply, message } = misconfigured(describeProblems([...missing, ...problemsOf(liveKit)]));
    return { reply, fields: { outcome: 'error', reason: message } };
  }
  const outbound = readOutboundSettings(env);
  const { voice, language } = readFallbackSettings(env);
  return {
    liveKit: liveKit.value,
    service,
    voice: { voice, language },
    targets: readTransferTargets(env),
    dial: readDialPolicy(env),
    outbound: outbound.ok ? { ok: true, value: { liveKit: liveKit.value, outbound: outbound.value, service } } : outbound,
  };
}
