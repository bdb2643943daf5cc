/**
 * The seam between the Twilio Functions runtime and the plain functions in
 * this folder: environment and event in, a Twilio.Response out.
 */
import type { Context, ServerlessCallback } from '@twilio-labs/serverless-runtime-types/types';
import type { Env } from '../config/env-reader';
import type { HttpReply } from './reply';
import { logLine } from '../util/log';
import type { TwilioClient } from '../outbound/steps';

/**
 * The account's REST client from the runtime, made for one deadline. The
 * helper's own resending is off: what may be sent again is decided where
 * the request is made, within the function's budget (../util/retry).
 */
export function twilioClientOf(context: Context): (timeoutMs: number) => TwilioClient {
  return (timeoutMs) => context.getTwilioClient({ timeout: timeoutMs, autoRetry: false }) as unknown as TwilioClient;
}

/** `context` as plain values: `.env` keys plus DOMAIN_NAME, PATH, SERVICE_SID. */
export function environmentOf(context: Context): Env {
  return context as unknown as Env;
}

export function send(callback: ServerlessCallback, reply: HttpReply): void {
  const response = new Twilio.Response();
  response.setStatusCode(reply.status);
  response.appendHeader('Content-Type', reply.contentType);
  response.appendHeader('Cache-Control', 'no-store');
  for (const [name, value] of Object.entries(reply.headers ?? {})) response.appendHeader(name, value);
  response.setBody(reply.body);
  callback(null, response);
}

/**
 * Runs a handler and always answers: an unexpected exception becomes the
 * handler's own safe reply instead of the runtime's 500 page.
 */
export async function answer(
  fn: string,
  callback: ServerlessCallback,
  work: () => Promise<HttpReply>,
  onCrash: () => HttpReply,
): Promise<void> {
  let reply: HttpReply;
  try {
    reply = await work();
  } catch (error) {
    logLine({ fn, outcome: 'crash', reason: error instanceof Error ? error.name : 'unknown' }, 'error');
    reply = onCrash();
  }
  send(callback, reply);
}
