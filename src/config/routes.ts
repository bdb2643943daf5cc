/**
 * Routes: per-number settings for a service that answers many numbers. A
 * route matches the number a call reached (`To` inbound, the caller ID used
 * outbound) exactly or by prefix; the most specific match wins and numbers no
 * route claims use the environment's settings, the "default" route.
 *
 * Routes live in the private asset `routes.private.json`, validated as a
 * whole when loaded: a file with any error is not used at all.
 */
import type { GreetingSettings, IdentityPolicy, NamePolicy } from './settings';
import { LIMITS, normaliseActionUrl, ROOM_PREFIX } from './settings';
import { COUNTRY_CODE, E164_PREFIX, isE164 } from '../phone/address';
import { clean } from '../util/sanitize';

export interface Route {
  name: string;
  numbers: string[];
  prefixes: string[];
  agentNames?: string[];
  agentMetadata?: string;
  roomPrefix?: string;
  participantIdentity?: IdentityPolicy;
  participantName?: NamePolicy;
  /** Extra participant attributes (never `twilio.*` or `sip.*`). */
  attributes?: Record<string, string>;
  greeting?: Partial<GreetingSettings>;
  fallback?: { message?: string; number?: string };
  connectActionUrl?: string;
  outbound?: { allowedDestinations?: string[] };
}

export const DEFAULT_ROUTE: Route = { name: 'default', numbers: [], prefixes: [] };

export class RouteError extends Error {
  constructor(
    /** The route's name, or its position when it has none. */
    readonly route: string,
    readonly field: string,
    message: string,
  ) {
    super(`route ${route}: ${field} ${message}`);
    this.name = 'RouteError';
  }
}

const ROUTE_KEYS = new Set([
  'name', 'numbers', 'prefixes', 'agentNames', 'agentMetadata', 'roomPrefix', 'participantIdentity', 'participantName',
  'attributes', 'greeting', 'fallback', 'connectActionUrl', 'outbound',
]);
const NAME = /^[A-Za-z0-9_.\-]{1,64}$/;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class RouteReader {
  constructor(private readonly raw: Json, readonly label: string) {}

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
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) this.fail(field, `must be one of: ${choices.join(', ')}`);
    return value as T;
  }

  object(field: string, keys: readonly string[]): Json | undefined {
    const value = this.raw[field];
    if (value === undefined) return undefined;
    if (!isObject(value)) this.fail(field, 'must be an object');
    for (const key of Object.keys(value)) if (!keys.includes(key)) this.fail(`${field}.${key}`, `is not a known setting (known: ${keys.join(', ')})`);
    return value;
  }
}

function actionUrl(reader: RouteReader, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return normaliseActionUrl(value) ?? reader.fail('connectActionUrl', 'must be an https:// URL or a path starting with /');
}

function readRoute(raw: unknown, index: number): Route {
  const label = isObject(raw) && typeof raw.name === 'string' && raw.name ? `"${clean(raw.name, 64)}"` : `#${index + 1}`;
  if (!isObject(raw)) throw new RouteError(label, '(route)', 'must be an object');
  const r = new RouteReader(raw, label);
  for (const key of Object.keys(raw)) if (!ROUTE_KEYS.has(key)) r.fail(key, `is not a known setting (known: ${[...ROUTE_KEYS].join(', ')})`);

  const name = r.text('name', 64) ?? '';
  if (!NAME.test(name)) r.fail('name', 'is required: letters, digits, ".", "_" and "-" (at most 64)');
  if (name === DEFAULT_ROUTE.name) r.fail('name', '"default" is the environment\'s route; name this one differently');
  const numbers = r.list('numbers', isE164, 'an E.164 number') ?? [];
  const prefixes = r.list('prefixes', (p) => E164_PREFIX.test(p), 'an E.164 prefix such as +1415') ?? [];
  if (numbers.length + prefixes.length === 0) r.fail('numbers', 'or prefixes must name at least one number the route answers');

  const route: Route = { name, numbers, prefixes };
  const agentNames = r.list('agentNames', (n) => /^[A-Za-z0-9_.:@+\-]{1,128}$/.test(n), 'an agent name');
  if (agentNames) route.agentNames = agentNames;
  const agentMetadata = r.text('agentMetadata', LIMITS.metadata);
  if (agentMetadata !== undefined) route.agentMetadata = agentMetadata;
  const roomPrefix = r.text('roomPrefix', 40);
  if (roomPrefix !== undefined) {
    if (!ROOM_PREFIX.test(roomPrefix)) r.fail('roomPrefix', 'may hold only letters, digits, ".", "_" and "-" (at most 40)');
    route.roomPrefix = roomPrefix;
  }
  const identity = r.oneOf<IdentityPolicy>('participantIdentity', ['caller', 'call']);
  if (identity) route.participantIdentity = identity;
  const namePolicy = r.oneOf<NamePolicy>('participantName', ['number', 'caller-name', 'none']);
  if (namePolicy) route.participantName = namePolicy;

  // Attributes are free-form keys, so they are checked here rather than by `object`.
  const attrRaw = raw.attributes;
  if (attrRaw !== undefined) {
    if (!isObject(attrRaw)) return r.fail('attributes', 'must be an object of strings');
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(attrRaw)) {
      if (key.startsWith('twilio.') || key.startsWith('sip.')) r.fail(`attributes.${key}`, 'is reserved for the call\'s own attributes');
      if (!key || clean(key, 64) !== key) r.fail('attributes', 'keys must be 1 to 64 printable characters');
      out[key] = r.text(`attributes.${key}`, LIMITS.attribute, value, `attributes.${key}`) ?? '';
    }
    route.attributes = out;
  }

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

  const action = actionUrl(r, r.text('connectActionUrl', 2048));
  if (action !== undefined) route.connectActionUrl = action;

  const outbound = r.object('outbound', ['allowedDestinations']);
  if (outbound) {
    const destinations = outbound.allowedDestinations;
    if (!Array.isArray(destinations) || !destinations.every((d) => typeof d === 'string' && (COUNTRY_CODE.test(d) || E164_PREFIX.test(d)))) {
      r.fail('outbound.allowedDestinations', 'must be a list of ISO country codes (US) and E.164 prefixes (+1415)');
    }
    route.outbound = { allowedDestinations: destinations as string[] };
  }
  return route;
}

/** Routes indexed for matching: exact numbers in one map, prefixes in another. */
export class RouteTable {
  private readonly exact = new Map<string, Route>();
  private readonly byPrefix = new Map<string, Route>();
  private longestPrefix = 0;

  constructor(readonly routes: readonly Route[]) {
    const names = new Set<string>();
    for (const route of routes) {
      const label = `"${route.name}"`;
      if (names.has(route.name)) throw new RouteError(label, 'name', 'is used by two routes');
      names.add(route.name);
      for (const number of route.numbers) {
        const other = this.exact.get(number);
        if (other) throw new RouteError(label, 'numbers', `has ${number}, which route "${other.name}" has too`);
        this.exact.set(number, route);
      }
      for (const prefix of route.prefixes) {
        const other = this.byPrefix.get(prefix);
        if (other) throw new RouteError(label, 'prefixes', `has ${prefix}, which route "${other.name}" has too`);
        this.byPrefix.set(prefix, route);
        this.longestPrefix = Math.max(this.longestPrefix, prefix.length);
      }
    }
  }

  /** Exact number first, then the longest matching prefix, then the default route. */
  match(number: string): Route {
    const exact = this.exact.get(number);
    if (exact) return exact;
    for (let length = Math.min(number.length, this.longestPrefix); length >= 2; length -= 1) {
      const route = this.byPrefix.get(number.slice(0, length));
      if (route) return route;
    }
    return DEFAULT_ROUTE;
  }
}

export const EMPTY_ROUTES = new RouteTable([]);

/** Parses and validates a routes file. Throws {@link RouteError} naming the route and field. */
export function parseRoutes(text: string): RouteTable {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new RouteError('file', '(JSON)', `is not valid JSON: ${error instanceof Error ? error.message : 'parse error'}`);
  }
  if (!isObject(json)) throw new RouteError('file', '(top level)', 'must be an object with a "routes" list');
  for (const key of Object.keys(json)) if (key !== 'routes' && key !== '$comment') throw new RouteError('file', key, 'is not a known key (known: routes)');
  if (!Array.isArray(json.routes)) throw new RouteError('file', 'routes', 'must be a list');
  return new RouteTable(json.routes.map(readRoute));
}

/** The outcome of loading routes: a table to use, and the error that made it the empty one. */
export interface LoadedRoutes {
  table: RouteTable;
  error?: string;
}

/** Loads routes from a reader of the file's text (undefined when there is no file). Never throws. */
export function loadRoutes(readText: () => string | undefined): LoadedRoutes {
  let text: string | undefined;
  try {
    text = readText();
  } catch {
    return { table: EMPTY_ROUTES, error: 'routes file could not be read' };
  }
  if (text === undefined) return { table: EMPTY_ROUTES };
  try {
    return { table: parseRoutes(text) };
  } catch (error) {
    return { table: EMPTY_ROUTES, error: error instanceof RouteError ? error.message : 'routes file could not be parsed' };
  }
}
