/**
 * Twilio's call statuses as the room sees them. The values mirror
 * `sip.callStatus` on LiveKit SIP participants where they overlap, so an
 * agent can treat both kinds of phone participant alike.
 */

export type RoomCallStatus = 'dialing' | 'ringing' | 'active' | 'hangup';

const FROM_TWILIO: Record<string, RoomCallStatus> = {
  queued: 'dialing',
  initiated: 'dialing',
  ringing: 'ringing',
  'in-progress': 'active',
  answered: 'active',
  completed: 'hangup',
  busy: 'hangup',
  'no-answer': 'hangup',
  failed: 'hangup',
  canceled: 'hangup',
};

const ORDER: Record<RoomCallStatus, number> = { dialing: 0, ringing: 1, active: 2, hangup: 3 };

/** Twilio's final statuses for a call nobody answered. */
const UNANSWERED = new Set(['busy', 'no-answer', 'failed', 'canceled']);

export function roomStatusOf(twilioStatus: string): RoomCallStatus | undefined {
  return FROM_TWILIO[twilioStatus];
}

/**
 * Whether `next` may replace `current`. Callbacks can repeat or arrive out of
 * order; a call only moves forward, so a late `ringing` never undoes `hangup`.
 */
export function isNewer(next: RoomCallStatus, current: string | undefined): boolean {
  const known = current !== undefined && current in ORDER ? ORDER[current as RoomCallStatus] : -1;
  return ORDER[next] > known;
}

export function endedUnanswered(twilioStatus: string): boolean {
  return UNANSWERED.has(twilioStatus);
}

export const STATUS_TOPIC = 'twilio.call-status';

/** The status callback URL for a participant: this service's `/status`, naming room and identity. */
export function statusCallbackUrl(functionBase: string, room: string, identity: string): string {
  return `${functionBase}/status?${new URLSearchParams([
    ['room', room],
    ['identity', identity],
  ]).toString()}`;
}
