/**
 * Which numbers the service may dial. A function that places calls on the
 * owner's account is a toll-fraud target, so a destination must be on the
 * allow-list and off the block-list before anything else happens.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { isE164 } from './address';

/**
 * Premium-rate and special-service ranges most abused for toll fraud. A floor,
 * not a guarantee: Twilio's Voice Geographic Permissions remain the real
 * guard, and OUTBOUND_BLOCKED_PREFIXES adds to this list.
 */
export const PREMIUM_PREFIXES: readonly string[] = [
  '+1900',
  '+1976', // NANP premium
  '+4470',
  '+4487',
  '+4490',
  '+4491',
  '+4498', // UK personal numbering and premium
  '+49137',
  '+49900', // Germany
  '+3389', // France
  '+39892',
  '+39895',
  '+39899', // Italy
  '+34803',
  '+34806',
  '+34807',
  '+34905', // Spain
  '+61190', // Australia
  '+870',
  '+881',
  '+882',
  '+883', // satellite and international networks
];

export interface DestinationPolicy {
  /** ISO 3166-1 alpha-2 codes allowed. */
  countries: ReadonlySet<string>;
  /** E.164 prefixes allowed whatever their country. */
  prefixes: readonly string[];
  /** E.164 prefixes refused even when otherwise allowed. */
  blocked: readonly string[];
}

export type DestinationVerdict =
  { allowed: true; country: string } | { allowed: false; reason: 'blocked' | 'not-allowed'; country: string };

/** The ISO country of an E.164 number (resolving shared codes such as +1), or ''. */
export function countryOf(number: string): string {
  if (!isE164(number)) return '';
  return parsePhoneNumberFromString(number)?.country ?? '';
}

export function checkDestination(number: string, policy: DestinationPolicy): DestinationVerdict {
  const country = countryOf(number);
  if (policy.blocked.some((prefix) => number.startsWith(prefix))) return { allowed: false, reason: 'blocked', country };
  if (policy.prefixes.some((prefix) => number.startsWith(prefix))) return { allowed: true, country };
  if (country && policy.countries.has(country)) return { allowed: true, country };
  return { allowed: false, reason: 'not-allowed', country };
}
