/**
 * What an `outbound` answer means for the row (docs/outbound.md, Errors):
 * a call, nothing placed and worth sending again, nothing known (resend the
 * same key: the service settles it), the call may exist (Twilio's call list
 * settles it), refused for good, or wrong for every row (stop the campaign).
 */
import type { Answer } from '../deploy/signed-post';
import { refusedSignature } from '../deploy/signed-post';

export type Verdict =
  | { kind: 'placed'; callSid: string; room: string; status: string; replayed: boolean }
  /** Nothing placed now; send again after `afterMs`. `definite`: the key is free (nothing was placed by it). */
  | { kind: 'later'; afterMs: number; code: string; message: string; definite: boolean; concurrency?: boolean }
  | { kind: 'unanswered'; code: string; message: string }
  | { kind: 'uncertain'; code: string; message: string }
  | { kind: 'refused'; code: string; message: string }
  | { kind: 'abort'; code: string; message: string };

/** Twilio refusals that are about the account's capacity, not the row: tried again later, reported per row. */
export const CAPACITY_CODES: Record<number, string> = {
  // "The call was rejected because you reached the maximum limit of concurrent calls" (https://www.twilio.com/docs/api/errors/10004).
  10004: 'Twilio: call concurrency limit exceeded',
  // The same refusal under Programmable Voice's own code (https://www.twilio.com/docs/api/errors/86008).
  86008: 'Twilio: concurrency limit reached',
  // "There are more than 24 hours of calls in your call queue" (https://www.twilio.com/docs/api/errors/22005).
  22005: 'Twilio: call queue full (more than 24 hours of calls queued at the account CPS)',
};

interface ErrorBody {
  code?: string;
  message?: string;
  twilioCode?: number;
  callMayExist?: boolean;
}

function retryAfterMs(answer: Answer, fallbackMs: number): number {
  const value = answer.headers['retry-after'];
  const seconds = value === undefined ? NaN : Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.max(1000, seconds * 1000) : fallbackMs;
}

export function classifyAnswer(answer: Answer): Verdict {
  let json: { callSid?: unknown; roomName?: unknown; status?: unknown; replayed?: unknown; error?: ErrorBody } | undefined;
  try {
    json = JSON.parse(answer.body) as typeof json;
  } catch {
    json = undefined;
  }
  if (refusedSignature(answer)) {
    return { kind: 'abort', code: 'signature', message: `HTTP ${answer.status}: the service refused the request's signature` };
  }
  if (answer.status === 200 && json && typeof json.callSid === 'string' && json.callSid) {
    return {
      kind: 'placed',
      callSid: json.callSid,
      room: typeof json.roomName === 'string' ? json.roomName : '',
      status: typeof json.status === 'string' ? json.status : '',
      replayed: json.replayed === true,
    };
  }
  const error = json?.error;
  if (!error || typeof error.code !== 'string') {
    // A gateway's page, a crash, a 200 without a call: nothing is known, and the key settles it.
    if (answer.status === 404) return { kind: 'abort', code: 'not-found', message: 'HTTP 404: no outbound function at this URL' };
    return { kind: 'unanswered', code: `http-${answer.status}`, message: `HTTP ${answer.status} without a usable answer` };
  }
  const code = error.code;
  const message = typeof error.message === 'string' ? error.message : code;
  // Wrong for every row: the service's configuration, or its own Twilio credentials.
  if (code === 'configuration' || code === 'twilio-authentication') return { kind: 'abort', code, message };
  if (error.callMayExist === true || code === 'call-may-exist') return { kind: 'uncertain', code, message };
  if (code === 'request-in-progress') return { kind: 'later', afterMs: retryAfterMs(answer, 5000), code, message, definite: false };
  if (answer.status === 429 || answer.status === 503 || code === 'livekit-timeout' || code === 'twilio-unreachable') {
    // "nothing was placed" by this request (429, 503, livekit-timeout; twilio-unreachable without callMayExist
    // never reached Twilio). Whether an earlier request with the same key placed one is settled only by an
    // answer from past the key's claim (LiveKit's or Twilio's own): `idempotency-unavailable` and a
    // gateway's 429/503 never got that far, so they leave an earlier lost outcome unresolved.
    const pastTheClaim = code.startsWith('livekit-') || code.startsWith('twilio-');
    return { kind: 'later', afterMs: retryAfterMs(answer, 2000), code, message, definite: pastTheClaim };
  }
  if (typeof error.twilioCode === 'number' && CAPACITY_CODES[error.twilioCode]) {
    return {
      kind: 'later',
      afterMs: 30_000,
      code: `twilio-${error.twilioCode}`,
      message: CAPACITY_CODES[error.twilioCode]!,
      definite: true,
      concurrency: error.twilioCode !== 22005,
    };
  }
  if (code === 'livekit-error') return { kind: 'later', afterMs: 5000, code, message, definite: true };
  if (answer.status === 400 || answer.status === 403 || answer.status === 502) {
    const detail = typeof error.twilioCode === 'number' ? ` (Twilio ${error.twilioCode})` : '';
    return { kind: 'refused', code, message: `${message}${detail}` };
  }
  return { kind: 'unanswered', code, message };
}
