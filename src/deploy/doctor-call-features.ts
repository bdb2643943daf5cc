/**
 * The doctor's checks of recording, voicemail audio and the summary webhook,
 * read with the readers the functions use.
 */
import { describeProblems, Env } from '../config/env-reader';
import type { RouteTable } from '../config/routes';
import { readVoicemailAudio } from '../call-control/voicemail-audio';
import { readOutboundSettings } from '../outbound/settings';
import { readRecordingSettings } from '../recording/settings';
import { readSummarySettings } from '../summary/settings';
import { Check, fail, pass, text } from './check';

export function recordingCheck(env: Env, routes: RouteTable | undefined): Check {
  const recording = readRecordingSettings(env);
  if (!recording.ok) return fail('Recording', describeProblems(recording.problems));
  const modes = [`default ${recording.value.mode}`, ...(routes?.routes ?? []).filter((r) => r.record).map((r) => `${r.name} ${r.record}`)];
  const outbound = readOutboundSettings(env);
  const urlMode = outbound.ok && outbound.value.twimlMode === 'url' && text(env, 'OUTBOUND_CALLER_IDS') !== '';
  const noticed = recording.value.notice || (routes?.routes ?? []).some((r) => r.recordingNotice);
  if (urlMode && noticed && (recording.value.mode === 'always' || (routes?.routes ?? []).some((r) => r.record === 'always')))
    return fail(
      'Recording',
      'RECORDING_NOTICE is set but OUTBOUND_TWIML_MODE is url: outbound refuses recorded calls it cannot play the notice to; set OUTBOUND_TWIML_MODE=inline',
    );
  return pass('Recording', `${modes.join(', ')}; ${recording.value.channels} channels${recording.value.notice ? '; with a notice' : ''}`);
}

/** Each VOICEMAIL_AUDIO name must be a public asset the deploy uploads. */
export function voicemailAudioCheck(env: Env, assetNames: readonly string[] | undefined): Check | undefined {
  const given = text(env, 'VOICEMAIL_AUDIO');
  if (!given) return undefined;
  const usable = readVoicemailAudio(env);
  const names = given
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const problems = names
    .filter((n) => !usable.includes(n))
    .map((n) => `${n} is not an audio file name (mp3, wav, aiff, gsm or ulaw, no folders)`);
  if (assetNames)
    problems.push(
      ...usable.filter((n) => !assetNames.includes(n)).map((n) => `${n} is not in src/assets (public), so Twilio could not fetch it`),
    );
  return problems.length ? fail('Voicemail audio', problems.join('; ')) : pass('Voicemail audio', usable.join(', '));
}

export function summaryCheck(env: Env, routes: RouteTable | undefined): Check {
  const summary = readSummarySettings(env);
  if (!summary.ok) return fail('Call summary', describeProblems(summary.problems));
  const routed = (routes?.routes ?? []).filter((r) => r.summaryWebhookUrl);
  if (!summary.value.url && routed.length === 0) return pass('Call summary', 'off (SUMMARY_WEBHOOK_URL not set)');
  if (summary.value.key.length === 0)
    return fail('Call summary', `routes ${routed.map((r) => r.name).join(', ')} send summaries, but SUMMARY_WEBHOOK_SECRET is not set`);
  const where = summary.value.url ? new URL(summary.value.url).host : 'routes only';
  return pass('Call summary', `to ${where}${routed.length ? ` and ${routed.length} routes' own` : ''}; numbers ${summary.value.numbers}`);
}
