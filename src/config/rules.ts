/**
 * Rules that more than one kind of input must follow (environment variables,
 * the routes file, `outbound` requests), each written once so that every
 * place says the same thing about it.
 */

/** Lengths in code points, as LiveKit and Twilio bound them. */
export const LIMITS = {
  roomName: 128,
  identity: 128,
  name: 128,
  attribute: 256,
  metadata: 4096,
  speech: 1000,
} as const;

const ROOM_PREFIX = /^[A-Za-z0-9_.-]{0,40}$/;
export const ROOM_PREFIX_RULE = 'may hold only letters, digits, ".", "_" and "-" (at most 40)';

export function isRoomPrefix(value: string): boolean {
  return ROOM_PREFIX.test(value);
}

/** Characters allowed in room names, identities and agent names the service is given. */
const NAME = /^[A-Za-z0-9_.:@+-]+$/;
export const NAME_RULE = 'may hold only letters, digits and _ . : @ + -';

export function isName(value: string, max: number = LIMITS.name): boolean {
  return value.length <= max && NAME.test(value);
}

/** An absolute http(s) URL or a path on this service, normalised; undefined when it is neither. */
export function normaliseActionUrl(value: string): string | undefined {
  if (value.startsWith('/') && !value.startsWith('//')) return value;
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || url.protocol === 'http:') return url.toString();
  } catch {
    // not a URL
  }
  return undefined;
}

export const ACTION_URL_RULE = 'must be an https:// URL or a path starting with /';
