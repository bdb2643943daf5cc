/**
 * The `outbound` request: parameter names in Twilio's REST style, every value
 * checked before anything is created anywhere. Pure: parameters and settings
 * in, a validated request or an error naming the field out.
 */
import { randomUUID } from 'node:crypto';
import { LIMITS } from '../config/rules';
import { addressKind, COUNTRY_CODE } from '../phone/address';
import { checkDialable } from '../phone/dial-policy';
import {
  attributes,
  bad,
  boolean,
  callbackUrl,
  choice,
  integer,
  name,
  RequestError,
  scalar,
  StatusCallbackEvent,
  statusEvents,
  text,
} from '../api/parameters';
import type { OutboundSettings } from './settings';
import type { RecordingRequest } from '../recording/callbacks';
import { DIGITS_RULE, isDigits } from '../digits/digits';

export type MachineDetection = 'Enable' | 'DetectMessageEnd';

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
  /** How the recording is made and reported, when the call is recorded (../recording/callbacks). */
  recording?: RecordingRequest;
  /** Keys pressed as soon as the call connects (SendDigits). */
  sendDigits?: string;
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
  /** One call per key for 10 minutes, however often the request is retried. */
  idempotencyKey?: string;
  /** The service chose the identity (no ParticipantIdentity), so it may choose another. */
  identityChosen: boolean;
}

/** The parameters `outbound` reads. Names are case-sensitive, as in Twilio's API. */
export const PARAMETERS = [
  'To',
  'From',
  'RoomName',
  'ParticipantIdentity',
  'ParticipantName',
  'ParticipantMetadata',
  'ParticipantAttributes',
  'AgentName',
  'AgentMetadata',
  'DestinationCountry',
  'Timeout',
  'TimeLimit',
  'MachineDetection',
  'AsyncAmd',
  'AsyncAmdStatusCallback',
  'AsyncAmdStatusCallbackMethod',
  'StatusCallback',
  'StatusCallbackEvent',
  'StatusCallbackMethod',
  'Record',
  'SendDigits',
  'IdempotencyKey',
] as const;

const BY_LOWER = new Map(PARAMETERS.map((name) => [name.toLowerCase(), name]));

/** A near miss (`to`, `ROOMNAME`) is an error that names the expected spelling. */
function checkSpelling(params: Record<string, unknown>): void {
  for (const key of Object.keys(params)) {
    const expected = BY_LOWER.get(key.toLowerCase());
    if (expected && expected !== key)
      throw bad(key, `Unknown parameter ${key}: parameter names are case-sensitive, use ${expected}`, 'misspelled-parameter');
  }
}

function destination(params: Record<string, unknown>, settings: OutboundSettings): { to: string; country: string } {
  const to = scalar(params, 'To');
  if (to === undefined) throw bad('To', 'To is required: the E.164 number to call', 'missing-parameter');
  const verdict = checkDialable(to, settings);
  if (verdict.ok) return { to, country: verdict.country };
  if (verdict.code === 'invalid') throw bad('To', verdict.message);
  throw new RequestError(403, { code: verdict.code, message: verdict.message, field: 'To' });
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
    throw new RequestError(403, {
      code: 'caller-id-not-allowed',
      message: 'From must be one of the caller IDs configured for this service',
      field: 'From',
    });
  }

  const id = makeId();
  const roomName = name(params, 'RoomName', LIMITS.roomName) ?? `${settings.roomPrefix}${id}`;
  const givenIdentity = name(params, 'ParticipantIdentity', LIMITS.identity);
  const participantIdentity = givenIdentity ?? calleeIdentity(id);
  const participantName = text(params, 'ParticipantName', LIMITS.name) ?? (addressKind(to) === 'phone' ? to : 'Callee');
  const participantMetadata = text(params, 'ParticipantMetadata', LIMITS.metadata) ?? '';
  const participantAttributes = attributes(params);
  const agentName = name(params, 'AgentName', 128);
  const agentMetadata =
    text(params, 'AgentMetadata', LIMITS.metadata) ??
    (settings.agentMetadata || JSON.stringify({ direction: 'outbound', to, from, roomName }));

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
    sendDigits: sendDigits(params, machineDetection),
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
    idempotencyKey: name(params, 'IdempotencyKey', 128),
    identityChosen: givenIdentity === undefined,
  };
}

/**
 * SendDigits, as Twilio takes it: at most 32 of 0-9 A-D # * w W. Twilio
 * ignores MachineDetection when both are given (twilio-oai CreateCall
 * SendDigits), so asking for both is refused rather than half done.
 */
function sendDigits(params: Record<string, unknown>, machineDetection: MachineDetection | undefined): string | undefined {
  const digits = scalar(params, 'SendDigits');
  if (digits === undefined) return undefined;
  if (!isDigits(digits, 32)) throw bad('SendDigits', `SendDigits ${DIGITS_RULE}`);
  if (machineDetection)
    throw bad('SendDigits', 'SendDigits and MachineDetection cannot be combined: Twilio ignores MachineDetection when SendDigits is given');
  return digits;
}

/** The identity the service gives a callee: `callee-` and 8 hex digits of a fresh UUID. */
function calleeIdentity(id: string = randomUUID()): string {
  return `callee-${id.slice(0, 8)}`;
}

/**
 * The identity a session is opened under when LiveKit's answer to the first
 * left it unknown whether that session exists (../outbound/session): derived,
 * so that a later request with the same IdempotencyKey knows where to look.
 */
export function resentIdentity(identity: string): string {
  return `${identity}-r`;
}
