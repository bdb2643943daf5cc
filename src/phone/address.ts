/** Classification of the addresses Twilio puts in `From` and `To`. */

const E164 = /^\+[1-9]\d{6,14}$/;

/** A leading part of an E.164 number, such as +1415: used by allow- and block-lists. */
export const E164_PREFIX = /^\+[1-9]\d{0,14}$/;

/** An ISO 3166-1 alpha-2 country code, upper case. */
export const COUNTRY_CODE = /^[A-Z]{2}$/;

/** True for a number in E.164 form: `+`, country code, at most 15 digits. */
export function isE164(value: string): boolean {
  return E164.test(value);
}

// Numbers Twilio substitutes when the caller's number is not available.
// https://www.twilio.com/docs/voice/twiml#request-parameters (From)
const WITHHELD_NUMBERS = new Set([
  '+266696687', // anonymous
  '+7378742833', // restricted
  '+2562533', // blocked
  '+8656696', // unavailable
  '+86282452253', // unknown
]);

export type AddressKind = 'phone' | 'client' | 'sip' | 'withheld' | 'other';

export function addressKind(address: string): AddressKind {
  const value = address.trim();
  if (!value) return 'withheld';
  const lower = value.toLowerCase();
  if (lower.startsWith('client:')) return 'client';
  if (lower.startsWith('sip:') || lower.startsWith('sips:')) return 'sip';
  if (['anonymous', 'restricted', 'unknown', 'unavailable', 'private', 'blocked'].includes(lower)) {
    return 'withheld';
  }
  if (WITHHELD_NUMBERS.has(value)) return 'withheld';
  if (isE164(value)) return 'phone';
  return 'other';
}
