/**
 * Which numbers the service may dial. A function that places calls on the
 * owner's account is a toll-fraud target, so a destination must be on the
 * allow-list, off the block-list, and of a kind of number that does not
 * charge the caller a premium, before anything else happens.
 *
 * The kind comes from libphonenumber's maintained metadata (the "max" set,
 * which knows number types): premium rate, shared cost, personal numbers,
 * pagers, UAN and voicemail access are refused unless allowed by name.
 * Twilio's Voice Geographic Permissions remain the real guard.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { isE164 } from './address';

/** libphonenumber's number types. */
export const NUMBER_TYPES = [
  'FIXED_LINE',
  'MOBILE',
  'FIXED_LINE_OR_MOBILE',
  'TOLL_FREE',
  'PREMIUM_RATE',
  'SHARED_COST',
  'PERSONAL_NUMBER',
  'VOIP',
  'PAGER',
  'UAN',
  'VOICEMAIL',
] as const;
export type NumberType = (typeof NUMBER_TYPES)[number];

/** Kinds of number that cost the caller more than a call should, refused unless OUTBOUND_ALLOWED_NUMBER_TYPES names them. */
export const COSTLY_TYPES: readonly NumberType[] = ['PREMIUM_RATE', 'SHARED_COST', 'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL'];

/**
 * What the metadata cannot know: international networks whose numbers it
 * classes as mobile or VoIP, but which are billed at satellite rates.
 * OUTBOUND_BLOCKED_PREFIXES adds to this list.
 */
export const BLOCKED_PREFIXES: readonly string[] = [
  '+870', // Inmarsat
  '+881', // global mobile satellite systems
  '+882', // international networks
  '+883', // international networks
];

export interface DestinationPolicy {
  /** ISO 3166-1 alpha-2 codes allowed. */
  countries: ReadonlySet<string>;
  /** E.164 prefixes allowed whatever their country. */
  prefixes: readonly string[];
  /** E.164 prefixes refused even when otherwise allowed. */
  blocked: readonly string[];
  /** Costly types allowed anyway. */
  allowedTypes: ReadonlySet<NumberType>;
}

export type DestinationVerdict =
  | { allowed: true; country: string }
  | { allowed: false; reason: 'blocked' | 'not-allowed'; country: string }
  | { allowed: false; reason: 'number-type'; country: string; type: NumberType };

/** The ISO country of an E.164 number (resolving shared codes such as +1), or ''. */
export function countryOf(number: string): string {
  if (!isE164(number)) return '';
  return parsePhoneNumberFromString(number)?.country ?? '';
}

export function checkDestination(number: string, policy: DestinationPolicy): DestinationVerdict {
  const parsed = isE164(number) ? parsePhoneNumberFromString(number) : undefined;
  const country = parsed?.country ?? '';
  if (policy.blocked.some((prefix) => number.startsWith(prefix))) return { allowed: false, reason: 'blocked', country };
  const type = parsed?.getType() as NumberType | undefined;
  if (type && COSTLY_TYPES.includes(type) && !policy.allowedTypes.has(type))
    return { allowed: false, reason: 'number-type', country, type };
  if (policy.prefixes.some((prefix) => number.startsWith(prefix))) return { allowed: true, country };
  if (country && policy.countries.has(country)) return { allowed: true, country };
  return { allowed: false, reason: 'not-allowed', country };
}
