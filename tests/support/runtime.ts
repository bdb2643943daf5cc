/**
 * Calls a function's handler the way the Functions runtime does: with the
 * runtime's own Response class on the Twilio global, a context built from
 * environment values, and an event carrying `request.headers`.
 */
import type { ServerlessFunctionSignature } from '@twilio-labs/serverless-runtime-types/types';
import path from 'node:path';
import twilio from 'twilio';

// The runtime's own Response implementation (what twilio-run serves with).
// Its package exports only `./dev`, so the file is reached through that
// entry's folder, by path, which only require can do.
const devEntry = require.resolve('@twilio/runtime-handler/dev');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Response } = require(path.join(path.dirname(devEntry), 'internal', 'response.js')) as {
  Response: new () => { statusCode: number; headers: Record<string, unknown>; body: unknown };
};

(globalThis as unknown as { Twilio: unknown }).Twilio = { ...twilio, Response };

export interface Reply {
  status: number;
  contentType: string;
  body: string;
  /** Retry-After, when the function set it. */
  retryAfter?: string;
}

export const ACCOUNT_SID = 'AC' + '0123456789abcdef'.repeat(2);
export const AUTH_TOKEN = 'f00dfeedf00dfeedf00dfeedf00dfeed';

export function callSid(n = 1): string {
  return 'CA' + n.toString(16).padStart(32, '0');
}

/** Context as twilio-run builds it locally. */
export function localContext(
  env: Record<string, string>,
  path: string,
  port = 3000,
  getTwilioClient: (options?: { timeout?: number }) => unknown = () => {
    throw new Error('no Twilio client in this test');
  },
): Record<string, unknown> {
  return {
    ACCOUNT_SID,
    AUTH_TOKEN,
    DOMAIN_NAME: `localhost:${port}`,
    PATH: path,
    SERVICE_SID: undefined,
    ENVIRONMENT_SID: undefined,
    ...env,
    getTwilioClient,
  };
}

export function signedEvent(
  context: Record<string, unknown>,
  params: Record<string, string>,
  tamper?: (p: Record<string, string>) => void,
): Record<string, unknown> {
  const url = `http://${String(context.DOMAIN_NAME)}${String(context.PATH)}`;
  const signature = twilio.getExpectedTwilioSignature(String(context.AUTH_TOKEN), url, params);
  const event: Record<string, string> = { ...params };
  tamper?.(event);
  return { ...event, request: { headers: { 'x-twilio-signature': signature }, cookies: {} } };
}

/** An event as Twilio sends a callback to `url` (a query string included): signed over the URL and the form. */
export function signedCallback(url: string, params: Record<string, string>): Record<string, unknown> {
  const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);
  const query = Object.fromEntries(new URL(url).searchParams);
  return { ...query, ...params, request: { headers: { 'x-twilio-signature': signature }, cookies: {} } };
}

export async function invoke(
  handler: ServerlessFunctionSignature,
  context: Record<string, unknown>,
  event: Record<string, unknown>,
): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    const callback = (error: unknown, response?: unknown) => {
      if (error) return reject(error instanceof Error ? error : new Error(String(error)));
      const r = response as { statusCode: number; headers: Record<string, unknown>; body: unknown };
      const type = r.headers['Content-Type'];
      const retryAfter = r.headers['Retry-After'];
      resolve({
        ...(retryAfter === undefined ? {} : { retryAfter: String(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) }),
        status: r.statusCode,
        contentType: String(Array.isArray(type) ? type[0] : type),
        body: typeof r.body === 'string' ? r.body : JSON.stringify(r.body),
      });
    };
    void (handler as unknown as (c: unknown, e: unknown, cb: typeof callback) => unknown)(context, event, callback);
  });
}

/** The JSON the API functions answer, every field present for the tests' reading (absent ones read as undefined). */
export interface ApiBody {
  callSid: string;
  roomName: string;
  participantIdentity: string;
  status: string;
  outcome: string;
  replayed: boolean;
  error: { code: string; message: string; field?: string; twilioCode?: number; moreInfo?: string; callMayExist?: boolean };
}
