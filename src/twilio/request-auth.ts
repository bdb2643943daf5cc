/**
 * Authenticity for protected functions. After deploy, Twilio's gateway checks
 * X-Twilio-Signature before the function runs. `twilio-run start` checks
 * nothing, so when not deployed (no SERVICE_SID) the function checks the
 * signature itself: local behaviour then matches production.
 */
import type { ConfigProblem, Env } from '../config/env-reader';
import { errorReply, HttpReply } from './reply';
import { functionUrlOf, isDeployed } from './public-url';
import { unsignableField, verifyFunctionRequest } from './signature';

/** Locally the function checks signatures itself, with AUTH_TOKEN: without it, that is a configuration problem. */
export function localAuthProblems(env: Env): ConfigProblem[] {
  if (isDeployed(env) || (typeof env.AUTH_TOKEN === 'string' && env.AUTH_TOKEN.trim())) return [];
  return [{ variable: 'AUTH_TOKEN', message: 'is required: locally the function checks X-Twilio-Signature with it' }];
}

/**
 * `undefined` when the request may proceed, else the refusal and why.
 * `queryNames` are parameters this service itself put in the URL's query
 * string (in that order): Twilio signed them as part of the URL, not the body.
 */
export function checkLocalSignature(
  env: Env,
  event: Record<string, unknown>,
  queryNames: readonly string[] = [],
): { reply: HttpReply; reason: string } | undefined {
  if (isDeployed(env)) return undefined;
  const authToken = typeof env.AUTH_TOKEN === 'string' ? env.AUTH_TOKEN : '';
  const verdict = verifyFunctionRequest(authToken, functionUrlOf(env), event, queryNames);
  if (verdict === 'valid') return undefined;
  if (verdict === 'missing') {
    return {
      reason: 'signature missing',
      reply: errorReply(401, {
        code: 'signature-required',
        message: 'Sign the request with X-Twilio-Signature (see README: calling outbound)',
      }),
    };
  }
  if (verdict === 'unsignable') {
    const field = unsignableField(event);
    return {
      reason: `signature cannot cover ${field}`,
      reply: errorReply(403, {
        code: 'signature-invalid',
        field,
        message: `${field} is an object, which X-Twilio-Signature cannot cover: send a form, or the value as a JSON string`,
      }),
    };
  }
  return {
    reason: 'signature invalid',
    reply: errorReply(403, { code: 'signature-invalid', message: 'X-Twilio-Signature does not match this URL and these parameters' }),
  };
}
