/**
 * What an agent asks for: one action on its own call, with the few values
 * that action takes. Values are strings (or, for `fields`, an object of
 * strings); `null` means "not given", as models send under strict tool
 * schemas. Every value is checked and bounded, and a parameter the action
 * does not take is refused, naming it; a target is a configured name, never
 * a number.
 */
import { bad } from '../api/parameters';
import { LIMITS } from '../config/rules';
import { TARGET_NAME, TARGET_NAME_RULE } from '../config/transfer-targets';
import { codePointLength, hasUnsafeCharacters } from '../util/sanitize';
import { ACTION_NAMES, ActionName, actionNamed } from './actions';
import { DIGITS_RULE, isDigits } from '../digits/digits';
import { AUDIO_NAME } from './voicemail-audio';

export const PARAMETERS = [
  'target',
  'message',
  'result',
  'fields',
  'brief',
  'accept',
  'callerId',
  'leg',
  'digits',
  'audio',
  'behavior',
] as const;
export type Parameter = (typeof PARAMETERS)[number];

export interface ControlRequest {
  action: ActionName;
  /** transfer, add-human: a configured target's name. */
  target?: string;
  /** transfer: spoken to the caller first, its whitespace made single spaces. */
  message?: string;
  /** return-to-flow: the flow's ConnectorResult. */
  result?: string;
  /** return-to-flow: values the agent collected, for the flow. */
  fields?: Record<string, string>;
  /** add-human: what the person hears before their stream opens. */
  brief?: string;
  /** add-human: the person must press 1 first. */
  accept?: boolean;
  /** add-human: whose number the person sees. */
  callerId?: 'service' | 'caller';
  /** hangup: which leg, when a person was brought in. */
  leg?: 'caller' | 'person' | 'both';
  /** press-keys: the keys, as `<Play digits>` takes them. */
  digits?: string;
  /** leave-voicemail: an audio file among the service's public assets, by name. */
  audio?: string;
  /** pause-recording: Twilio's PauseBehavior, `silence` (the gap kept as silence) or `skip`. */
  behavior?: 'silence' | 'skip';
}

export const MAX_FIELDS = 10;
/** `<Play digits>` takes Twilio's key characters; 32, as SendDigits, bounds how long the stream is away. */
const MAX_DIGITS = 32;

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
const RESULT = /^[A-Za-z0-9_.:@+-]{1,64}$/;
/** Query parameters of Studio's return URL a field may not replace. */
const RESERVED_FIELDS = new Set(['FlowEvent', 'ConnectorResult', 'ConnectorReason']);
const KNOWN = new Set<string>(['action', ...PARAMETERS]);
/** Line breaks, tabs and runs of spaces, as models write them: spoken as one space. */
const WHITESPACE = /\s+/gu;

/** A string value, or undefined for absent, null or blank. */
function stringOf(params: Record<string, unknown>, field: string): string | undefined {
  const value = params[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw bad(field, `${field} must be a string (or null for none)`);
  return value.trim() === '' ? undefined : value.trim();
}

/** Text to be spoken: whitespace made single spaces, other control characters refused, length bounded. */
function readSpeech(params: Record<string, unknown>, field: 'message' | 'brief'): string | undefined {
  const value = stringOf(params, field)?.replace(WHITESPACE, ' ');
  if (value === undefined) return undefined;
  if (hasUnsafeCharacters(value)) throw bad(field, `${field} contains control characters other than line breaks and tabs`);
  if (codePointLength(value) > LIMITS.speech) throw bad(field, `${field} is longer than ${LIMITS.speech} characters`);
  return value;
}

function readChoice<T extends string>(params: Record<string, unknown>, field: string, choices: readonly T[]): T | undefined {
  const value = stringOf(params, field);
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) throw bad(field, `${field} must be one of ${choices.join(', ')}`);
  return value as T;
}

function readFields(raw: unknown): Record<string, string> | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw bad('fields', 'fields must be a JSON object of strings');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('fields', 'fields must be an object of strings');
  const entries = Object.entries(value);
  if (entries.length > MAX_FIELDS) throw bad('fields', `fields may hold at most ${MAX_FIELDS} entries`);
  for (const [key, item] of entries) {
    if (!FIELD_NAME.test(key) || RESERVED_FIELDS.has(key))
      throw bad(
        'fields',
        `fields.${key.slice(0, 32)} is not a usable name (letters, digits and _, starting with a letter; not ${[...RESERVED_FIELDS].join(', ')})`,
      );
    if (typeof item !== 'string' || codePointLength(item) > LIMITS.attribute || hasUnsafeCharacters(item)) {
      throw bad('fields', `fields.${key} must be a string of at most ${LIMITS.attribute} printable characters`);
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

export function readControlRequest(params: Record<string, unknown>): ControlRequest {
  for (const key of Object.keys(params))
    if (!KNOWN.has(key)) throw bad(key.slice(0, 32), `Unknown parameter ${key.slice(0, 32)} (known: ${[...KNOWN].join(', ')})`);
  const name = stringOf(params, 'action');
  if (name === undefined) throw bad('action', `action is required: one of ${ACTION_NAMES.join(', ')}`, 'missing-parameter');
  const action = actionNamed(name);
  if (!action) throw bad('action', `action must be one of ${ACTION_NAMES.join(', ')}`);

  for (const field of PARAMETERS) {
    const given = params[field] !== undefined && params[field] !== null;
    if (given && !action.takes.includes(field))
      throw bad(field, `${name} takes ${action.takes.length ? `only ${action.takes.join(', ')}` : 'no parameters'}, not ${field}`);
  }
  const request: ControlRequest = { action: name as ActionName };
  const target = stringOf(params, 'target');
  if (target !== undefined && !TARGET_NAME.test(target)) throw bad('target', `target ${TARGET_NAME_RULE}`);
  if (target !== undefined) request.target = target;
  const message = readSpeech(params, 'message');
  if (message !== undefined) request.message = message;
  const brief = readSpeech(params, 'brief');
  if (brief !== undefined) request.brief = brief;
  const accept = readChoice(params, 'accept', ['true', 'false'] as const);
  if (accept !== undefined) request.accept = accept === 'true';
  const callerId = readChoice(params, 'callerId', ['service', 'caller'] as const);
  if (callerId !== undefined) request.callerId = callerId;
  const leg = readChoice(params, 'leg', ['caller', 'person', 'both'] as const);
  if (leg !== undefined) request.leg = leg;
  const digits = stringOf(params, 'digits');
  if (digits !== undefined && !isDigits(digits, MAX_DIGITS)) throw bad('digits', `digits ${DIGITS_RULE}`);
  if (digits !== undefined) request.digits = digits;
  const audio = stringOf(params, 'audio');
  if (audio !== undefined && !AUDIO_NAME.test(audio))
    throw bad(
      'audio',
      "audio must name an audio file among the service's assets, such as voicemail.mp3 (letters, digits, _ - and one dot)",
    );
  if (audio !== undefined) request.audio = audio;
  const behavior = readChoice(params, 'behavior', ['silence', 'skip'] as const);
  if (behavior !== undefined) request.behavior = behavior;
  const result = stringOf(params, 'result');
  if (result !== undefined && !RESULT.test(result))
    throw bad('result', 'result may hold only letters, digits and _ . : @ + - (at most 64)');
  if (result !== undefined) request.result = result;
  const fields = readFields(params.fields);
  if (fields) request.fields = fields;
  for (const field of action.needs ?? [])
    if ((request as unknown as Record<string, unknown>)[field] === undefined)
      throw bad(
        field,
        `${name} needs ${field === 'target' ? 'a target: the name of a configured transfer target' : field}`,
        'missing-parameter',
      );
  return request;
}
