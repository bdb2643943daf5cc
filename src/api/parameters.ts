/**
 * Readers for the fields of a request to an API function (outbound, call-control).
 * Each checks one value as
 * sent (form fields are strings; JSON bodies may carry numbers and booleans)
 * and throws a {@link RequestError} that names the field.
 */
import { isName, LIMITS, NAME_RULE } from '../config/rules';
import { isReservedAttribute } from '../livekit/attributes';
import type { ApiError } from '../twilio/reply';
import { clean, codePointLength, hasUnsafeCharacters } from '../util/sanitize';

export type StatusCallbackEvent = 'initiated' | 'ringing' | 'answered' | 'completed';

export type Params = Record<string, unknown>;

const MAX_ATTRIBUTES = 32;

export class RequestError extends Error {
  constructor(
    readonly status: 400 | 403,
    readonly error: ApiError,
  ) {
    super(error.message);
  }
}

export const bad = (field: string, message: string, code = 'invalid-parameter') => new RequestError(400, { code, message, field });

/** A value as sent: form fields are strings, JSON bodies may carry numbers and booleans. */
export function scalar(params: Params, field: string): string | undefined {
  const value = params[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw bad(field, `${field} must be a string`);
}

/** Free text: control characters are refused rather than silently changed, and length is bounded. */
export function text(params: Params, field: string, max: number): string | undefined {
  const value = scalar(params, field);
  if (value === undefined) return undefined;
  if (hasUnsafeCharacters(value)) throw bad(field, `${field} contains control characters`);
  if (codePointLength(value) > max) throw bad(field, `${field} is longer than ${max} characters`);
  return value;
}

export function name(params: Params, field: string, max: number): string | undefined {
  const value = text(params, field, max);
  if (value !== undefined && !isName(value, max)) throw bad(field, `${field} ${NAME_RULE}`);
  return value;
}

export function integer(params: Params, field: string, min: number, max: number): number | undefined {
  const value = scalar(params, field);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw bad(field, `${field} must be a whole number from ${min} to ${max}`);
  return n;
}

export function boolean(params: Params, field: string): boolean | undefined {
  const value = scalar(params, field);
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw bad(field, `${field} must be true or false`);
}

export function choice<T extends string>(params: Params, field: string, choices: readonly T[]): T | undefined {
  const value = scalar(params, field);
  if (value === undefined) return undefined;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw bad(field, `${field} must be one of: ${choices.join(', ')}`);
}

/** Callback URLs must be https: Twilio would send call details there. */
export function callbackUrl(params: Params, field: string): string | undefined {
  const value = text(params, field, 2048);
  if (value === undefined) return undefined;
  try {
    if (new URL(value).protocol === 'https:') return value;
  } catch {
    // reported below
  }
  throw bad(field, `${field} must be an https:// URL`);
}

export function statusEvents(params: Params): StatusCallbackEvent[] | undefined {
  const raw = params.StatusCallbackEvent;
  if (raw === undefined || raw === null || raw === '') return undefined;
  const items = (Array.isArray(raw) ? raw : [raw])
    .flatMap((v) => (typeof v === 'string' ? v.split(/[\s,]+/) : [String(v)]))
    .filter(Boolean);
  const allowed: StatusCallbackEvent[] = ['initiated', 'ringing', 'answered', 'completed'];
  for (const item of items) {
    if (!(allowed as string[]).includes(item)) throw bad('StatusCallbackEvent', `StatusCallbackEvent must be among: ${allowed.join(', ')}`);
  }
  return [...new Set(items)] as StatusCallbackEvent[];
}

export function attributes(params: Params): Record<string, string> {
  const raw = params.ParticipantAttributes;
  if (raw === undefined || raw === null || raw === '') return {};
  let parsed: unknown = raw;
  if (typeof raw === 'string') {
    if (raw.length > 16_384) throw bad('ParticipantAttributes', 'ParticipantAttributes is too large');
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw bad('ParticipantAttributes', 'ParticipantAttributes must be a JSON object of strings');
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw bad('ParticipantAttributes', 'ParticipantAttributes must be a JSON object of strings');
  }
  const entries = Object.entries(parsed);
  if (entries.length > MAX_ATTRIBUTES)
    throw bad('ParticipantAttributes', `ParticipantAttributes may hold at most ${MAX_ATTRIBUTES} entries`);
  for (const [key, value] of entries) {
    if (typeof value !== 'string') throw bad('ParticipantAttributes', `ParticipantAttributes.${clean(key, 64)} must be a string`);
    if (!key || codePointLength(key) > 64 || hasUnsafeCharacters(key))
      throw bad('ParticipantAttributes', 'ParticipantAttributes keys must be 1 to 64 printable characters');
    // The service's own attributes describe the call; a request must not be able to forge them.
    if (isReservedAttribute(key)) throw bad('ParticipantAttributes', `ParticipantAttributes.${key} is reserved`);
    if (codePointLength(value) > LIMITS.attribute || hasUnsafeCharacters(value)) {
      throw bad('ParticipantAttributes', `ParticipantAttributes.${key} must be at most ${LIMITS.attribute} printable characters`);
    }
  }
  // fromEntries keeps a key such as __proto__ as the attribute it is; `out[key] = value` would drop it.
  return Object.fromEntries(entries) as Record<string, string>;
}
