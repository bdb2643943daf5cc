/**
 * What a call's stream needs to come back as it was after keys are pressed:
 * the participant (room, identity, name, metadata, every attribute, the
 * call's binding included) and the call's `<Connect action>`. The update
 * that plays the keys ends the stream, and with it the participant, so this
 * is kept in the call's journal (../journal/call-journal) first and read by
 * /rejoin when Twilio comes back. Sealed with an HMAC keyed with the auth
 * token: whoever else can write to the account's Sync service could
 * otherwise hand /rejoin another call's attributes or an action URL of
 * their own, which would take the call over when its stream ends.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
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

function isStash(value: Record<string, unknown>): value is Record<string, unknown> & RejoinStash {
  const strings = ['room', 'identity', 'name', 'metadata', 'action'].every((k) => typeof value[k] === 'string');
  const attributes = value.attributes;
  return strings && typeof attributes === 'object' && attributes !== null && Object.values(attributes).every((v) => typeof v === 'string');
}

/**
 * Sync holds at most 16 KiB of data in an item (https://www.twilio.com/docs/sync/limits);
 * the stash with its seal must fit.
 */
export const MAX_STASH_CHARS = 15_000;

export interface SealedStash {
  text: string;
  seal: string;
}

const sealOf = (authToken: string, text: string) =>
  createHmac('sha256', authToken).update(`livekit-twilio-rejoin\n${text}`).digest('base64url');

export function sealStash(authToken: string, stash: RejoinStash): SealedStash {
  const text = JSON.stringify(stash);
  return { text, seal: sealOf(authToken, text) };
}

/** The stash, when the journal holds one this service sealed; undefined otherwise. */
export function openStash(authToken: string, data: Record<string, unknown>): RejoinStash | undefined {
  const { text, seal } = data;
  if (typeof text !== 'string' || typeof seal !== 'string' || !authToken) return undefined;
  const expected = Buffer.from(sealOf(authToken, text));
  const given = Buffer.from(seal);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  try {
    const stash = JSON.parse(text) as Record<string, unknown>;
    return isStash(stash) ? stash : undefined;
  } catch {
    return undefined;
  }
}
