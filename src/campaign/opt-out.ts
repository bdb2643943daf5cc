/**
 * The opt-out list: numbers the campaign never calls. A file with one
 * number per line, or a CSV whose To column holds them; each is brought to
 * E.164 with libphonenumber (national forms read in `country`, by default
 * the country of the first caller ID), so `(415) 555-0123` in the list
 * matches `+14155550123` in the campaign. `client:` and `sip:` addresses
 * are compared as written, ignoring case.
 */
import { parsePhoneNumberFromString, CountryCode } from 'libphonenumber-js/max';
import { parseCsv } from './csv';

export interface OptOutList {
  numbers: Set<string>;
  /** Entries that are no number: listed so that a typo is seen, never silently dropped. */
  unreadable: { line: number; text: string }[];
}

/** The comparable form of an address: E.164 for a phone number, lower case for client:/sip:, '' when unreadable. */
export function normalizeNumber(value: string, country?: string): string {
  const text = value.trim();
  if (!text) return '';
  if (/^(client|sips?):/i.test(text)) return text.toLowerCase();
  const parsed = parsePhoneNumberFromString(text, country ? (country.toUpperCase() as CountryCode) : undefined);
  return parsed?.isPossible() ? parsed.number : '';
}

export function readOptOutList(text: string, country?: string): OptOutList {
  const records = parseCsv(text);
  const numbers = new Set<string>();
  const unreadable: OptOutList['unreadable'] = [];
  const header = records[0]?.fields.map((f) => f.trim());
  // A CSV with a To column (the campaign's own format, or an export of it); else one number per line.
  const column = header ? header.indexOf('To') : -1;
  const entries =
    column >= 0
      ? records.slice(1).map((r) => ({ line: r.line, text: r.fields[column] ?? '' }))
      : records.map((r) => ({ line: r.line, text: r.fields.join(',') }));
  for (const entry of entries) {
    const text = entry.text.trim();
    if (!text || text.startsWith('#')) continue;
    const number = normalizeNumber(text, country);
    if (number) numbers.add(number);
    else unreadable.push({ line: entry.line, text: text.slice(0, 40) });
  }
  return { numbers, unreadable };
}
