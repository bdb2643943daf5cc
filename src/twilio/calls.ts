/**
 * The one place that places and changes Twilio calls, for `outbound` and
 * for the actions agents take (call-control), and that turns Twilio's
 * refusals into errors a person can act on.
 */
import { DeadlineError, withDeadline } from '../util/deadline';
import type { ApiError } from './reply';
import type { CallOptions } from '../outbound/request';

/** The part of the twilio client that places calls and changes live ones. */
export interface TwilioCalls {
  calls: {
    create(options: Record<string, unknown>): Promise<{ sid: string; status: string }>;
    (sid: string): { update(params: Record<string, string>): Promise<{ sid: string; status: string }> };
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
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) params[key] = value;
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
    return {
      status: 502,
      uncertain: false,
      error: { code: 'twilio-error', message: `Twilio refused the call (error ${e.code})`, twilioCode: e.code, moreInfo },
    };
  }
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  if (error instanceof DeadlineError || code === 'ECONNABORTED' || code === 'ETIMEDOUT' || /timeout/i.test(message)) {
    return {
      status: 504,
      uncertain: true,
      error: { code: 'twilio-timeout', message: 'Twilio did not answer in time; the LiveKit session was closed, so no call will connect' },
    };
  }
  return {
    status: 502,
    uncertain: false,
    detail: code || (typeof e?.name === 'string' ? e.name : undefined),
    error: { code: 'twilio-unreachable', message: 'Twilio could not be reached; the call was not placed' },
  };
}

/**
 * Replaces a live call's TwiML (or ends it, `status: completed`): Twilio
 * acts at once, which also ends a `<Connect><Stream>` into LiveKit.
 * `ended` when Twilio says the call is already over (21220).
 */
export async function updateCall(
  client: TwilioCalls,
  callSid: string,
  params: Record<string, string>,
  timeoutMs: number,
): Promise<'done' | 'ended' | TwilioFailure> {
  try {
    await withDeadline(client.calls(callSid).update(params), timeoutMs + 100, 'Twilio');
    return 'done';
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 21220) return 'ended';
    return classifyTwilioFailure(error);
  }
}
