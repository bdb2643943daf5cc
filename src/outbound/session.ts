/**
 * The LiveKit half of an outbound call: the connector session the Twilio call
 * will stream into, and the clean-up of one that LiveKit made too late.
 */
import { compactAttributes } from '../livekit/attributes';
import { LiveKitError } from '../livekit/connector';
import type { RoomOutcome } from '../livekit/rooms';
import { errorReply } from '../twilio/reply';
import type { Budget } from '../util/budget';
import { LIVEKIT_BUDGET_MS, OutboundDependencies, Prepared, ROOM_BUDGET_MS, Stop } from './steps';

const LATE_SESSION_WATCH_MS = 2000;
const LATE_SESSION_POLL_MS = 400;

/** Opens the connector session; its stream URL, or the reply saying why not. */
export async function openSession(prepared: Prepared, deps: OutboundDependencies, budget: Budget): Promise<string | Stop> {
  const { liveKit, settings, request, service } = prepared;
  const attributes = compactAttributes({
    ...settings.attributes,
    ...request.participantAttributes,
    'twilio.route': settings.route,
    'twilio.accountSid': service.accountSid,
    'twilio.direction': 'outbound',
    'twilio.from': request.from,
    'twilio.to': request.to,
    'twilio.phoneNumber': request.to,
  });
  try {
    return await deps.connector({ ...liveKit, timeoutMs: Math.min(liveKit.timeoutMs, LIVEKIT_BUDGET_MS) })({
      direction: 'outbound',
      roomName: request.roomName,
      participantIdentity: request.participantIdentity,
      participantName: request.participantName,
      participantMetadata: request.participantMetadata,
      participantAttributes: attributes,
      agents: request.agentNames.map((agentName) => ({ agentName, metadata: request.agentMetadata })),
      destinationCountry: request.destinationCountry,
    });
  } catch (error) {
    const failure = error instanceof LiveKitError ? error : new LiveKitError('unreachable', 'LiveKit failed');
    const timedOut = failure.kind === 'timeout';
    const lateSession = timedOut ? await removeLateSession(deps, prepared, budget) : undefined;
    const reply = errorReply(timedOut ? 504 : 502, {
      code: timedOut ? 'livekit-timeout' : 'livekit-error',
      message: timedOut
        ? 'LiveKit did not answer in time; no call was placed'
        : `LiveKit could not create the session (${failure.kind}); no call was placed`,
    });
    return { reply, fields: { outcome: 'livekit-failed', reason: `livekit ${failure.kind}: ${failure.message}`, lateSession } };
  }
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
