/**
 * Everything `outbound` reads from the environment, read once where a
 * request enters (the `outbound` function, or call-control placing a call for
 * an agent) and handed down typed.
 */
import { describeProblems, Env } from '../config/env-reader';
import { LiveKitSettings, problemsOf, readLiveKitSettings } from '../config/settings';
import { ServiceFacts, serviceFacts } from '../twilio/service';
import { misconfigured } from '../twilio/reply';
import { OutboundSettings, readOutboundSettings } from './settings';
import type { Stop } from './steps';

export interface OutboundConfig {
  liveKit: LiveKitSettings;
  outbound: OutboundSettings;
  service: ServiceFacts;
}

/** The configuration, or the reply naming every variable that is wrong. */
export function readOutboundConfig(env: Env): OutboundConfig | Stop {
  const liveKit = readLiveKitSettings(env);
  const outbound = readOutboundSettings(env);
  if (!liveKit.ok || !outbound.ok) {
    const { reply, message } = misconfigured(describeProblems(problemsOf(liveKit, outbound)));
    return { reply, fields: { outcome: 'error', reason: message } };
  }
  return { liveKit: liveKit.value, outbound: outbound.value, service: serviceFacts(env) };
}
