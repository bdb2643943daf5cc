/**
 * A Twirp JSON call to the LiveKit API over node:http(s) with keep-alive.
 *
 * livekit-server-sdk's clients send through the global `fetch`, and on the
 * path where a caller waits that costs more than everything else together:
 * measured here, Node's lazily loaded fetch adds about 30 ms to a cold
 * start's first request and about 0.9 ms to every warm one, against about
 * 0.15 ms for node:http, which the runtime has loaded already. So the
 * latency-critical call uses this transport, while the SDK still supplies
 * the token (AccessToken) and the protocol messages (bodies, replies), and
 * its RoomServiceClient serves the calls nobody waits on.
 */
import http from 'node:http';
import https from 'node:https';
import { retryAfterMs } from '../util/retry';

/** A Twirp error answer, shaped like the SDK's ServerError. */
export class TwirpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
    /** The answer's Retry-After, when it had one (livekit-server sends none; a proxy may). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'TwirpError';
  }
}

export class TwirpTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

// Free sockets are dropped after 4 s idle, before servers' usual 5 s
// keep-alive limit, so a reused socket is never one the server has closed.
const agents = {
  'http:': new http.Agent({ keepAlive: true, timeout: 4000 }),
  'https:': new https.Agent({ keepAlive: true, timeout: 4000 }),
};

/** LiveKit's replies are small; anything bigger is not LiveKit. */
const MAX_REPLY_BYTES = 64 * 1024;

export async function twirpCall(
  origin: string,
  service: string,
  method: string,
  body: unknown,
  token: string,
  timeoutMs: number,
): Promise<unknown> {
  const url = new URL(`/twirp/livekit.${service}/${method}`, origin);
  const payload = Buffer.from(JSON.stringify(body));
  const started = Date.now();
  try {
    return await send(url, payload, token, timeoutMs);
  } catch (error) {
    // A kept-alive socket that was already dead when the request was
    // written: the server cannot have seen the request, so sending it again
    // is safe (Node's documented remedy). Once the request was written it
    // may have been processed, and ConnectTwilioCall is not idempotent (a
    // second session), so then it is never sent again. Only once, and only
    // within the deadline.
    const left = timeoutMs - (Date.now() - started);
    if (error instanceof StaleSocketError && left > 0) return send(url, payload, token, left);
    throw error instanceof StaleSocketError ? error.cause : error;
  }
}

/** The request failed on a reused socket before it was fully written. */
class StaleSocketError extends Error {
  constructor(override readonly cause: unknown) {
    super('kept-alive socket was closed by the server before the request was written');
  }
}

/** The JSON of a 2xx answer; a {@link TwirpError} for any other. */
function readReply(status: number, text: string, retryAfter: unknown): unknown {
  if (status >= 200 && status < 300) return JSON.parse(text);
  let code: string | undefined;
  let message = `HTTP ${status}`;
  try {
    const parsed = JSON.parse(text) as { code?: unknown; msg?: unknown };
    if (typeof parsed.code === 'string') code = parsed.code;
    if (typeof parsed.msg === 'string') message = parsed.msg;
  } catch {
    // not a Twirp error body; status alone
  }
  throw new TwirpError(status, code, message, retryAfterMs(retryAfter));
}

function send(url: URL, payload: Buffer, token: string, timeoutMs: number): Promise<unknown> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      url,
      {
        method: 'POST',
        agent: agents[url.protocol as 'http:' | 'https:'],
        headers: {
          'content-type': 'application/json',
          'content-length': payload.length,
          authorization: `Bearer ${token}`,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_REPLY_BYTES) request.destroy(new SyntaxError('reply too large'));
          else chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () => {
          clearTimeout(timer);
          try {
            resolve(readReply(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), response.headers['retry-after']));
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    const timer = setTimeout(() => request.destroy(new TwirpTimeoutError(timeoutMs)), timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // Only a failed write (syscall 'write') proves the request never left:
      // the kernel refused the bytes because the peer had already reset the
      // connection. A reset or hang-up seen while reading may follow a request
      // the server read and acted on.
      const stale = request.reusedSocket && error.syscall === 'write' && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
      reject(stale ? new StaleSocketError(error) : error);
    });
    request.end(payload);
  });
}
