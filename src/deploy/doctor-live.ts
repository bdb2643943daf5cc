/**
 * The doctor's live checks: the credentials proven against LiveKit and
 * Twilio, and each configured number's voice URL read back from Twilio.
 */
import { RoomServiceClient } from 'livekit-server-sdk';
import type { Env } from '../config/env-reader';
import type { RouteTable } from '../config/routes';
import { readLiveKitSettings } from '../config/settings';
import { Check, fail, pass, text } from './check';

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
}

export async function liveKitCheck(env: Env): Promise<Check> {
  const settings = readLiveKitSettings(env);
  if (!settings.ok) return fail('LiveKit credentials', 'skipped: the LiveKit settings are not valid');
  const client = new RoomServiceClient(settings.value.url, settings.value.apiKey, settings.value.apiSecret, {
    requestTimeout: 5,
    failover: false,
  });
  try {
    const rooms = await client.listRooms();
    return pass('LiveKit credentials', `authenticated; ${rooms.length} active rooms`);
  } catch (error) {
    const e = error as { status?: number; message?: string; name?: string };
    if (e.status === 401 || e.status === 403)
      return fail('LiveKit credentials', `LiveKit refused the API key and secret (HTTP ${e.status})`);
    return fail('LiveKit credentials', `LiveKit could not be reached: ${e.status ? `HTTP ${e.status}` : (e.name ?? 'error')}`);
  }
}

export async function twilioChecks(env: Env, live: LiveOptions, routes: RouteTable | undefined): Promise<Check[]> {
  const accountSid = text(env, 'ACCOUNT_SID');
  const client = live.twilio();
  try {
    const account = await client.api.v2010.accounts(accountSid).fetch();
    if (account.status !== 'active') return [fail('Twilio account', `account "${account.friendlyName}" is ${account.status}`)];
  } catch (error) {
    const e = error as { status?: number; code?: number };
    return [
      fail(
        'Twilio account',
        e.code === 20003
          ? 'Twilio refused ACCOUNT_SID and AUTH_TOKEN (error 20003)'
          : `Twilio could not be reached${e.status ? `: HTTP ${e.status}` : ''}`,
      ),
    ];
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
    checks.push(
      right
        ? pass(name, `voice URL ${url}`)
        : fail(name, `voice URL is "${url || 'not set'}", expected ${live.incomingUrl ?? 'the deployed …/incoming'}`),
    );
  }
  return checks;
}
