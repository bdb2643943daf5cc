/**
 * The doctor's live checks: the credentials proven against LiveKit and
 * Twilio, and each configured number's voice URL read back from Twilio.
 * Each check says what it is reaching before it waits, and a failure names
 * its cause (./net-errors) and the next step.
 */
import { RoomServiceClient } from 'livekit-server-sdk';
import type { Env } from '../config/env-reader';
import type { RouteTable } from '../config/routes';
import { readLiveKitSettings } from '../config/settings';
import { Check, fail, pass, text } from './check';
import { describeNetworkError } from './net-errors';

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

export interface LiveOptions {
  twilio: () => TwilioAccountApi;
  /** The deployed `incoming` URL numbers should point at; without it, any URL ending in /incoming passes. */
  incomingUrl?: string;
  /** Where "checking … at …" goes before each request; stderr by default. */
  progress?: (line: string) => void;
}

/** How long the LiveKit check waits. */
const LIVEKIT_TIMEOUT_S = 5;
/** The Twilio client's address (twilio-node's default region and edge). */
const TWILIO_API = 'https://api.twilio.com';

const stderr = (line: string) => console.error(line);

export async function liveKitCheck(env: Env, progress: (line: string) => void = stderr): Promise<Check> {
  const settings = readLiveKitSettings(env);
  if (!settings.ok) return fail('LiveKit credentials', 'skipped: the LiveKit settings are not valid');
  const { url } = settings.value;
  progress(`checking LiveKit at ${url}: listing rooms (up to ${LIVEKIT_TIMEOUT_S} s) ...`);
  const client = new RoomServiceClient(url, settings.value.apiKey, settings.value.apiSecret, {
    requestTimeout: LIVEKIT_TIMEOUT_S,
    failover: false,
  });
  try {
    const rooms = await client.listRooms();
    return pass('LiveKit credentials', `authenticated; ${rooms.length} active rooms`);
  } catch (error) {
    const e = error as { status?: unknown; code?: unknown; message?: unknown };
    if (e.status === 401 || e.status === 403)
      return fail(
        'LiveKit credentials',
        `LiveKit refused the API key and secret (HTTP ${e.status}); check LIVEKIT_API_KEY and LIVEKIT_API_SECRET: a key and its secret from the project at ${url}`,
      );
    if (typeof e.status === 'number') {
      const said = [typeof e.code === 'string' ? e.code : '', typeof e.message === 'string' ? e.message : ''].filter(Boolean).join(': ');
      return fail(
        'LiveKit credentials',
        `LiveKit at ${url} answered HTTP ${e.status}${said ? ` (${said.slice(0, 200)})` : ''}; ${
          e.status >= 500
            ? 'LiveKit trouble: check its status page and try again'
            : 'check that LIVEKIT_URL is your LiveKit project (wss://<project>.livekit.cloud), not another server'
        }`,
      );
    }
    return fail(
      'LiveKit credentials',
      describeNetworkError(error, { url, what: 'LiveKit', setting: 'LIVEKIT_URL', timeoutMs: LIVEKIT_TIMEOUT_S * 1000 }),
    );
  }
}

/** Why a request to Twilio's API failed: Twilio's refusal with its code, or the network's cause. */
export function describeTwilioError(error: unknown): string {
  const e = error as { status?: unknown; code?: unknown; message?: unknown; moreInfo?: unknown };
  if (e.code === 20003)
    return 'Twilio refused ACCOUNT_SID and AUTH_TOKEN (error 20003); copy both from the Twilio Console (Account Info) into .env';
  if (typeof e.status === 'number') {
    const code = typeof e.code === 'number' ? ` (error ${e.code})` : '';
    const message = typeof e.message === 'string' && e.message ? `: ${e.message}` : '';
    const more = typeof e.moreInfo === 'string' && e.moreInfo ? `; see ${e.moreInfo}` : '';
    return `Twilio answered HTTP ${e.status}${code}${message}${more}`;
  }
  return describeNetworkError(error, {
    url: TWILIO_API,
    what: 'Twilio',
    // The address is Twilio's own: the next step is this machine's network, not a setting.
    next: {
      dns: "check this machine's network connection and DNS",
      refused: 'check HTTPS_PROXY / HTTP_PROXY and any firewall between this machine and api.twilio.com',
    },
  });
}

export async function twilioChecks(env: Env, live: LiveOptions, routes: RouteTable | undefined): Promise<Check[]> {
  const accountSid = text(env, 'ACCOUNT_SID');
  const progress = live.progress ?? stderr;
  const client = live.twilio();
  progress(`checking Twilio at ${TWILIO_API}: fetching account ${accountSid} ...`);
  try {
    const account = await client.api.v2010.accounts(accountSid).fetch();
    if (account.status !== 'active') return [fail('Twilio account', `account "${account.friendlyName}" is ${account.status}`)];
  } catch (error) {
    return [fail('Twilio account', describeTwilioError(error))];
  }
  const checks = [pass('Twilio account', `${accountSid} is active`)];

  const wanted = new Set<string>(
    text(env, 'OUTBOUND_CALLER_IDS')
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean),
  );
  for (const route of routes?.routes ?? []) for (const number of route.numbers) wanted.add(number);
  if (wanted.size === 0) return [...checks, pass('Phone numbers', 'no numbers configured to check')];
  progress(`checking Twilio at ${TWILIO_API}: reading the account's phone numbers ...`);
  let owned: Awaited<ReturnType<TwilioAccountApi['incomingPhoneNumbers']['list']>>;
  try {
    owned = await client.incomingPhoneNumbers.list({ limit: 1000 });
  } catch (error) {
    return [...checks, fail('Phone numbers', `could not read the account's phone numbers: ${describeTwilioError(error)}`)];
  }
  for (const number of wanted) {
    const found = owned.find((n) => n.phoneNumber === number);
    const name = `Number ${number}`;
    if (!found) {
      checks.push(pass(name, 'not a Twilio number on this account: fine as a verified caller ID, but calls to it will not reach incoming'));
      continue;
    }
    const url = found.voiceUrl ?? '';
    const right = live.incomingUrl ? url === live.incomingUrl : /\/incoming$/.test(url);
    checks.push(
      right
        ? pass(name, `voice URL ${url}`)
        : fail(name, `voice URL is "${url || 'not set'}", expected ${live.incomingUrl ?? 'the deployed …/incoming'}`),
    );
  }
  return checks;
}
