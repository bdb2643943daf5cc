/**
 * Settings of the `outbound` function: who may be called, from which caller
 * IDs, and how the call is handed to LiveKit.
 */
import { LIMITS } from '../config/rules';
import {
  finish,
  GREETING_VARIABLES,
  GreetingSettings,
  parseActionUrl,
  Read,
  readAgentNames,
  readGreeting,
  readRoomPrefix,
} from '../config/settings';
import { BLOCKED_PREFIXES, countryOf, DestinationPolicy, NUMBER_TYPES, NumberType } from '../phone/destination';
import { Env, EnvReader, memoizedRead } from '../config/env-reader';
import { COUNTRY_CODE, E164_PREFIX, isE164 } from '../phone/address';
import { clean } from '../util/sanitize';

export type OutboundTwimlMode = 'url' | 'inline';

export interface OutboundSettings {
  /** Caller IDs a request may use; the first is the default. */
  callerIds: string[];
  destinations: DestinationPolicy;
  /** Whether `To` may be a `client:` or `sip:` address. */
  allowAddresses: boolean;
  /** Domains a `sip:` To may name. */
  sipDomains: string[];
  twimlMode: OutboundTwimlMode;
  roomPrefix: string;
  agentNames: string[];
  /** Spoken to the callee before connecting, in inline mode. */
  greeting: GreetingSettings;
  connectActionUrl: string;
  /** Deadline for each Twilio REST request, in milliseconds. */
  twilioTimeoutMs: number;
  /** Point the call's status (and async AMD) callbacks at this service's `status` function. */
  statusCallbacks: boolean;
}

function readCallerIds(reader: EnvReader): string[] {
  const callerIds = reader.list('OUTBOUND_CALLER_IDS');
  if (callerIds.length === 0) reader.problem('OUTBOUND_CALLER_IDS', 'is required: the E.164 numbers outbound calls may come from');
  for (const id of callerIds)
    if (!isE164(id)) reader.problem('OUTBOUND_CALLER_IDS', `has "${clean(id, 20)}", which is not an E.164 number`);
  return callerIds;
}

/** Where calls may go: the allow-list (by default the caller IDs' countries) and the block-list. */
function readDestinations(reader: EnvReader, callerIds: string[]): DestinationPolicy {
  const countries = new Set<string>();
  const prefixes: string[] = [];
  const allowed = reader.list('OUTBOUND_ALLOWED_DESTINATIONS');
  for (const entry of allowed) {
    const upper = entry.toUpperCase();
    if (COUNTRY_CODE.test(upper)) countries.add(upper);
    else if (E164_PREFIX.test(entry)) prefixes.push(entry);
    else reader.problem('OUTBOUND_ALLOWED_DESTINATIONS', `has "${clean(entry, 20)}": use ISO country codes (US) or E.164 prefixes (+1415)`);
  }
  // By default a deployment dials only the countries its own numbers are in.
  if (allowed.length === 0) for (const id of callerIds) if (countryOf(id)) countries.add(countryOf(id));

  const blocked = [...BLOCKED_PREFIXES];
  for (const entry of reader.list('OUTBOUND_BLOCKED_PREFIXES')) {
    if (E164_PREFIX.test(entry)) blocked.push(entry);
    else reader.problem('OUTBOUND_BLOCKED_PREFIXES', `has "${clean(entry, 20)}", which is not an E.164 prefix such as +1900`);
  }
  const allowedTypes = new Set<NumberType>();
  for (const entry of reader.list('OUTBOUND_ALLOWED_NUMBER_TYPES')) {
    const type = entry.toUpperCase().replace(/[\s-]/g, '_');
    if ((NUMBER_TYPES as readonly string[]).includes(type)) allowedTypes.add(type as NumberType);
    else reader.problem('OUTBOUND_ALLOWED_NUMBER_TYPES', `has "${clean(entry, 20)}": use ${NUMBER_TYPES.join(', ')}`);
  }
  return { countries, prefixes, blocked, allowedTypes };
}

/** SIP domains `sip:` destinations may name; `*.example.com` allows its subdomains. */
function readSipDomains(reader: EnvReader): string[] {
  const domains = reader.list('OUTBOUND_SIP_DOMAINS').map((d) => d.toLowerCase());
  for (const domain of domains) {
    if (!/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(domain)) {
      reader.problem('OUTBOUND_SIP_DOMAINS', `has "${clean(domain, 40)}", which is not a domain such as pbx.example.com or *.example.com`);
    }
  }
  return domains;
}

export const readOutboundSettings = memoizedRead(
  [
    'OUTBOUND_CALLER_IDS',
    'OUTBOUND_ALLOWED_DESTINATIONS',
    'OUTBOUND_BLOCKED_PREFIXES',
    'OUTBOUND_ROOM_PREFIX',
    'OUTBOUND_ALLOW_ADDRESSES',
    'OUTBOUND_SIP_DOMAINS',
    'OUTBOUND_ALLOWED_NUMBER_TYPES',
    'OUTBOUND_TWIML_MODE',
    'AGENT_NAMES',
    ...GREETING_VARIABLES,
    'OUTBOUND_GREETING',
    'OUTBOUND_CONNECT_ACTION_URL',
    'TWILIO_TIMEOUT_MS',
    'OUTBOUND_STATUS_CALLBACKS',
  ],
  (env: Env): Read<OutboundSettings> => {
    const reader = new EnvReader(env);
    const callerIds = readCallerIds(reader);
    const destinations = readDestinations(reader, callerIds);
    const roomPrefix = readRoomPrefix(reader, 'OUTBOUND_ROOM_PREFIX', 'call-out-');

    const voice = readGreeting(reader);
    return finish(reader, {
      callerIds,
      destinations,
      allowAddresses: reader.flag('OUTBOUND_ALLOW_ADDRESSES', false),
      sipDomains: readSipDomains(reader),
      twimlMode: reader.oneOf<OutboundTwimlMode>('OUTBOUND_TWIML_MODE', ['url', 'inline'], 'url'),
      roomPrefix,
      agentNames: readAgentNames(reader),
      greeting: { ...voice, text: clean(reader.text('OUTBOUND_GREETING'), LIMITS.speech) },
      connectActionUrl: parseActionUrl(reader, 'OUTBOUND_CONNECT_ACTION_URL'),
      twilioTimeoutMs: reader.integer('TWILIO_TIMEOUT_MS', 3500, 500, 4500),
      statusCallbacks: reader.flag('OUTBOUND_STATUS_CALLBACKS', true),
    });
  },
);
