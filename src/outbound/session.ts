/**
 * The LiveKit half of an outbound call: the connector session the Twilio call
 * will stream into, and the clean-up of one that LiveKit made too late or
 * that a resend left behind.
 */
import { compactAttributes } from '../livekit/attributes';
import { ConnectRequest, LiveKitError } from '../livekit/connector';
import type { RoomOutcome } from '../livekit/rooms';
import { errorReply, HttpReply, retryLaterReply } from '../twilio/reply';
import type { Budget } from '../util/budget';
import { resentIdentity } from './request';
import { LIVEKIT_BUDGET_MS, OutboundDependencies, Prepared, ROOM_BUDGET_MS, Stop } from './steps';
import { RECORDING_STATUS } from '../recording/attributes';

const LATE_SESSION_WATCH_MS = 2000;
const LATE_SESSION_POLL_MS = 400;
/** A resend under a fresh identity is tried only with this much of LiveKit's budget left. */
const MIN_RESEND_MS = 500;

/** An open session: the stream URL, and the request as it was finally sent (its identity may be a fresh one). */
export interface Session {
  connectUrl: string;
  prepared: Prepared;
  /** Set when a 503 made the service resend under a fresh identity: what became of the first identity's participant. */
  abandoned?: RoomOutcome;
}

function connectRequest({ settings, request, service, recording }: Prepared): ConnectRequest {
  // Recorded from the start: the room knows before Twilio's first recording callback does.
  const recorded = recording.mode === 'always' || request.call.record === true;
  const attributes = compactAttributes({
    ...settings.attributes,
    ...request.participantAttributes,
    'twilio.route': settings.route,
    'twilio.accountSid': service.accountSid,
    'twilio.direction': 'outbound',
    'twilio.from': request.from,
    'twilio.to': request.to,
    'twilio.phoneNumber': request.to,
    ...(recorded ? { [RECORDING_STATUS]: 'starting' } : {}),
  });
  return {
    direction: 'outbound',
    roomName: request.roomName,
    participantIdentity: request.participantIdentity,
    participantName: request.participantName,
    participantMetadata: request.participantMetadata,
    participantAttributes: attributes,
    agents: request.agentNames.map((agentName) => ({ agentName, metadata: request.agentMetadata })),
    destinationCountry: request.destinationCountry,
  };
}

/** Opens the connector session; its stream URL, or the reply saying why not. */
export async function openSession(prepared: Prepared, deps: OutboundDependencies, budget: Budget, after = 0): Promise<Session | Stop> {
  // LiveKit's share, leaving Twilio its least (500 ms), the tag and what the caller keeps back `after`.
  const share = Math.min(prepared.liveKit.timeoutMs, LIVEKIT_BUDGET_MS, budget.remaining() - 500 - 300 - after);
  const liveKitUntil = budget.elapsed() + Math.max(share, 250);
  const connect = (p: Prepared) =>
    deps.connector({ ...p.liveKit, timeoutMs: Math.max(liveKitUntil - budget.elapsed(), 1) })(connectRequest(p));
  try {
    return { connectUrl: await connect(prepared), prepared };
  } catch (error) {
    const failure = error instanceof LiveKitError ? error : new LiveKitError('unreachable', 'LiveKit failed');
    // A 503 may have opened the session anyway (../livekit/connector resendConnect). Sent again as it
    // was, a session made late could evict the one the call streams into; under a fresh identity
    // it cannot. Only an identity the service chose may be changed.
    if (failure.kind === 'unavailable' && prepared.request.identityChosen && liveKitUntil - budget.elapsed() >= MIN_RESEND_MS) {
      const fresh = {
        ...prepared,
        request: { ...prepared.request, participantIdentity: resentIdentity(prepared.request.participantIdentity) },
      };
      // The first session, if LiveKit made it, will never be streamed into: removed either way.
      const dropFirst = () =>
        deps
          .rooms(prepared.liveKit, budget.share(ROOM_BUDGET_MS, 200, 100))
          .removeParticipant(prepared.request.roomName, prepared.request.participantIdentity);
      try {
        const connectUrl = await connect(fresh);
        return { connectUrl, prepared: fresh, abandoned: await dropFirst() };
      } catch (again) {
        const stop = await sessionFailed(again instanceof LiveKitError ? again : failure, deps, fresh, budget);
        return { ...stop, fields: { ...stop.fields, abandonedSession: await dropFirst() } };
      }
    }
    return sessionFailed(failure, deps, prepared, budget);
  }
}

async function sessionFailed(failure: LiveKitError, deps: OutboundDependencies, prepared: Prepared, budget: Budget): Promise<Stop> {
  const fields = { outcome: 'livekit-failed', reason: `livekit ${failure.kind}: ${failure.message}` };
  if (failure.kind === 'timeout') {
    const lateSession = await removeLateSession(deps, prepared, budget);
    const reply = errorReply(504, { code: 'livekit-timeout', message: 'LiveKit did not answer in time; no call was placed' });
    return { reply, fields: { ...fields, lateSession } };
  }
  return { reply: failureReply(failure), fields };
}

/** Rate limited and unavailable say when to come back; nothing was placed either way. */
function failureReply(failure: LiveKitError): HttpReply {
  if (failure.kind === 'rate-limited') {
    const message = 'LiveKit is not accepting new calls right now (rate limited); no call was placed. Retry after the Retry-After seconds';
    return retryLaterReply(429, { code: 'livekit-rate-limited', message }, failure.retryAfterMs);
  }
  if (failure.kind === 'unavailable') {
    const message = 'LiveKit is unavailable right now; no call was placed. Retry after the Retry-After seconds';
    return retryLaterReply(503, { code: 'livekit-unavailable', message }, failure.retryAfterMs);
  }
  return errorReply(502, { code: 'livekit-error', message: `LiveKit could not create the session (${failure.kind}); no call was placed` });
}

/**
 * A timed-out ConnectTwilioCall may still create its session: LiveKit can
 * finish the request after we stopped waiting, and no call will ever come for
 * it, so nothing later would clean it up. Remove its participant now, and
 * while it is not there yet, look again for {@link LATE_SESSION_WATCH_MS}.
 */
async function removeLateSession(deps: OutboundDependencies, { liveKit, request }: Prepared, budget: Budget): Promise<RoomOutcome> {
  const until = budget.elapsed() + LATE_SESSION_WATCH_MS;
  for (;;) {
    const outcome = await deps
      .rooms(liveKit, budget.share(ROOM_BUDGET_MS, 200))
      .removeParticipant(request.roomName, request.participantIdentity);
    const next = budget.elapsed() + LATE_SESSION_POLL_MS;
    if (outcome !== 'not-found' || next > until || budget.remaining() - LATE_SESSION_POLL_MS < ROOM_BUDGET_MS + 200) return outcome;
    await new Promise((resolve) => setTimeout(resolve, LATE_SESSION_POLL_MS));
  }
}
