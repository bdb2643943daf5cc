/**
 * The summary of one call, from what Twilio says of the call and its
 * recordings (authoritative, and there after the call) and what the
 * service kept in the call's journal (../journal/call-journal): the room,
 * the route, the Studio flow and the agent's actions. Pure.
 */
import { createHash } from 'node:crypto';
import type { TwilioCall, TwilioRecording } from '../twilio/calls';
import type { NumberPolicy } from './settings';

export const SUMMARY_EVENT = 'call.summary';

/** The event's id: the same for every delivery of one call's summary, so a receiver counts it once. */
export function summaryId(callSid: string): string {
  return `evt_${createHash('sha256').update(`call.summary\n${callSid}`).digest('hex').slice(0, 32)}`;
}

export function shownNumber(number: string | undefined, policy: NumberPolicy): string | undefined {
  if (!number || policy === 'none') return undefined;
  // Masked, a short number would hide nearly nothing: left out instead.
  if (policy === 'full' || !/^\+\d{8,}$/.test(number)) return policy === 'full' ? number : undefined;
  return `${'*'.repeat(number.length - 4)}${number.slice(-4)}`;
}

const iso = (value: Date | string | null | undefined): string | undefined => {
  if (!value) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
};
const seconds = (value: string | null | undefined): number | undefined =>
  value !== null && value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
const text = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);

export interface SummaryInput {
  call: TwilioCall;
  recordings: TwilioRecording[];
  /** The journal's facts, by key. */
  facts: Record<string, Record<string, unknown>>;
  route: string;
  numbers: NumberPolicy;
  now: Date;
}

export function buildSummary({ call, recordings, facts, route, numbers, now }: SummaryInput): Record<string, unknown> {
  const connected = facts.connected ?? {};
  const actions = Object.entries(facts)
    .filter(([key]) => key.startsWith('action-'))
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([, fact]) => fact);
  return {
    id: summaryId(call.sid),
    type: SUMMARY_EVENT,
    createdAt: now.toISOString(),
    call: {
      sid: call.sid,
      direction: call.direction === 'inbound' ? 'inbound' : 'outbound',
      from: shownNumber(call.from, numbers),
      to: shownNumber(call.to, numbers),
      status: call.status,
      durationSeconds: seconds(call.duration),
      startedAt: iso(call.startTime),
      endedAt: iso(call.endTime),
      answeredBy: text(call.answeredBy),
    },
    route: text(connected.route) ?? route,
    room: text(connected.room),
    // The caller's number is the identity by default (PARTICIPANT_IDENTITY=caller): shown as numbers are.
    participantIdentity: /^\+\d+$/.test(text(connected.identity) ?? '')
      ? shownNumber(text(connected.identity), numbers)
      : text(connected.identity),
    studioFlowSid: text(connected.flowSid),
    recordings: recordings.map((r) => ({
      sid: r.sid,
      status: r.status,
      durationSeconds: seconds(r.duration),
      channels: r.channels ?? undefined,
      source: text(r.source),
      startedAt: iso(r.startTime),
    })),
    actions,
  };
}
