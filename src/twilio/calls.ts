/**
 * The one place that places and changes Twilio calls, for `outbound` and
 * for the actions agents take (call-control), and that turns Twilio's
 * refusals into errors a person can act on.
 */
import { DeadlineError } from '../util/deadline';
import { Resend, retryWithin } from '../util/retry';
import { neverConnected } from '../util/socket-errors';
import { ApiError, errorReply, HttpReply, retryLaterReply } from './reply';
import type { CallOptions } from '../outbound/request';
import { callRecordingParams } from '../recording/callbacks';

/** A call's recording as Twilio describes it (twilio-oai api.v2010.account.call.call_recording). */
export interface TwilioRecording {
  sid: string;
  status: string;
  duration?: string | null;
  channels?: number | null;
  source?: string | null;
  startTime?: Date | string | null;
}

/** A call as Twilio describes it (twilio-oai api.v2010.account.call). */
export interface TwilioCall {
  sid: string;
  status: string;
  direction?: string;
  from?: string;
  to?: string;
  duration?: string | null;
  startTime?: Date | string | null;
  endTime?: Date | string | null;
  answeredBy?: string | null;
}

/** The part of the twilio client that places calls, changes live ones and records them. */
export interface TwilioCalls {
  calls: {
    create(options: Record<string, unknown>): Promise<{ sid: string; status: string }>;
    (sid: string): {
      update(params: Record<string, string>): Promise<{ sid: string; status: string }>;
      fetch(): Promise<TwilioCall>;
      recordings: {
        create(params: Record<string, unknown>): Promise<TwilioRecording>;
        list(params?: { limit?: number }): Promise<TwilioRecording[]>;
        (sid: string): { update(params: Record<string, string>): Promise<TwilioRecording> };
      };
    };
  };
}

export interface PlaceCall {
  to: string;
  from: string;
  /** Twilio fetches the TwiML from here... */
  url?: string;
  /** ...or uses this inline document. */
  twiml?: string;
  options: CallOptions;
}

export function callCreateParams(call: PlaceCall): Record<string, unknown> {
  const o = call.options;
  const params: Record<string, unknown> = { to: call.to, from: call.from };
  if (call.twiml) params.twiml = call.twiml;
  else params.url = call.url;
  const optional: Record<string, unknown> = {
    timeout: o.timeout,
    timeLimit: o.timeLimit,
    machineDetection: o.machineDetection,
    asyncAmd: o.asyncAmd === undefined ? undefined : String(o.asyncAmd),
    asyncAmdStatusCallback: o.asyncAmdStatusCallback,
    asyncAmdStatusCallbackMethod: o.asyncAmdStatusCallbackMethod,
    statusCallback: o.statusCallback,
    statusCallbackEvent: o.statusCallbackEvent,
    statusCallbackMethod: o.statusCallbackMethod,
    record: o.record,
    sendDigits: o.sendDigits,
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) params[key] = value;
  if (o.recording) Object.assign(params, callRecordingParams(o.recording));
  return params;
}

/** What Twilio's refusal means, for the API caller: HTTP status and a message to act on. */
const KNOWN: Record<number, { status: number; code: string; message: string; field?: string }> = {
  21211: { status: 400, code: 'invalid-to', field: 'To', message: 'Twilio says To is not a valid phone number' },
  21215: {
    status: 403,
    code: 'geo-permission',
    field: 'To',
    message: "Calls to this destination are not enabled in the account's Voice Geographic Permissions",
  },
  21216: { status: 403, code: 'destination-blocked-by-twilio', field: 'To', message: 'Twilio blocks calls to this number' },
  21210: {
    status: 400,
    code: 'caller-id-not-verified',
    field: 'From',
    message: 'From is not a Twilio number or verified caller ID on this account',
  },
  20003: {
    status: 502,
    code: 'twilio-authentication',
    message: "Twilio rejected the service's credentials: check ACCOUNT_SID and AUTH_TOKEN",
  },
  20429: { status: 429, code: 'twilio-rate-limited', message: 'Twilio is rate limiting calls: retry after a short wait' },
};

export interface TwilioFailure {
  status: number;
  error: ApiError;
  /** Whether the call may nevertheless exist (the request timed out). */
  uncertain: boolean;
  /** For the log: the transport error's code (ECONNREFUSED, ...), when there is one. */
  detail?: string;
}

export function classifyTwilioFailure(error: unknown): TwilioFailure {
  const e = error as { status?: unknown; code?: unknown; moreInfo?: unknown; name?: unknown; message?: unknown } | null;
  if (e && typeof e.status === 'number' && typeof e.code === 'number') {
    const known = KNOWN[e.code];
    const moreInfo = typeof e.moreInfo === 'string' ? e.moreInfo : undefined;
    if (known) {
      return {
        status: known.status,
        uncertain: false,
        error: { code: known.code, message: known.message, field: known.field, twilioCode: e.code, moreInfo },
      };
    }
    // A 5xx does not say the request was not acted on: the call may exist, or the update may have happened.
    const uncertain = e.status >= 500;
    const message = uncertain
      ? `Twilio answered HTTP ${e.status} (error ${e.code}); the request may have been carried out anyway`
      : `Twilio refused the call (error ${e.code})`;
    return { status: 502, uncertain, error: { code: 'twilio-error', message, twilioCode: e.code, moreInfo } };
  }
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  if (error instanceof DeadlineError || code === 'ECONNABORTED' || code === 'ETIMEDOUT' || /timeout/i.test(message)) {
    return {
      status: 504,
      uncertain: true,
      error: { code: 'twilio-timeout', message: 'Twilio did not answer in time; the request may have been carried out anyway' },
    };
  }
  const detail = code || (typeof e?.name === 'string' ? e.name : undefined);
  // Only a connection never made proves nothing reached Twilio; one broken later may have carried the request.
  if (neverConnected(error))
    return {
      status: 502,
      uncertain: false,
      detail,
      error: { code: 'twilio-unreachable', message: 'Twilio could not be reached; nothing was sent' },
    };
  return {
    status: 502,
    uncertain: true,
    detail,
    error: { code: 'twilio-unreachable', message: 'The connection to Twilio broke; the request may have been carried out anyway' },
  };
}

/** The reply for a failure: a rate limit says when to come back (Retry-After), as nothing was done. */
export function failureReply(failure: TwilioFailure, message = failure.error.message): HttpReply {
  const error = { ...failure.error, message };
  return failure.status === 429 ? retryLaterReply(429, error) : errorReply(failure.status, error);
}

/** A Twilio client whose requests give up after `timeoutMs`. */
export type TwilioFor = (timeoutMs: number) => TwilioCalls;

const ATTEMPTS = 3;
const MIN_ATTEMPT_MS = 300;

/**
 * Whether a failed Calls request may be sent again.
 *
 * - 429 (20429): "Twilio never processed the request, so it is always safe
 *   to retry" (Twilio's API rate-limit docs; error 20429).
 * - A connection never made: nothing reached Twilio.
 * - Anything else, 5xx and timeouts included, may have been acted on:
 *   `calls.create` would place a second call, and a TwiML update sent twice
 *   would restart what the caller hears. Only an update that ends the call
 *   (`status: completed`) is safe to repeat: a second one finds it over (21220).
 */
export function resendCalls(error: unknown, repeatable: boolean): Resend {
  const e = error as { status?: unknown; code?: unknown } | null;
  if (e?.status === 429 || e?.code === 20429) return {};
  if (neverConnected(error)) return {};
  if (repeatable && typeof e?.status === 'number' && e.status >= 500) return {};
  return false;
}

/** Runs one Calls request with resends, each attempt with what is left of `timeoutMs`. */
export function withResends<T>(
  twilio: TwilioFor,
  timeoutMs: number,
  repeatable: boolean,
  work: (client: TwilioCalls) => Promise<T>,
): Promise<T> {
  const within = { attempts: ATTEMPTS, minAttemptMs: MIN_ATTEMPT_MS, what: 'Twilio' };
  return retryWithin(
    timeoutMs,
    within,
    (left) => work(twilio(left)),
    (error) => resendCalls(error, repeatable),
  );
}

/** Places a call; throws what Twilio last answered (see {@link classifyTwilioFailure}). */
export function createCall(
  twilio: TwilioFor,
  params: Record<string, unknown>,
  timeoutMs: number,
): Promise<{ sid: string; status: string }> {
  return withResends(twilio, timeoutMs, false, (client) => client.calls.create(params));
}

/**
 * Replaces a live call's TwiML (or ends it, `status: completed`): Twilio
 * acts at once, which also ends a `<Connect><Stream>` into LiveKit.
 * `ended` when Twilio says the call is already over (21220).
 */
export async function updateCall(
  twilio: TwilioFor,
  callSid: string,
  params: Record<string, string>,
  timeoutMs: number,
): Promise<'done' | 'ended' | TwilioFailure> {
  try {
    // Ending a call twice is harmless (21220 the second time); new TwiML twice would restart it.
    const repeatable = params.status === 'completed' || params.status === 'canceled';
    await withResends(twilio, timeoutMs, repeatable, (client) => client.calls(callSid).update(params));
    return 'done';
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 21220) return 'ended';
    return classifyTwilioFailure(error);
  }
}
