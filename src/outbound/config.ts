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
import { readRecordingSettings, RecordingSettings } from '../recording/settings';
import { readSummarySettings, SummarySettings } from '../summary/settings';

export interface OutboundConfig {
  liveKit: LiveKitSettings;
  outbound: OutboundSettings;
  service: ServiceFacts;
  recording: RecordingSettings;
  summary: SummarySettings;
}

/** The configuration, or the reply naming every variable that is wrong. */
export function readOutboundConfig(env: Env): OutboundConfig | Stop {
  const liveKit = readLiveKitSettings(env);
  const outbound = readOutboundSettings(env);
  const recording = readRecordingSettings(env);
  const summary = readSummarySettings(env);
  if (!liveKit.ok || !outbound.ok || !recording.ok || !summary.ok) {
    const { reply, message } = misconfigured(describeProblems(problemsOf(liveKit, outbound, recording, summary)));
    return { reply, fields: { outcome: 'error', reason: message } };
  }
  return {
    liveKit: liveKit.value,
    outbound: outbound.value,
    service: serviceFacts(env),
    recording: recording.value,
    summary: summary.value,
  };
}
