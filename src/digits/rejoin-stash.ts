/**
 * What a call's stream needs to come back as it was after keys are pressed:
 * the participant (room, identity, name, metadata, every attribute, the
 * call's binding included) and the call's `<Connect action>`. The update
 * that plays the keys ends the stream, and with it the participant, so this
 * is kept in the call's journal (../journal/call-journal) first and read by
 * /rejoin when Twilio comes back.
 */
export interface RejoinStash {
  room: string;
  identity: string;
  name: string;
  metadata: string;
  attributes: Record<string, string>;
  /** `<Connect action>` of the call's first TwiML, or ''. */
  action: string;
}

/** Set on the participant before the stream ends: it is coming back, this is no hang-up. */
export const REJOIN_ATTRIBUTE = 'twilio.rejoin';
/** The data message said to the room at the same moment. */
export const REJOIN_TOPIC = 'twilio.rejoin';

export const REJOIN_QUERY = ['room', 'identity', 'stash'] as const;

export function rejoinUrl(origin: string, room: string, identity: string, stash: string): string {
  return `${origin}/rejoin?${new URLSearchParams([
    ['room', room],
    ['identity', identity],
    ['stash', stash],
  ]).toString()}`;
}

export function isStash(value: Record<string, unknown>): value is Record<string, unknown> & RejoinStash {
  const strings = ['room', 'identity', 'name', 'metadata', 'action'].every((k) => typeof value[k] === 'string');
  const attributes = value.attributes;
  return strings && typeof attributes === 'object' && attributes !== null && Object.values(attributes).every((v) => typeof v === 'string');
}
