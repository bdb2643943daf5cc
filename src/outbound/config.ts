/**
 * Everything `outbound` reads from the environment, read once where a
 * request enters (the `outbound` function, or call-control placing a call for
 * an agent) and handed down typed.
 */
import { describeProblems, Env } from '../config/env-reader';
import { LiveKitSettings, problemsOf, readLiveKitSettings } from '../config/settings';
import { publicOrigin } from '../twilio/public-url';
import { misconfigured } from '../twilio/reply';
import { OutboundSettings, readOutboundSettings } from './settings';
import type { ServiceFacts, Stop } from './steps';

export interface OutboundConfig {
  liveKit: LiveKitSettings;
  outbound: OutboundSettings;
  service: ServiceFacts;
}

export function serviceFacts(env: Env): ServiceFacts {
  return {
    accountSid: typeof env.ACCOUNT_SID === 'string' ? env.ACCOUNT_SID : '',
    authToken: typeof env.AUTH_TOKEN === 'string' ? env.AUTH_TOKEN : '',
    origin: publicOrigin(env),
  };
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
