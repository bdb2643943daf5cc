/**
 * The `outbound` request: parameter names in Twilio's REST style, every value
 * checked before anything is created anywhere. Pure: parameters and settings
 * in, a validated request or an error naming the field out.
 */
import { randomUUID } from 'node:crypto';
import { LIMITS } from '../config/settings';
import { checkDestination } from '../phone/destination';
import type { ApiError } from '../twilio/reply';
import type { OutboundSettings } from './settings';
import { addressKind, COUNTRY_CODE, isE164 } from '../phone/address';
import { clean, codePointLength, hasUnsafeCharacters } from '../util/sanitize';

export type MachineDetection = 'Enable' | 'DetectMessageEnd';
export type StatusCallbackEvent = 'initiated' | 'ringing' | 'answered' | 'completed';

/** Options passed through to Twilio's `calls.create`. */
export interface CallOptions {
  timeout?: number;
  timeLimit?: number;
  machineDetection?: MachineDetection;
  asyncAmd?: boolean;
  asyncAmdStatusCallback?: string;
  asyncAmdStatusCallbackMethod?: 'GET' | 'POST';
  statusCallback?: string;
  statusCallbackEvent?: StatusCallbackEvent[];
  statusCallbackMethod?: 'GET' | 'POST';
  record?: boolean;
}

export interface OutboundRequest {
  to: string;
  from: string;
  roomName: string;
  participantIdentity: string;
  participantName: string;
  participantMetadata: string;
  participantAttributes: Record<string, string>;
  agentNames: string[];
  agentMetadata: string;
  destinationCountry: string;
  call: CallOptions;
}

/** The parameters `outbound` reads. Names are case-sensitive, as in Twilio's API. */
export const PARAMETERS = [
  'To', 'From', 'RoomName', 'ParticipantIdentity', 'ParticipantName', 'ParticipantMetadata',
  'ParticipantAttributes', 'AgentName', 'AgentMetadata', 'DestinationCountry', 'Timeout', 'TimeLimit',
  'MachineDetection', 'AsyncAmd', 'AsyncAmdStatusCallback', 'AsyncAmdStatusCallbackMethod',
  'StatusCallback', 'StatusCallbackEvent', 'StatusCallbackMethod', 'Record',
] as const;

const BY_LOWER = new Map(PARAMETERS.map((name) => [name.toLowerCase(), name]));

const NAME = /^[A-Za-z0-9_.:@+\-]+$/;
const MAX_ATTRIBUTES = 32;

export class RequestError extends Error {
  constructor(readonly status: 400 | 403, readonly error: ApiError) {
    super(error.message);
  }
}

const bad = (field: string, message: string, code = 'invalid-parameter') => new RequestError(400, { code, message, field });

/** A value as sent: form fields are strings, JSON bodies may carry numbers and booleans. */
function scalar(params: Record<string, unknown>, field: string): string | undefined {
  const value = params[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw bad(field, `${field} must be a string`);
}

/** Free text: control characters are refused rather than silently changed, and length is bounded. */
function text(params: Record<string, unknown>, field: string, max: number): string | undefined {
  const value = scalar(params, field);
  if (value === undefined) return undefined;
  if (hasUnsafeCharacters(value)) throw bad(field, `${field} contains control characters`);
  if (codePointLength(value) > max) throw bad(field, `${field} is longer than ${max} characters`);
  return value;
}

function name(params: Record<string, unknown>, field: string, max: number): string | undefined {
  const value = text(params, field, max);
  if (value !== undefined && !NAME.test(value)) throw bad(field, `${field} may hold only letters, digits and _ . : @ + -`);
  return value;
}

function integer(params: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const value = scalar(params, field);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw bad(field, `${field} must be a whole number from ${min} to ${max}`);
  return n;
}

function boolean(params: Record<string, unknown>, field: string): boolean | undefined {
  const value = scalar(params, field);
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw bad(field, `${field} must be true or false`);
}

function choice<T extends string>(params: Record<string, unknown>, field: string, choices: readonly T[]): T | undefined {
  const value = scalar(params, field);
  if (value === undefined) return undefined;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw bad(field, `${field} must be one of: ${choices.join(', ')}`);
}

/** Callback URLs must be https: Twilio would send call details there. */
function callbackUrl(params: Record<string, unknown>, field: string): string | undefined {
  const value = text(params, field, 2048);
  if (value === undefined) return undefined;
  try {
    if (new URL(value).protocol === 'https:') return value;
  } catch {
    // reported below
  }
  throw bad(field, `${field} must be an https:// URL`);
}

function statusEvents(params: Record<string, unknown>): StatusCallbackEvent[] | undefined {
  const raw = params.StatusCallbackEvent;
  if (raw === undefined || raw === null || raw === '') return undefined;
  const items = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => (typeof v === 'string' ? v.split(/[\s,]+/) : [String(v)])).filter(Boolean);
  const allowed: StatusCallbackEvent[] = ['initiated', 'ringing', 'answered', 'completed'];
  for (const item of items) {
    if (!(allowed as string[]).includes(item)) throw bad('StatusCallbackEvent', `StatusCallbackEvent must be among: ${allowed.join(', ')}`);
  }
  return [...new Set(items)] as StatusCallbackEvent[];
}

function attributes(params: Record<string, unknown>): Record<string, string> {
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
  if (entries.length > MAX_ATTRIBUTES) throw bad('ParticipantAttributes', `ParticipantAttributes may hold at most ${MAX_ATTRIBUTES} entries`);
  const out: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (typeof value !== 'string') throw bad('ParticipantAttributes', `ParticipantAttributes.${clean(key, 64)} must be a string`);
    if (!key || codePointLength(key) > 64 || hasUnsafeCharacters(key)) throw bad('ParticipantAttributes', 'ParticipantAttributes keys must be 1 to 64 printable characters');
    // The service's own attributes describe the call; a request must not be able to forge them.
    if (key.startsWith('twilio.') || key.startsWith('sip.')) throw bad('ParticipantAttributes', `ParticipantAttributes.${key} is reserved`);
    if (codePointLength(value) > LIMITS.attribute || hasUnsafeCharacters(value)) {
      throw bad('ParticipantAttributes', `ParticipantAttributes.${key} must be at most ${LIMITS.attribute} printable characters`);
    }
    out[key] = value;
  }
  return out;
}

/** A near miss (`to`, `ROOMNAME`) is an error that names the expected spelling. */
function checkSpelling(params: Record<string, unknown>): void {
  for (const key of Object.keys(params)) {
    const expected = BY_LOWER.get(key.toLowerCase());
    if (expected && expected !== key) throw bad(key, `Unknown parameter ${key}: parameter names are case-sensitive, use ${expected}`, 'misspelled-parameter');
  }
}

function destination(params: Record<string, unknown>, settings: OutboundSettings): { to: string; country: string } {
  const to = scalar(params, 'To');
  if (to === undefined) throw bad('To', 'To is required: the E.164 number to call', 'missing-parameter');
  const kind = addressKind(to);
  if (kind === 'client' || kind === 'sip') {
    if (!settings.allowAddresses) {
      throw new RequestError(403, { code: 'destination-not-allowed', message: 'To may not be a client: or sip: address on this service', field: 'To' });
    }
    if (codePointLength(to) > 256 || hasUnsafeCharacters(to) || /\s/.test(to)) throw bad('To', 'To is not a valid address');
    return { to, country: '' };
  }
  if (!isE164(to)) throw bad('To', 'To must be an E.164 number such as +14155550100');
  const verdict = checkDestination(to, settings.destinations);
  if (!verdict.allowed) {
    throw new RequestError(403, {
      code: verdict.reason === 'blocked' ? 'destination-blocked' : 'destination-not-allowed',
      message: verdict.reason === 'blocked' ? 'To is in a premium-rate or blocked range' : 'To is outside the destinations this service may call',
      field: 'To',
    });
  }
  return { to, country: verdict.country };
}

export function readOutboundRequest(
  params: Record<string, unknown>,
  settings: OutboundSettings & { agentMetadata?: string },
  makeId: () => string = randomUUID,
): OutboundRequest {
  checkSpelling(params);
  const { to, country } = destination(params, settings);

  const from = scalar(params, 'From') ?? settings.callerIds[0]!;
  if (!settings.callerIds.includes(from)) {
    throw new RequestError(403, { code: 'caller-id-not-allowed', message: 'From must be one of the caller IDs configured for this service', field: 'From' });
  }

  const id = makeId();
  const roomName = name(params, 'RoomName', LIMITS.roomName) ?? `${settings.roomPrefix}${id}`;
  const participantIdentity = name(params, 'ParticipantIdentity', LIMITS.identity) ?? `callee-${id.slice(0, 8)}`;
  const participantName = text(params, 'ParticipantName', LIMITS.name) ?? (addressKind(to) === 'phone' ? to : 'Callee');
  const participantMetadata = text(params, 'ParticipantMetadata', LIMITS.metadata) ?? '';
  const participantAttributes = attributes(params);
  const agentName = name(params, 'AgentName', 128);
  const agentMetadata =
    text(params, 'AgentMetadata', LIMITS.metadata) ?? (settings.agentMetadata || JSON.stringify({ direction: 'outbound', to, from, roomName }));

  const countryParam = scalar(params, 'DestinationCountry');
  if (countryParam !== undefined && !COUNTRY_CODE.test(countryParam)) {
    throw bad('DestinationCountry', 'DestinationCountry must be an ISO 3166-1 alpha-2 code such as US');
  }

  const machineDetection = choice<MachineDetection>(params, 'MachineDetection', ['Enable', 'DetectMessageEnd']);
  const call: CallOptions = {
    timeout: integer(params, 'Timeout', 5, 600),
    timeLimit: integer(params, 'TimeLimit', 1, 14_400),
    machineDetection,
    asyncAmd: boolean(params, 'AsyncAmd'),
    asyncAmdStatusCallback: callbackUrl(params, 'AsyncAmdStatusCallback'),
    asyncAmdStatusCallbackMethod: choice(params, 'AsyncAmdStatusCallbackMethod', ['GET', 'POST'] as const),
    statusCallback: callbackUrl(params, 'StatusCallback'),
    statusCallbackEvent: statusEvents(params),
    statusCallbackMethod: choice(params, 'StatusCallbackMethod', ['GET', 'POST'] as const),
    record: boolean(params, 'Record'),
  };
  if ((call.asyncAmd || call.asyncAmdStatusCallback) && !machineDetection) {
    throw bad('MachineDetection', 'AsyncAmd and AsyncAmdStatusCallback need MachineDetection');
  }
  if ((call.statusCallbackEvent || call.statusCallbackMethod) && !call.statusCallback) {
    throw bad('StatusCallback', 'StatusCallbackEvent and StatusCallbackMethod need StatusCallback');
  }

  return {
    to,
    from,
    roomName,
    participantIdentity,
    participantName,
    participantMetadata,
    participantAttributes,
    agentNames: agentName ? [agentName] : settings.agentNames,
    agentMetadata,
    destinationCountry: countryParam ?? country,
    call,
  };
}
