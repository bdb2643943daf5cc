/**
 * A form POST signed as Twilio signs its requests (X-Twilio-Signature over
 * the URL and the sorted parameters), for the tools that call the service
 * the way Twilio would: npm run call, npm run ring. When it gets no answer,
 * or the service refuses the signature, they say why and what to do.
 */
import twilio from 'twilio';
import { tunnelOrigin } from '../twilio/public-url';
import { UsageError } from './cli';
import { describeNetworkError, NetworkError } from './net-errors';

export interface Answer {
  status: number;
  contentType: string;
  body: string;
  /** The response's headers, names in lower case. */
  headers: Record<string, string>;
}

const TIMEOUT_MS = 20_000;
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

export function isLoopback(url: string): boolean {
  try {
    return LOOPBACK.test(new URL(url).hostname);
  } catch {
    return false;
  }
}

export async function postSigned(url: string, params: Record<string, string>, authToken: string): Promise<Answer> {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    // parsed stays undefined
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
    throw new UsageError(`--url ${url} is not an http(s) URL: give the whole address, such as http://localhost:3000/incoming`);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, url, params),
        'user-agent': 'TwilioProxy/1.1',
      },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const local = isLoopback(url);
    // Not the user's arguments: one line and exit 1 (./cli).
    throw new NetworkError(
      describeNetworkError(error, {
        url,
        setting: '--url',
        timeoutMs: TIMEOUT_MS,
        next: local
          ? {
              refused: 'start the service with npm start (in another terminal), or point --url at where it runs',
              timeout: 'npm start is not answering: see its terminal, or restart it',
              reset: 'npm start may have stopped or restarted: see its terminal',
            }
          : {},
      }),
      { cause: error },
    );
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name.toLowerCase()] = value));
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text(), headers };
}

/**
 * Whether the service refused the request's signature: 401 (Twilio's gateway
 * in front of a deployed protected function, or a missing signature
 * locally) or a 403 that says so (incoming's text, the protected functions'
 * `signature-invalid`). A 403 for another reason (the dial policy) is not.
 */
export function refusedSignature(answer: Pick<Answer, 'status' | 'body'>): boolean {
  if (answer.status === 401) return true;
  if (answer.status !== 403) return false;
  return /signed by Twilio|"code"\s*:\s*"signature-(invalid|required)"/.test(answer.body);
}

/**
 * Why a signature made over `url` with the AUTH_TOKEN of `envFile` was
 * refused, and what to do, as lines. The signature covers the URL: the
 * service checks it against the URL it believes Twilio called, which
 * locally with PUBLIC_BASE_URL set is the tunnel's, not localhost.
 */
export function explainRefusedSignature(status: number, url: string, env: Record<string, string>, envFile: string): string[] {
  const called = new URL(url);
  const tunnel = tunnelOrigin(env.PUBLIC_BASE_URL);
  const lines = [
    `HTTP ${status}: the service refused the signature. A signature covers the exact URL it was made for, and this one was made for ${url} with AUTH_TOKEN from ${envFile}.`,
  ];
  if (tunnel && called.origin !== tunnel && isLoopback(url)) {
    const through = `${tunnel}${called.pathname}`;
    lines.push(
      `PUBLIC_BASE_URL is set in ${envFile}, so npm start checks signatures against the tunnel's URL, ${through}, as Twilio calls it, not against ${called.origin}.`,
      `Next: use the tunnel's URL instead (--url ${through}), or remove PUBLIC_BASE_URL from ${envFile} and restart npm start.`,
    );
  } else if (tunnel && called.origin === tunnel) {
    lines.push(
      `That is the tunnel's URL, which npm start checks signatures against only if PUBLIC_BASE_URL=${tunnel} was in its .env when it started.`,
      `Next: restart npm start; if it is still refused, npm start's AUTH_TOKEN differs from the one in ${envFile}.`,
    );
  } else if (isLoopback(url)) {
    lines.push(
      `npm start checks it with the AUTH_TOKEN and PUBLIC_BASE_URL of the .env it read when it started.`,
      `Next: if you changed either since, restart npm start; if it serves another .env, pass that file (--env FILE).`,
    );
  } else {
    lines.push(
      `Deployed, the service checks it with the auth token of the account it runs in, against its own address (https://<domain>${called.pathname}).`,
      `Next: AUTH_TOKEN in ${envFile} must be that account's auth token, and --url the service's own address exactly (https, no query string, no trailing slash).`,
    );
  }
  return lines;
}
