/**
 * `npm run doctor`: checks a deployment's settings the way the functions will
 * read them, and with `live` proves the credentials against LiveKit and
 * Twilio. Runs on the operator's machine, never on Twilio.
 */
import { RoomServiceClient } from 'livekit-server-sdk';
import {
  LIMITS,
  readFallbackSettings,
  readInboundSettings,
  readLiveKitSettings,
  readSignatureSettings,
} from '../config/settings';
import { describeProblems, Env } from '../config/env-reader';
import { readOutboundSettings } from '../outbound/settings';
import { isE164 } from '../phone/address';
import { parseRoutes, RouteTable } from '../config/routes';
import { hasUnsafeCharacters } from '../util/sanitize';
import type { Preflight } from './preflight';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** The parts of the twilio client the live checks use. */
export interface TwilioAccountApi {
  api: {
    v2010: {
      accounts(sid: string): { fetch(): Promise<{ status: string; friendlyName: string }> };
    };
  };
  incomingPhoneNumbers: {
    list(options: { limit: number }): Promise<{ phoneNumber: string; voiceUrl: string | null }[]>;
  };
}

export interface DoctorOptions {
  /** Text of the routes file, when there is one. */
  routesText?: string;
  /** The deploy preflight over the same `.env`. */
  deploy?: Preflight;
  live?: {
    twilio: () => TwilioAccountApi;
    /** The deployed `incoming` URL numbers should point at; without it, any URL ending in /incoming passes. */
    incomingUrl?: string;
  };
}

const pass = (name: string, detail: string): Check => ({ name, ok: true, detail });
const fail = (name: string, detail: string): Check => ({ name, ok: false, detail });

function text(env: Env, name: string): string {
  const value = env[name];
  return typeof value === 'string' ? value.trim() : '';
}

function staticChecks(env: Env, options: DoctorOptions): { checks: Check[]; routes?: RouteTable } {
  const checks: Check[] = [];
  const liveKit = readLiveKitSettings(env);
  checks.push(
    liveKit.ok
      ? pass('LiveKit settings', `${liveKit.value.url}, key ${liveKit.value.apiKey}, ${liveKit.value.timeoutMs} ms deadline`)
      : fail('LiveKit settings', describeProblems(liveKit.problems)),
  );

  const accountSid = text(env, 'ACCOUNT_SID');
  const token = text(env, 'AUTH_TOKEN');
  checks.push(
    /^AC[0-9a-f]{32}$/.test(accountSid) && /^[0-9a-f]{32}$/.test(token)
      ? pass('Twilio credentials', `account ${accountSid}, auth token set`)
      : fail('Twilio credentials', 'ACCOUNT_SID must be AC followed by 32 hex digits and AUTH_TOKEN 32 hex digits'),
  );

  const signature = readSignatureSettings(env);
  checks.push(
    signature.ok && signature.value.required
      ? pass('Signature checking', 'incoming checks X-Twilio-Signature')
      : fail(
          'Signature checking',
          signature.ok ? 'TWILIO_SIGNATURE_VALIDATION is false: anyone who finds the URL can open LiveKit sessions' : describeProblems(signature.problems),
        ),
  );

  const inbound = readInboundSettings(env);
  checks.push(
    inbound.ok
      ? pass('Incoming settings', inbound.value.agentNames.length ? `agents: ${inbound.value.agentNames.join(', ')}` : 'no agent names: no explicit dispatch')
      : fail('Incoming settings', describeProblems(inbound.problems)),
  );

  const problems: string[] = [];
  for (const name of ['GREETING', 'FALLBACK_MESSAGE', 'OUTBOUND_GREETING']) {
    const value = text(env, name);
    if (hasUnsafeCharacters(value)) problems.push(`${name} has control characters`);
    if (value.length > LIMITS.speech) problems.push(`${name} is longer than ${LIMITS.speech} characters`);
  }
  const fallbackNumber = text(env, 'FALLBACK_NUMBER');
  if (fallbackNumber && !isE164(fallbackNumber)) problems.push('FALLBACK_NUMBER is not an E.164 number (it would be ignored)');
  const fallback = readFallbackSettings(env);
  checks.push(
    problems.length
      ? fail('Greeting and fallback', problems.join('; '))
      : pass('Greeting and fallback', `fallback: "${fallback.message}"${fallback.number ? `, then ${fallback.number}` : ', then hang up'}`),
  );

  if (!text(env, 'OUTBOUND_CALLER_IDS')) {
    checks.push(pass('Outbound settings', 'OUTBOUND_CALLER_IDS not set: outbound will refuse every call'));
  } else {
    const outbound = readOutboundSettings(env);
    checks.push(
      outbound.ok
        ? pass(
            'Outbound settings',
            `caller IDs ${outbound.value.callerIds.join(', ')}; destinations ${[...outbound.value.destinations.countries, ...outbound.value.destinations.prefixes].join(', ') || 'none'}`,
          )
        : fail('Outbound settings', describeProblems(outbound.problems)),
    );
  }

  let routes: RouteTable | undefined;
  if (options.routesText === undefined) {
    checks.push(pass('Routes', 'no routes file: every number takes the default route'));
  } else {
    try {
      routes = parseRoutes(options.routesText);
      checks.push(pass('Routes', `${routes.routes.length} routes: ${routes.routes.map((r) => r.name).join(', ')}`));
    } catch (error) {
      checks.push(fail('Routes', error instanceof Error ? error.message : 'routes file could not be parsed'));
    }
  }
  if (options.deploy) {
    const { problems, context, variables } = options.deploy;
    checks.push(
      problems.length
        ? fail('Deploy preflight', problems.join('; '))
        : pass(
            'Deploy preflight',
            `${Object.keys(variables).length} variables; context ${context.bytes} of ${context.limit} bytes (${context.limit - context.bytes} free)`,
          ),
    );
  }
  return { checks, routes };
}

async function liveKitCheck(env: Env): Promise<Check> {
  const settings = readLiveKitSettings(env);
  if (!settings.ok) return fail('LiveKit credentials', 'skipped: the LiveKit settings are not valid');
  const client = new RoomServiceClient(settings.value.url, settings.value.apiKey, settings.value.apiSecret, { requestTimeout: 5, failover: false });
  try {
    const rooms = await client.listRooms();
    return pass('LiveKit credentials', `authenticated; ${rooms.length} active rooms`);
  } catch (error) {
    const e = error as { status?: number; message?: string; name?: string };
    if (e.status === 401 || e.status === 403) return fail('LiveKit credentials', `LiveKit refused the API key and secret (HTTP ${e.status})`);
    return fail('LiveKit credentials', `LiveKit could not be reached: ${e.status ? `HTTP ${e.status}` : e.name ?? 'error'}`);
  }
}

async function twilioChecks(env: Env, live: NonNullable<DoctorOptions['live']>, routes: RouteTable | undefined): Promise<Check[]> {
  const accountSid = text(env, 'ACCOUNT_SID');
  const client = live.twilio();
  try {
    const account = await client.api.v2010.accounts(accountSid).fetch();
    if (account.status !== 'active') return [fail('Twilio account', `account "${account.friendlyName}" is ${account.status}`)];
  } catch (error) {
    const e = error as { status?: number; code?: number };
    return [fail('Twilio account', e.code === 20003 ? 'Twilio refused ACCOUNT_SID and AUTH_TOKEN (error 20003)' : `Twilio could not be reached${e.status ? `: HTTP ${e.status}` : ''}`)];
  }
  const checks = [pass('Twilio account', `${accountSid} is active`)];

  const wanted = new Set<string>(text(env, 'OUTBOUND_CALLER_IDS').split(',').map((n) => n.trim()).filter(Boolean));
  for (const route of routes?.routes ?? []) for (const number of route.numbers) wanted.add(number);
  if (wanted.size === 0) return [...checks, pass('Phone numbers', 'no numbers configured to check')];
  const owned = await client.incomingPhoneNumbers.list({ limit: 1000 });
  for (const number of wanted) {
    const found = owned.find((n) => n.phoneNumber === number);
    const name = `Number ${number}`;
    if (!found) {
      checks.push(pass(name, 'not a Twilio number on this account: fine as a verified caller ID, but calls to it will not reach incoming'));
      continue;
    }
    const url = found.voiceUrl ?? '';
    const right = live.incomingUrl ? url === live.incomingUrl : /\/incoming$/.test(url);
    checks.push(right ? pass(name, `voice URL ${url}`) : fail(name, `voice URL is "${url || 'not set'}", expected ${live.incomingUrl ?? 'the deployed …/incoming'}`));
  }
  return checks;
}

export async function runDoctor(env: Env, options: DoctorOptions = {}): Promise<Check[]> {
  const { checks, routes } = staticChecks(env, options);
  if (!options.live) return checks;
  return [...checks, await liveKitCheck(env), ...(await twilioChecks(env, options.live, routes))];
}

export function formatChecks(checks: readonly Check[]): string {
  const lines = checks.map((c) => `${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
  const failed = checks.filter((c) => !c.ok).length;
  lines.push(failed ? `${failed} of ${checks.length} checks failed` : `all ${checks.length} checks passed`);
  return lines.join('\n');
}
