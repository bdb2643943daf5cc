/**
 * When a call's summary is sent: once the call is over and none of its
 * recordings is still in progress or processing. Whichever callback brings
 * the last of those (the call's final status, or a recording's `completed`
 * or `absent`) sends it. Twilio is asked for the call and its recordings, so
 * what is reported is what Twilio has; the journal adds what only the
 * service knows. One sender per call: the first to create the journal's
 * `summary` item. If Sync cannot say, it sends anyway: the event id makes a
 * second delivery harmless.
 */
import { randomUUID } from 'node:crypto';
import { describeProblems } from '../config/env-reader';
import { LoadedRoutes, routeNamed } from '../config/routes';
import { callJournal } from '../journal/call-journal';
import type { TwilioClient } from '../outbound/steps';
import { classifyTwilioFailure, TwilioCall, TwilioRecording, withResends } from '../twilio/calls';
import type { Budget } from '../util/budget';
import type { LogFields } from '../util/log';
import { buildSummary, summaryId } from './build';
import { deliverWebhook } from './deliver';
import { Read } from '../config/settings';
import { summaryForRoute, SummarySettings } from './settings';

const FINAL_CALL = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);
const PENDING_RECORDING = new Set(['in-progress', 'paused', 'processing']);
const TWILIO_MS = 1500;
const SYNC_MS = 1000;

export interface SummaryDependencies {
  twilio: (timeoutMs: number) => TwilioClient;
  routes: () => LoadedRoutes;
  now?: () => Date;
}

export async function sendSummaryWhenDone(
  settings: Read<SummarySettings>,
  deps: SummaryDependencies,
  callSid: string,
  routeName: string,
  budget: Budget,
  /**
   * What the callback being handled brought, which Twilio's resources may
   * not show yet: the call's final status, or a recording's final state.
   */
  heard: { callStatus?: string; recording?: { sid: string; status: string } } = {},
): Promise<LogFields> {
  if (!settings.ok) return { summary: 'misconfigured', summaryReason: describeProblems(settings.problems) };
  const route = routeNamed(deps.routes(), routeName);
  const summary = summaryForRoute(settings.value, route);
  if (!summary.url) return {};
  if (summary.key.length === 0) return { summary: 'unsigned', summaryReason: 'SUMMARY_WEBHOOK_SECRET is not set' };

  let call: TwilioCall;
  let recordings: TwilioRecording[];
  try {
    const within = budget.share(TWILIO_MS, 3000, 300);
    [call, recordings] = await Promise.all([
      withResends(deps.twilio, within, true, (client) => client.calls(callSid).fetch()),
      withResends(deps.twilio, within, true, (client) => client.calls(callSid).recordings.list({ limit: 20 })),
    ]);
  } catch (error) {
    return { summary: 'twilio-failed', summaryReason: classifyTwilioFailure(error).error.code };
  }
  const { callStatus, recording } = heard;
  if (callStatus && FINAL_CALL.has(callStatus) && !FINAL_CALL.has(call.status)) call = { ...call, status: callStatus };
  if (recording) recordings = recordings.map((r) => (r.sid === recording.sid ? { ...r, status: recording.status } : r));
  if (!FINAL_CALL.has(call.status)) return { summary: 'call-live' };
  if (recordings.some((r) => PENDING_RECORDING.has(r.status))) return { summary: 'recordings-pending' };

  const journal = callJournal(deps.twilio, callSid);
  const facts = await journal.all(budget.share(SYNC_MS, 2500, 200));
  if (typeof facts === 'object' && facts.summary) return { summary: 'already-sent' };
  // The claim names its sender: a resent create that finds it taken may have found its own.
  const owner = randomUUID();
  let claim = await journal.add('summary', { state: 'sending', owner, at: new Date().toISOString() }, budget.share(SYNC_MS, 2500, 200));
  if (claim === 'exists') {
    const found = await journal.get('summary', budget.share(SYNC_MS, 2500, 200));
    if (typeof found !== 'object' || found.data.owner !== owner) return { summary: 'already-sent' };
    claim = 'done';
  }

  const now = deps.now?.() ?? new Date();
  const body = JSON.stringify(
    buildSummary({ call, recordings, facts: typeof facts === 'object' ? facts : {}, route: routeName, numbers: summary.numbers, now }),
  );
  const delivery = await deliverWebhook(summary.url, summary.key, summaryId(callSid), body, budget.share(6000, 300, 500));
  if (claim === 'done') {
    const kept = await journal.get('summary', budget.share(SYNC_MS, 100, 200));
    if (typeof kept === 'object')
      await journal.replace('summary', { ...delivery, at: now.toISOString() }, kept.revision, budget.share(SYNC_MS, 100, 200));
  }
  return delivery.outcome === 'delivered'
    ? { summary: 'delivered', summaryAttempts: delivery.attempts, journal: typeof facts === 'object' ? 'read' : 'failed' }
    : { summary: 'undelivered', summaryReason: delivery.reason, summaryAttempts: delivery.attempts };
}
