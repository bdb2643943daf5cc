/**
 * Call control for Node.js / TypeScript LiveKit agents: act on the phone call
 * in the agent's own room through this service's `call-control` function.
 * Copy this file into an agent project; it needs only livekit-server-sdk,
 * which mints the token with the API key and secret the agent already has.
 *
 *   const control = new CallControl({ url: 'https://<service>.twil.io/call-control' });
 *   await control.transfer(ctx.room.name!, 'billing', 'Connecting you to billing.');
 *
 * Each request carries a token valid for 60 seconds, for this room only,
 * whose sha256 claim covers this request's exact parameters.
 */
import { createHash } from 'node:crypto';
import { AccessToken } from 'livekit-server-sdk';

export interface CallControlOptions {
  /** The deployed function, https://<service>-<digits>-<env>.twil.io/call-control. Default: CALL_CONTROL_URL. */
  url?: string;
  /** Default: LIVEKIT_API_KEY. */
  apiKey?: string;
  /** Default: LIVEKIT_API_SECRET. */
  apiSecret?: string;
  /** How long to wait for the answer. Default 10 s (the function answers within 8). */
  timeoutMs?: number;
}

/** What the function answered when it did not do the action. */
export class CallControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'CallControlError';
  }
}

export type CallControlResult = Record<string, unknown> & { action: string; outcome: string };

/** The request's parameters as JSON with sorted keys and no spaces: what the token's sha256 claim covers. */
export function canonicalJson(value: unknown): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sorted)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(sorted(value));
}

export class CallControl {
  private readonly url: string;
  private readonly apiKey: string;
  private readonly apiSecret: string;
  private readonly timeoutMs: number;

  constructor(options: CallControlOptions = {}) {
    this.url = options.url ?? process.env.CALL_CONTROL_URL ?? '';
    this.apiKey = options.apiKey ?? process.env.LIVEKIT_API_KEY ?? '';
    this.apiSecret = options.apiSecret ?? process.env.LIVEKIT_API_SECRET ?? '';
    this.timeoutMs = options.timeoutMs ?? 10_000;
    if (!this.url || !this.apiKey || !this.apiSecret)
      throw new Error('CallControl needs url, apiKey and apiSecret (or CALL_CONTROL_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET)');
  }

  /** Ends the call. A call that already ended is not an error. */
  hangup(room: string): Promise<CallControlResult> {
    return this.send(room, { action: 'hangup' });
  }

  /** Connects the caller to a configured target (by name), after an optional message. The stream into the room ends. */
  transfer(room: string, target: string, message?: string): Promise<CallControlResult> {
    return this.send(room, message ? { action: 'transfer', target, message } : { action: 'transfer', target });
  }

  /** Returns a call that a Studio flow sent here to that flow, with a result and string fields for it. */
  returnToFlow(room: string, result?: string, fields?: Record<string, string>): Promise<CallControlResult> {
    return this.send(room, { action: 'return-to-flow', ...(result ? { result } : {}), ...(fields ? { fields } : {}) });
  }

  /** Calls a configured target into `<room>-consult`, where the agent can brief them before moving them in. */
  addHuman(room: string, target: string): Promise<CallControlResult> {
    return this.send(room, { action: 'add-human', target });
  }

  /** Hangs up the call addHuman placed. */
  cancelHuman(room: string): Promise<CallControlResult> {
    return this.send(room, { action: 'cancel-human' });
  }

  private async send(room: string, body: Record<string, unknown>): Promise<CallControlResult> {
    const text = canonicalJson(body);
    const token = new AccessToken(this.apiKey, this.apiSecret, { ttl: 60 });
    token.addGrant({ roomAdmin: true, room });
    token.sha256 = createHash('sha256').update(text).digest('base64');
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await token.toJwt()}` },
      body: text,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const json = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string; field?: string } };
    if (!response.ok) {
      const error = json.error ?? {};
      throw new CallControlError(response.status, error.code ?? 'http-error', error.message ?? `HTTP ${response.status}`, error.field);
    }
    return json as CallControlResult;
  }
}
