/**
 * What call control reads from the environment, once, where the request
 * enters. LiveKit's key and the auth token are needed by every action (the
 * token check, the call binding); the targets and the dial policy only by
 * the actions that dial, so a broken one refuses those actions alone and an
 * agent can still hang up.
 */
import { describeProblems, Env } from '../config/env-reader';
import { LiveKitSettings, problemsOf, Read, readFallbackSettings, readInboundSettings, readLiveKitSettings } from '../config/settings';
import { readTransferTargets } from '../config/transfer-targets';
import type { OutboundConfig } from '../outbound/config';
import { ServiceFacts, serviceFacts } from '../twilio/service';
import { readOutboundSettings } from '../outbound/settings';
import type { Stop } from '../outbound/steps';
import { misconfigured } from '../twilio/reply';
import type { DialPolicy } from '../phone/dial-policy';
import { readDialPolicy } from '../phone/dial-settings';
import { readRecordingSettings, RecordingSettings } from '../recording/settings';
import { NO_SUMMARY, readSummarySettings, SummarySettings } from '../summary/settings';
import { readVoicemailAudio } from './voicemail-audio';

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
  /** Whether calls may be recorded; a route may say otherwise. */
  recording: Read<RecordingSettings>;
  /** Where the call's summary goes; the agent's actions are kept for it. */
  summary: Read<SummarySettings>;
  /**
   * The `<Connect action>` calls are given, by direction, under a route's
   * own: what a stream that comes back keeps. `outbound` is undefined in url
   * mode, where LiveKit's TwiML has none.
   */
  connectActions: { inbound: string; outbound: string | undefined };
  /** VOICEMAIL_AUDIO: the audio files among the service's public assets that leave-voicemail may play. */
  voicemailAudio: string[];
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
  const inbound = readInboundSettings(env);
  const recording = readRecordingSettings(env);
  const summary = readSummarySettings(env);
  const { voice, language } = readFallbackSettings(env);
  return {
    liveKit: liveKit.value,
    service,
    voice: { voice, language },
    targets: readTransferTargets(env),
    dial: readDialPolicy(env),
    outbound:
      outbound.ok && recording.ok
        ? {
            ok: true,
            value: {
              liveKit: liveKit.value,
              outbound: outbound.value,
              service,
              recording: recording.value,
              summary: summary.ok ? summary.value : NO_SUMMARY,
            },
          }
        : { ok: false, problems: problemsOf(outbound, recording) },
    recording,
    summary,
    voicemailAudio: readVoicemailAudio(env),
    connectActions: {
      inbound: inbound.ok ? inbound.value.connectActionUrl : '',
      outbound: outbound.ok && outbound.value.twimlMode === 'inline' ? outbound.value.connectActionUrl : undefined,
    },
  };
}
