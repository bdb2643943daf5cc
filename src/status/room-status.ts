/**
 * Twilio's call statuses as the room sees them. The values mirror
 * `sip.callStatus` on LiveKit SIP participants where they overlap, so an
 * agent can treat both kinds of phone participant alike.
 */
import { own } from '../util/own';

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

/** Own keys only: a CallStatus of `constructor` is no status. */
export function roomStatusOf(twilioStatus: string): RoomCallStatus | undefined {
  return own(FROM_TWILIO, twilioStatus);
}

/**
 * Each stage a call reached is kept in an attribute of its own,
 * `twilio.stage.<stage>` = Twilio's status. Attribute updates merge, so
 * callbacks that overlap can never erase each other's stage, and the newest
 * stage reached can always be worked out again: LiveKit has no
 * compare-and-set, and `twilio.callStatus` alone could be overwritten by an
 * older callback that read before a newer one wrote.
 */
export const STAGE_PREFIX = 'twilio.stage.';

export function stageKey(stage: RoomCallStatus): string {
  return `${STAGE_PREFIX}${stage}`;
}

/** The furthest stage recorded in the attributes, with Twilio's status for it. */
export function latestStage(attributes: Record<string, string>): { stage: RoomCallStatus; detail: string } | undefined {
  let latest: { stage: RoomCallStatus; detail: string } | undefined;
  for (const stage of Object.keys(ORDER) as RoomCallStatus[]) {
    const detail = attributes[stageKey(stage)];
    if (detail) latest = { stage, detail };
  }
  return latest;
}

/**
 * Whether `next` may replace `current`. Callbacks can repeat or arrive out of
 * order; a call only moves forward, so a late `ringing` never undoes `hangup`.
 */
export function isNewer(next: RoomCallStatus, current: string | undefined): boolean {
  const known = current !== undefined ? (own(ORDER, current) ?? -1) : -1;
  return ORDER[next] > known;
}

export const STATUS_TOPIC = 'twilio.call-status';

/**
 * The status callback URL for a participant: this service's `/status`,
 * naming room, identity and route. Twilio signs the URL, so what it names
 * is as trustworthy as the callback itself: enough for `status` to bind the
 * call to its participant when `outbound` could not (../twilio/call-binding).
 */
export function statusCallbackUrl(functionBase: string, room: string, identity: string, route: string): string {
  return `${functionBase}/status?${new URLSearchParams([
    ['room', room],
    ['identity', identity],
    ['route', route],
  ]).toString()}`;
}
