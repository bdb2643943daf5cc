/**
 * Keys to press on a call: what Twilio plays as DTMF. `SendDigits` takes "at
 * most 32 of 0-9, A, B, C, D, # and *, with w for a half-second pause and W
 * for a second" (twilio-oai CreateCall SendDigits; error 21206); `<Play
 * digits>` takes the same characters (https://www.twilio.com/docs/voice/twiml/play).
 */
const DIGITS = /^[0-9A-D#*wW]+$/;

export const DIGITS_RULE = 'may hold only 0-9, A-D, #, * and the pauses w (half a second) and W (a second), at most 32';

export function isDigits(value: string, max: number): boolean {
  return value.length <= max && DIGITS.test(value);
}

/** How long Twilio takes to play them, roughly: tones of about a tenth of a second, and the pauses. */
export function playingMs(digits: string): number {
  let ms = 0;
  for (const c of digits) ms += c === 'w' ? 500 : c === 'W' ? 1000 : 100;
  return ms;
}
