/**
 * Cleaning of values that arrive from the phone network or from API callers
 * before they are echoed into TwiML, sent to LiveKit or written to a log.
 */

// C0 and C1 controls, DEL, lone surrogates and the XML non-characters. The
// twilio helper escapes markup but lets these through, and any one of them
// makes the whole TwiML document invalid XML (Twilio then plays its
// "application error" to the caller).
// With the u flag a paired surrogate is one code point, so \p{Cs} matches only lone ones.
const UNSAFE = /[\p{Cc}\p{Cs}\ufffe\uffff]/gu;

/** Removes control characters and caps the length (in code points, never splitting a pair). */
export function clean(value: unknown, maxLength: number): string {
  if (typeof value !== 'string' && typeof value !== 'number') return '';
  const text = String(value).replace(UNSAFE, '').trim();
  if (text.length <= maxLength) return text;
  return Array.from(text).slice(0, maxLength).join('');
}

// The same pattern without /g: `test` on a global pattern keeps state between calls.
const HAS_UNSAFE = new RegExp(UNSAFE.source, 'u');

/** True when the value holds characters that {@link clean} would remove. */
export function hasUnsafeCharacters(value: string): boolean {
  return HAS_UNSAFE.test(value);
}

/** Length in code points, the unit the limits in this project are given in. */
export function codePointLength(value: string): number {
  let count = 0;
  for (const _ of value) count += 1;
  return count;
}
