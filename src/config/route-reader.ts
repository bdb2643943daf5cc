/**
 * Reads one route of the routes file, field by field, as strictly as the
 * environment's settings are read: an unknown key, a wrong type or a value
 * out of bounds is an error naming the route and the field.
 */
import { isReservedAttribute } from '../livekit/attributes';
import { COUNTRY_CODE, E164_PREFIX, isE164 } from '../phone/address';
import { clean } from '../util/sanitize';
import { DEFAULT_ROUTE, Route, RouteError } from './route';
import { isDialAddress, TARGET_NAME, TARGET_NAME_RULE } from './transfer-targets';
import { ACTION_URL_RULE, isName, isRoomPrefix, LIMITS, normaliseActionUrl, ROOM_PREFIX_RULE } from './rules';
import type { IdentityPolicy, NamePolicy } from './settings';
import { RECORD_MODES, RecordMode } from '../recording/settings';
import { WEBHOOK_URL_RULE, webhookUrlOf } from '../summary/settings';

const ROUTE_KEYS = new Set([
  'name',
  'numbers',
  'prefixes',
  'agentNames',
  'agentMetadata',
  'roomPrefix',
  'participantIdentity',
  'participantName',
  'attributes',
  'greeting',
  'fallback',
  'connectActionUrl',
  'outbound',
  'transferTargets',
  'record',
  'recordingNotice',
  'summaryWebhookUrl',
]);
const ROUTE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class RouteReader {
  constructor(
    private readonly raw: Json,
    readonly label: string,
  ) {}

  fail(field: string, message: string): never {
    throw new RouteError(this.label, field, message);
  }

  text(field: string, max: number, value: unknown = this.raw[field], path = field): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string') this.fail(path, 'must be a string');
    if (clean(value, max) !== value.trim()) this.fail(path, `must be at most ${max} printable characters`);
    return value.trim();
  }

  list(field: string, check: (item: string) => boolean, what: string): string[] | undefined {
    const value = this.raw[field];
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) this.fail(field, 'must be a list of strings');
    for (const item of value as string[]) if (!check(item)) this.fail(field, `has "${clean(item, 32)}", which is not ${what}`);
    return value as string[];
  }

  oneOf<T extends string>(field: string, choices: readonly T[]): T | undefined {
    const value = this.raw[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value))
      this.fail(field, `must be one of: ${choices.join(', ')}`);
    return value as T;
  }

  object(field: string, keys: readonly string[]): Json | undefined {
    const value = this.raw[field];
    if (value === undefined) return undefined;
    if (!isObject(value)) this.fail(field, 'must be an object');
    for (const key of Object.keys(value))
      if (!keys.includes(key)) this.fail(`${field}.${key}`, `is not a known setting (known: ${keys.join(', ')})`);
    return value;
  }
}

/** Who the route is: its name and the numbers it answers. */
function readIdentity(r: RouteReader): Route {
  const name = r.text('name', 64) ?? '';
  if (!ROUTE_NAME.test(name)) r.fail('name', 'is required: letters, digits, ".", "_" and "-" (at most 64)');
  if (name === DEFAULT_ROUTE.name) r.fail('name', '"default" is the environment\'s route; name this one differently');
  const numbers = r.list('numbers', isE164, 'an E.164 number') ?? [];
  const prefixes = r.list('prefixes', (p) => E164_PREFIX.test(p), 'an E.164 prefix such as +1415') ?? [];
  if (numbers.length + prefixes.length === 0) r.fail('numbers', 'or prefixes must name at least one number the route answers');
  return { name, numbers, prefixes };
}

/** Who joins the room and who is dispatched to it. */
function readParticipants(r: RouteReader, route: Route): void {
  const agentNames = r.list('agentNames', (n) => isName(n), 'an agent name');
  if (agentNames) route.agentNames = agentNames;
  const agentMetadata = r.text('agentMetadata', LIMITS.metadata);
  if (agentMetadata !== undefined) route.agentMetadata = agentMetadata;
  const roomPrefix = r.text('roomPrefix', 40);
  if (roomPrefix !== undefined) {
    if (!isRoomPrefix(roomPrefix)) r.fail('roomPrefix', ROOM_PREFIX_RULE);
    route.roomPrefix = roomPrefix;
  }
  const identity = r.oneOf<IdentityPolicy>('participantIdentity', ['caller', 'call']);
  if (identity) route.participantIdentity = identity;
  const namePolicy = r.oneOf<NamePolicy>('participantName', ['number', 'caller-name', 'none']);
  if (namePolicy) route.participantName = namePolicy;
}

/** Attributes are free-form keys, so they are checked here rather than by `object`. */
function readAttributes(r: RouteReader, raw: unknown): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  if (!isObject(raw)) return r.fail('attributes', 'must be an object of strings');
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (isReservedAttribute(key)) r.fail(`attributes.${key}`, "is reserved for the call's own attributes");
    if (!key || clean(key, 64) !== key) r.fail('attributes', 'keys must be 1 to 64 printable characters');
    out.push([key, r.text(`attributes.${key}`, LIMITS.attribute, value, `attributes.${key}`) ?? '']);
  }
  // fromEntries keeps every key as its own property, __proto__ included.
  return Object.fromEntries(out);
}

/** What the caller hears: greeting and fallback. */
function readSpeech(r: RouteReader, route: Route): void {
  const greeting = r.object('greeting', ['text', 'voice', 'language']);
  if (greeting) {
    route.greeting = {};
    const text = r.text('greeting.text', LIMITS.speech, greeting.text);
    const voice = r.text('greeting.voice', 64, greeting.voice);
    const language = r.text('greeting.language', 16, greeting.language);
    if (text !== undefined) route.greeting.text = text;
    if (voice !== undefined) route.greeting.voice = voice;
    if (language !== undefined) route.greeting.language = language;
  }
  const fallback = r.object('fallback', ['message', 'number']);
  if (fallback) {
    route.fallback = {};
    const message = r.text('fallback.message', LIMITS.speech, fallback.message);
    const number = r.text('fallback.number', 16, fallback.number);
    if (number !== undefined && !isE164(number)) r.fail('fallback.number', 'must be an E.164 number');
    if (message !== undefined) route.fallback.message = message;
    if (number !== undefined) route.fallback.number = number;
  }
}

function readOutbound(r: RouteReader): Route['outbound'] {
  const outbound = r.object('outbound', ['allowedDestinations']);
  if (!outbound) return undefined;
  const destinations = outbound.allowedDestinations;
  if (!Array.isArray(destinations) || !destinations.every((d) => typeof d === 'string' && (COUNTRY_CODE.test(d) || E164_PREFIX.test(d)))) {
    r.fail('outbound.allowedDestinations', 'must be a list of ISO country codes (US) and E.164 prefixes (+1415)');
  }
  return { allowedDestinations: destinations as string[] };
}

/** Names to addresses; each address is checked against the dial policy when an agent uses it. */
function readRouteTargets(r: RouteReader, raw: unknown): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  if (!isObject(raw)) return r.fail('transferTargets', 'must be an object of names to numbers or sip: addresses');
  const out: Record<string, string> = {};
  for (const [name, address] of Object.entries(raw)) {
    if (!TARGET_NAME.test(name)) r.fail(`transferTargets.${clean(name, 32)}`, TARGET_NAME_RULE);
    const value = r.text(`transferTargets.${name}`, 256, address, `transferTargets.${name}`);
    if (!value || !isDialAddress(value)) r.fail(`transferTargets.${name}`, 'must be an E.164 number or a sip: or client: address');
    out[name] = value;
  }
  return out;
}

/** Recording and the summary webhook. */
function readCallFeatures(r: RouteReader, route: Route): void {
  const record = r.oneOf<RecordMode>('record', RECORD_MODES);
  if (record) route.record = record;
  const notice = r.text('recordingNotice', LIMITS.speech);
  if (notice !== undefined) route.recordingNotice = notice;
  const summary = r.text('summaryWebhookUrl', 2048);
  if (summary !== undefined) route.summaryWebhookUrl = webhookUrlOf(summary) ?? r.fail('summaryWebhookUrl', WEBHOOK_URL_RULE);
}

/** One route of the file, checked field by field. Throws {@link RouteError} naming the route and field. */
export function readRoute(raw: unknown, index: number): Route {
  const label = isObject(raw) && typeof raw.name === 'string' && raw.name ? `"${clean(raw.name, 64)}"` : `#${index + 1}`;
  if (!isObject(raw)) throw new RouteError(label, '(route)', 'must be an object');
  const r = new RouteReader(raw, label);
  for (const key of Object.keys(raw))
    if (!ROUTE_KEYS.has(key)) r.fail(key, `is not a known setting (known: ${[...ROUTE_KEYS].join(', ')})`);

  const route = readIdentity(r);
  readParticipants(r, route);
  const attributes = readAttributes(r, raw.attributes);
  if (attributes) route.attributes = attributes;
  readSpeech(r, route);
  const action = r.text('connectActionUrl', 2048);
  if (action !== undefined) route.connectActionUrl = normaliseActionUrl(action) ?? r.fail('connectActionUrl', ACTION_URL_RULE);
  const outbound = readOutbound(r);
  if (outbound) route.outbound = outbound;
  const targets = readRouteTargets(r, raw.transferTargets);
  if (targets) route.transferTargets = targets;
  readCallFeatures(r, route);
  return route;
}
