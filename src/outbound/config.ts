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
import { NO_SUMMARY, readSummarySettings, SummarySettings } from '../summary/settings';

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
  // A broken recording setting refuses the call (whether, and with what notice, to record is unknown);
  // a broken summary setting only means no summary: the doctor reports it.
  if (!liveKit.ok || !outbound.ok || !recording.ok) {
    const { reply, message } = misconfigured(describeProblems(problemsOf(liveKit, outbound, recording)));
    return { reply, fields: { outcome: 'error', reason: message } };
  }
  return {
    liveKit: liveKit.value,
    outbound: outbound.value,
    service: serviceFacts(env),
    recording: recording.value,
    summary: summary.ok ? summary.value : NO_SUMMARY,
  };
}
