/**
 * LiveKit's Connector API (`ConnectTwilioCall`) behind a deadline, with its
 * failures sorted into the few kinds the callers act on, and resent within
 * that deadline where a resend cannot create a second session (see
 * {@link resendConnect}).
 */
import {
  ConnectTwilioCallRequest,
  ConnectTwilioCallRequest_TwilioCallDirection as Direction,
  ConnectTwilioCallResponse,
  RoomAgentDispatch,
} from '@livekit/protocol';
import type { LiveKitSettings } from '../config/settings';
import { DeadlineError, withDeadline } from '../util/deadline';
import { apiToken } from './token';
import { twirpCall } from './twirp';
import { Resend, withRetries } from '../util/retry';
import { neverConnected } from '../util/socket-errors';

export type CallDirection = 'inbound' | 'outbound';

export interface ConnectRequest {
  direction: CallDirection;
  roomName: string;
  participantIdentity: string;
  participantName: string;
  participantMetadata: string;
  participantAttributes: Record<string, string>;
  agents: { agentName: string; metadata: string }[];
  /** ISO 3166-1 alpha-2; empty lets LiveKit choose. */
  destinationCountry: string;
}

/**
 * `rate-limited`: HTTP 429 (Twirp `resource_exhausted`, the connector's
 * "cannot accept new calls"), not processed. `unavailable`: 502/503/504, which
 * does not prove the request was not processed.
 */
export type LiveKitFailureKind = 'timeout' | 'unreachable' | 'rejected' | 'bad-reply' | 'rate-limited' | 'unavailable';

/** A LiveKit request that did not produce a usable answer. Its message carries no secret or URL. */
export class LiveKitError extends Error {
  constructor(
    readonly kind: LiveKitFailureKind,
    message: string,
    /** HTTP status LiveKit answered with, when it answered. */
    readonly status?: number,
    /** Twirp error code, when LiveKit sent one. */
    readonly code?: string,
    /** Retry-After of the answer, when it had one. */
    readonly retryAfterMs?: number,
    /** The connection was never made (refused, no such host): the request cannot have been seen. */
    readonly notSent = false,
  ) {
    super(message);
    this.name = 'LiveKitError';
  }
}

export type ConnectTwilioCall = (request: ConnectRequest) => Promise<string>;

/**
 * Twilio accepts only a `wss://` stream URL and drops any query string, so a
 * URL of another form cannot work and is treated as LiveKit's failure.
 */
export function checkConnectUrl(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new LiveKitError('bad-reply', 'LiveKit answered without a connect_url');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new LiveKitError('bad-reply', 'LiveKit answered with a connect_url that is not a URL');
  }
  if (url.protocol !== 'wss:') {
    throw new LiveKitError('bad-reply', `LiveKit answered with a ${url.protocol} connect_url; Twilio needs wss:`);
  }
  if (url.search || url.hash || url.username || url.password || value.length > 2048) {
    throw new LiveKitError('bad-reply', 'LiveKit answered with a connect_url Twilio cannot use (query, fragment or credentials)');
  }
  return value;
}

/**
 * Sorts whatever a LiveKit request threw (our transport or the SDK's clients)
 * into a {@link LiveKitError}, keeping secrets and URLs out of the message.
 */
export function classifyLiveKitFailure(error: unknown, timeoutMs: number): LiveKitError {
  if (error instanceof LiveKitError) return error;
  if (error instanceof DeadlineError) {
    return new LiveKitError('timeout', `LiveKit did not answer within ${timeoutMs} ms`);
  }
  const e = error as { name?: unknown; status?: unknown; code?: unknown; message?: unknown; retryAfterMs?: unknown } | null;
  if (e && typeof e.status === 'number') {
    const code = typeof e.code === 'string' ? e.code : undefined;
    const retryAfter = typeof e.retryAfterMs === 'number' ? e.retryAfterMs : undefined;
    const answer = `HTTP ${e.status}${code ? ` (${code})` : ''}`;
    if (e.status === 429)
      return new LiveKitError('rate-limited', `LiveKit is refusing requests for now: ${answer}`, e.status, code, retryAfter);
    if (PASSING_STATUSES.has(e.status))
      return new LiveKitError('unavailable', `LiveKit is unavailable for now: ${answer}`, e.status, code, retryAfter);
    return new LiveKitError('rejected', `LiveKit refused the request: ${answer}`, e.status, code);
  }
  if (e && (e.name === 'TimeoutError' || e.name === 'AbortError')) {
    return new LiveKitError('timeout', `LiveKit did not answer within ${timeoutMs} ms`);
  }
  if (e && e.name === 'SyntaxError') {
    return new LiveKitError('bad-reply', 'LiveKit answered with a body that is not JSON');
  }
  return new LiveKitError('unreachable', 'LiveKit could not be reached', undefined, undefined, undefined, neverConnected(error));
}

/** Answers of a gateway or a server in passing trouble. */
const PASSING_STATUSES = new Set([502, 503, 504]);

/**
 * Whether a failed `ConnectTwilioCall` may be sent again as it was.
 *
 * - 429 / `resource_exhausted`: refused before processing (the connector's
 *   "cannot accept new calls"; Twirp's spec maps resource_exhausted to 429):
 *   resend, after Retry-After when there is one (livekit-server sends none).
 * - A connection never made: nothing was sent. Resend.
 * - 502/503/504 / `unavailable`: may have been processed (livekit/psrpc
 *   answers `unavailable` both before and after handing the request on; a
 *   proxy may send a bare 503). A second session for the same room and
 *   identity makes LiveKit drop the older participant (DuplicateIdentity),
 *   and agents are dispatched when the room is created, not per request. For
 *   INBOUND the participant joins only when Twilio's stream starts, so the
 *   stream goes to whichever session Twilio is given: resend. For OUTBOUND
 *   the hidden participant joins at once, and a late first session could
 *   evict the one the call streams into: never resent as it was (outbound
 *   resends under a fresh identity instead, ../outbound/session).
 * - Anything else (4xx, 500, a timeout, a bad reply): not resent.
 */
export function resendConnect(error: unknown, direction: CallDirection): Resend {
  if (!(error instanceof LiveKitError)) return false;
  if (error.kind === 'rate-limited') return { afterMs: error.retryAfterMs };
  if (error.kind === 'unreachable' && error.notSent) return {};
  if (error.kind === 'unavailable' && direction === 'inbound') return { afterMs: error.retryAfterMs };
  return false;
}

/**
 * Attempts of one ConnectTwilioCall in all, within its deadline. Waits of up
 * to 100, 200, 400 and 800 ms (jittered) ride out a refusal that lasts about
 * a second, and leave a caller no worse off than the fallback when it lasts.
 */
const CONNECT_ATTEMPTS = 5;
const CONNECT_BACKOFF_MS = 100;
/** No attempt is started with less time than this left: it could not finish. */
const MIN_ATTEMPT_MS = 250;

/** A `ConnectTwilioCall` bound to the given settings. Resolves to the stream URL within `timeoutMs`, resends included. */
export function liveKitConnector(settings: LiveKitSettings): ConnectTwilioCall {
  return async (request) => {
    const started = Date.now();
    const remaining = () => settings.timeoutMs - (Date.now() - started);
    const body = new ConnectTwilioCallRequest({
      twilioCallDirection: request.direction === 'inbound' ? Direction.INBOUND : Direction.OUTBOUND,
      roomName: request.roomName,
      participantIdentity: request.participantIdentity,
      participantName: request.participantName,
      participantMetadata: request.participantMetadata,
      participantAttributes: request.participantAttributes,
      agents: request.agents.map((agent) => new RoomAgentDispatch(agent)),
      destinationCountry: request.destinationCountry,
    }).toJson();
    return withRetries(
      () => connectOnce(settings, body, remaining()),
      (error) => resendConnect(error, request.direction),
      {
        attempts: CONNECT_ATTEMPTS,
        remaining,
        minAttemptMs: MIN_ATTEMPT_MS,
        baseDelayMs: CONNECT_BACKOFF_MS,
      },
    );
  };
}

/** One attempt, with what is left of the deadline. */
async function connectOnce(settings: LiveKitSettings, body: unknown, timeoutMs: number): Promise<string> {
  try {
    const reply = await withDeadline(
      (async () => {
        const token = await apiToken(settings.apiKey, settings.apiSecret, { roomCreate: true });
        return twirpCall(settings.url, 'Connector', 'ConnectTwilioCall', body, token, timeoutMs);
      })(),
      // A little past the transport's own abort, which then wins and reports precisely.
      timeoutMs + 250,
      'LiveKit',
    );
    let connectUrl: string;
    try {
      connectUrl = ConnectTwilioCallResponse.fromJson(reply as never, { ignoreUnknownFields: true }).connectUrl;
    } catch {
      throw new LiveKitError('bad-reply', 'LiveKit answered with JSON that is not a ConnectTwilioCallResponse');
    }
    return checkConnectUrl(connectUrl);
  } catch (error) {
    throw classifyLiveKitFailure(error, settings.timeoutMs);
  }
}
