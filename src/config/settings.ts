/**
 * The service's settings, read from the Twilio environment (`context`).
 * Every variable is documented in `.env.example`; this module is the only
 * place that knows their names.
 */
import { ConfigProblem, Env, EnvReader, memoizedRead } from './env-reader';
import { isE164 } from '../phone/address';
import { clean } from '../util/sanitize';
import { ACTION_URL_RULE, isRoomPrefix, LIMITS, normaliseActionUrl, ROOM_PREFIX_RULE } from './rules';

export interface LiveKitSettings {
  /** HTTPS (or loopback HTTP) origin of the LiveKit API, derived from LIVEKIT_URL. */
  url: string;
  apiKey: string;
  apiSecret: string;
  /** Deadline for one LiveKit request, in milliseconds. */
  timeoutMs: number;
}

export interface GreetingSettings {
  /** Spoken before the call is connected; empty for none. */
  text: string;
  voice: string;
  language: string;
}

export interface FallbackSettings {
  /** Spoken when the call cannot be connected to LiveKit. */
  message: string;
  /** E.164 number the caller is forwarded to after the message; empty hangs up. */
  number: string;
}

export type IdentityPolicy = 'caller' | 'call';
export type NamePolicy = 'number' | 'caller-name' | 'none';

export interface InboundSettings {
  roomPrefix: string;
  agentNames: string[];
  /** Fixed dispatch metadata; empty means "describe the call as JSON". */
  agentMetadata: string;
  identityPolicy: IdentityPolicy;
  namePolicy: NamePolicy;
  greeting: GreetingSettings;
  /** `<Connect action>`: requested when the stream ends, e.g. to return to Studio. */
  connectActionUrl: string;
}

export interface SignatureSettings {
  /** Whether requests must carry a valid X-Twilio-Signature. */
  required: boolean;
  authToken: string;
}

/** The result of reading part of the configuration: settings, or what is wrong. */
export type Read<T> = { ok: true; value: T } | { ok: false; problems: ConfigProblem[] };

export const DEFAULT_FALLBACK_MESSAGE = "Sorry, we can't connect your call right now. Please try again later.";

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Every problem of several reads, so that a misconfiguration is reported whole, not one variable per try. */
export function problemsOf(...reads: Read<unknown>[]): ConfigProblem[] {
  return reads.flatMap((read) => (read.ok ? [] : read.problems));
}

export function finish<T>(reader: EnvReader, value: T): Read<T> {
  return reader.problems.length ? { ok: false, problems: reader.problems } : { ok: true, value };
}

/**
 * LIVEKIT_URL may be the `wss://` URL clients use or the `https://` API
 * origin. Plain `ws://`/`http://` is accepted only for loopback hosts, so
 * credentials never cross a network unencrypted.
 */
export function parseLiveKitUrl(reader: EnvReader, name: string): string {
  const raw = reader.required(name);
  if (!raw) return '';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    reader.problem(name, 'must be a URL such as wss://your-project.livekit.cloud');
    return '';
  }
  const secure = url.protocol === 'wss:' || url.protocol === 'https:';
  const plain = url.protocol === 'ws:' || url.protocol === 'http:';
  if (!secure && !(plain && LOOPBACK_HOSTS.has(url.hostname))) {
    reader.problem(name, 'must start with wss:// or https://');
    return '';
  }
  if (url.username || url.password || url.search || url.hash || (url.pathname && url.pathname !== '/')) {
    reader.problem(name, 'must be just the origin, with no path, query or credentials');
    return '';
  }
  return `${secure ? 'https' : 'http'}://${url.host}`;
}

export const readLiveKitSettings = memoizedRead(
  ['LIVEKIT_URL', 'LIVEKIT_API_KEY', 'LIVEKIT_API_SECRET', 'LIVEKIT_TIMEOUT_MS'],
  (env: Env): Read<LiveKitSettings> => {
    const reader = new EnvReader(env);
    const url = parseLiveKitUrl(reader, 'LIVEKIT_URL');
    const apiKey = reader.required('LIVEKIT_API_KEY');
    const apiSecret = reader.required('LIVEKIT_API_SECRET');
    const timeoutMs = reader.integer('LIVEKIT_TIMEOUT_MS', 3000, 200, 4500);
    return finish(reader, { url, apiKey, apiSecret, timeoutMs });
  },
);

export const readSignatureSettings = memoizedRead(['TWILIO_SIGNATURE_VALIDATION', 'AUTH_TOKEN'], (env: Env): Read<SignatureSettings> => {
  const reader = new EnvReader(env);
  const required = reader.flag('TWILIO_SIGNATURE_VALIDATION', true);
  const authToken = required ? reader.required('AUTH_TOKEN') : reader.text('AUTH_TOKEN');
  return finish(reader, { required, authToken });
});

/** AGENT_NAMES: the agents dispatched to each call, cleaned; empty for none. */
export function readAgentNames(reader: EnvReader): string[] {
  return reader
    .list('AGENT_NAMES')
    .map((n) => clean(n, LIMITS.name))
    .filter(Boolean);
}

/** A room name prefix, or the default when unset. */
export function readRoomPrefix(reader: EnvReader, name: string, fallback: string): string {
  const prefix = reader.text(name) || fallback;
  if (!isRoomPrefix(prefix)) reader.problem(name, ROOM_PREFIX_RULE);
  return prefix;
}

/** The variables {@link readGreeting} reads. */
export const GREETING_VARIABLES = ['GREETING', 'GREETING_VOICE', 'GREETING_LANGUAGE'] as const;

export function readGreeting(reader: EnvReader): GreetingSettings {
  return {
    text: clean(reader.text('GREETING'), LIMITS.speech),
    voice: clean(reader.text('GREETING_VOICE'), 64),
    language: clean(reader.text('GREETING_LANGUAGE'), 16),
  };
}

/** Fallback settings never fail: a broken value is replaced by a safe default. */
export const readFallbackSettings = memoizedRead(
  ['FALLBACK_MESSAGE', 'FALLBACK_NUMBER', ...GREETING_VARIABLES],
  (env: Env): FallbackSettings & { voice: string; language: string } => {
    const reader = new EnvReader(env);
    const message = clean(reader.text('FALLBACK_MESSAGE'), LIMITS.speech) || DEFAULT_FALLBACK_MESSAGE;
    const number = reader.text('FALLBACK_NUMBER');
    const greeting = readGreeting(reader);
    return {
      message,
      number: isE164(number) ? number : '',
      voice: greeting.voice,
      language: greeting.language,
    };
  },
);

/** Absolute http(s) URL or a path on this service; empty when unset. */
export function parseActionUrl(reader: EnvReader, name: string): string {
  const value = reader.text(name);
  if (!value) return '';
  const url = normaliseActionUrl(value);
  if (url === undefined) reader.problem(name, ACTION_URL_RULE);
  return url ?? '';
}

export const readInboundSettings = memoizedRead(
  ['ROOM_PREFIX', 'AGENT_NAMES', 'AGENT_METADATA', 'PARTICIPANT_IDENTITY', 'PARTICIPANT_NAME', ...GREETING_VARIABLES, 'CONNECT_ACTION_URL'],
  (env: Env): Read<InboundSettings> => {
    const reader = new EnvReader(env);
    const roomPrefix = readRoomPrefix(reader, 'ROOM_PREFIX', 'call-');
    const agentNames = readAgentNames(reader);
    return finish(reader, {
      roomPrefix,
      agentNames,
      agentMetadata: clean(reader.text('AGENT_METADATA'), LIMITS.metadata),
      identityPolicy: reader.oneOf<IdentityPolicy>('PARTICIPANT_IDENTITY', ['caller', 'call'], 'caller'),
      namePolicy: reader.oneOf<NamePolicy>('PARTICIPANT_NAME', ['number', 'caller-name', 'none'], 'number'),
      greeting: readGreeting(reader),
      connectActionUrl: parseActionUrl(reader, 'CONNECT_ACTION_URL'),
    });
  },
);
