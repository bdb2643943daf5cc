/**
 * LiveKit's Connector API (`ConnectTwilioCall`) behind a deadline, with its
 * failures sorted into the few kinds the callers act on.
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

export type LiveKitFailureKind = 'timeout' | 'unreachable' | 'rejected' | 'bad-reply';

/** A LiveKit request that did not produce a usable answer. Its message carries no secret or URL. */
export class LiveKitError extends Error {
  constructor(
    readonly kind: LiveKitFailureKind,
    message: string,
    /** HTTP status LiveKit answered with, when it answered. */
    readonly status?: number,
    /** Twirp error code, when LiveKit sent one. */
    readonly code?: string,
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
  const e = error as { name?: unknown; status?: unknown; code?: unknown; message?: unknown } | null;
  if (e && typeof e.status === 'number') {
    const code = typeof e.code === 'string' ? e.code : undefined;
    return new LiveKitError('rejected', `LiveKit refused the request: HTTP ${e.status}${code ? ` (${code})` : ''}`, e.status, code);
  }
  if (e && (e.name === 'TimeoutError' || e.name === 'AbortError')) {
    return new LiveKitError('timeout', `LiveKit did not answer within ${timeoutMs} ms`);
  }
  if (e && e.name === 'SyntaxError') {
    return new LiveKitError('bad-reply', 'LiveKit answered with a body that is not JSON');
  }
  return new LiveKitError('unreachable', 'LiveKit could not be reached');
}

/** A `ConnectTwilioCall` bound to the given settings. Resolves to the stream URL. */
export function liveKitConnector(settings: LiveKitSettings): ConnectTwilioCall {
  return async (request) => {
    try {
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
      const reply = await withDeadline(
        (async () => {
          const token = await apiToken(settings.apiKey, settings.apiSecret, { roomCreate: true });
          return twirpCall(settings.url, 'Connector', 'ConnectTwilioCall', body, token, settings.timeoutMs);
        })(),
        // A little past the transport's own abort, which then wins and reports precisely.
        settings.timeoutMs + 250,
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
  };
}
