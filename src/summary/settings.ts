/**
 * The summary webhook: where the call's summary goes once the call is over,
 * and the secret it is signed with. Off unless a URL is set (here or on a
 * route). The secret is a Standard Webhooks secret (`whsec_` and base64),
 * so any of that spec's libraries verifies what the service sends.
 * https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
import { Env, EnvReader, memoizedRead } from '../config/env-reader';
import { finish, Read } from '../config/settings';
import type { Route } from '../config/route';

/** How phone numbers appear in the summary. */
export type NumberPolicy = 'full' | 'last4' | 'none';

export interface SummarySettings {
  /** Empty: no summary is sent. */
  url: string;
  /** The HMAC key: the base64 part of `whsec_...`, decoded. */
  key: Buffer;
  numbers: NumberPolicy;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
export const WEBHOOK_URL_RULE = 'must be an https:// URL (http:// only for localhost)';

/** The URL when it is one the summary may go to: https, or plain http on loopback for local runs. */
export function webhookUrlOf(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.username || url.password) return undefined;
    if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))) return url.toString();
  } catch {
    // not a URL
  }
  return undefined;
}

const SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;
/** Between 24 and 64 bytes of key, as the spec asks. */
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;

export const readSummarySettings = memoizedRead(
  ['SUMMARY_WEBHOOK_URL', 'SUMMARY_WEBHOOK_SECRET', 'SUMMARY_PHONE_NUMBERS'],
  (env: Env): Read<SummarySettings> => {
    const reader = new EnvReader(env);
    const raw = reader.text('SUMMARY_WEBHOOK_URL');
    const url = raw ? webhookUrlOf(raw) : '';
    if (url === undefined) reader.problem('SUMMARY_WEBHOOK_URL', WEBHOOK_URL_RULE);
    const secret = reader.text('SUMMARY_WEBHOOK_SECRET');
    const match = SECRET.exec(secret);
    const key = match ? Buffer.from(match[1]!, 'base64') : Buffer.alloc(0);
    if (url && !secret)
      reader.problem('SUMMARY_WEBHOOK_SECRET', 'is required when SUMMARY_WEBHOOK_URL is set: the receiver checks the signature with it');
    if (secret && (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES))
      reader.problem(
        'SUMMARY_WEBHOOK_SECRET',
        `must be whsec_ followed by the base64 of ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} random bytes`,
      );
    return finish(reader, {
      url: url ?? '',
      key,
      numbers: reader.oneOf<NumberPolicy>('SUMMARY_PHONE_NUMBERS', ['full', 'last4', 'none'], 'full'),
    });
  },
);

/** No summary: what a broken summary setting amounts to where a call must not wait on it. */
export const NO_SUMMARY: SummarySettings = { url: '', key: Buffer.alloc(0), numbers: 'full' };

/** The route's URL over the environment's. A URL without a secret sends nothing: it could not be trusted. */
export function summaryForRoute(base: SummarySettings, route: Route | undefined): SummarySettings {
  return { ...base, url: route?.summaryWebhookUrl ?? base.url };
}
