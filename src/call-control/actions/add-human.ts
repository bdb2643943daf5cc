/**
 * `add-human`: the first half of a warm transfer. The target is called with
 * TwiML the service writes itself: an optional brief, an optional "press 1",
 * then /consult, which opens their stream into the consult room (with no
 * agent there). Their progress reaches the caller's room (../../transfer/progress).
 * One person per call at a time: asking again for the same target while
 * that call lives returns it, never a second call.
 */
import { describeProblems } from '../../config/env-reader';
import { isE164 } from '../../phone/address';
import { consultRoom, ConsultLeg, consultUrl, personIdentity, personStatusUrl, personTwiml } from '../../transfer/consult-leg';
import { isLive, progressOf, reportProgress } from '../../transfer/progress';
import { CALL_TOKEN_BINDING_ATTRIBUTE, callTokenBinding } from '../../twilio/call-binding';
import { callCreateParams, classifyTwilioFailure, createCall, failureReply, TwilioFailure } from '../../twilio/calls';
import { errorReply, misconfigured } from '../../twilio/reply';
import { ROOM_BUDGET_MS } from '../../outbound/steps';
import type { RoomCall } from '../find-call';
import { CallAction, ok, refuse } from './action';
import { targetAddress } from './targets';

/** How long the person's phone rings: the answer deadline of LiveKit's own warm transfer (30 s). */
const RING_SECONDS = 30;
const CALL_BUDGET_MS = 3500;
/** Twilio's answers when a forwarded call may not show the caller's number. */
const CALLER_ID_REFUSED = new Set([21210, 21212]);

/**
 * Whose number the person sees. The service's: the number this call came in
 * on or went out from when it is a configured caller ID, else the first one.
 * The caller's own, when asked: only for an incoming call Twilio gave a
 * CallToken for, which is what lets a forwarded call carry the original
 * caller's number (calls.create CallToken, twilio-oai CreateCall). That is
 * the one exception to "From is one of OUTBOUND_CALLER_IDS": the number is
 * the caller's, vouched for by Twilio for this call, not one the agent chose.
 */
function callerIdFor(
  call: RoomCall,
  room: string,
  authToken: string,
  callerIds: string[],
  wanted: 'service' | 'caller',
): { from: string; callToken?: string } {
  const a = call.attributes;
  const own = a['twilio.direction'] === 'inbound' ? a['twilio.to'] : a['twilio.from'];
  const service = own && callerIds.includes(own) ? own : callerIds[0]!;
  const token = a['twilio.callToken'] ?? '';
  const from = a['twilio.from'] ?? '';
  const vouched = token && a[CALL_TOKEN_BINDING_ATTRIBUTE] === callTokenBinding(authToken, room, call.callSid, from, token);
  if (wanted === 'caller' && vouched && isE164(from)) return { from, callToken: token };
  return { from: service };
}

/** Twilio's answer was lost: the person may be called all the same, and /consult reports them if they answer. */
function mayRing(failure: TwilioFailure, target: string) {
  const message = `Twilio did not confirm the call to ${target}; it may ring them anyway, and human-status will say if they answer`;
  const reply = errorReply(failure.status, { ...failure.error, message, callMayExist: true });
  return { reply, fields: { outcome: 'twilio-failed', reason: failure.error.code, callMayExist: true } };
}

export const addHuman: CallAction = {
  takes: ['target', 'brief', 'accept', 'callerId'],
  needs: ['target'],
  async run(context, request) {
    const { room, call, settings, deps, budget } = context;
    const target = request.target!;
    const address = targetAddress(context, target);
    if (typeof address !== 'string') return address;
    if (!settings.outbound.ok)
      return { reply: misconfigured(describeProblems(settings.outbound.problems)).reply, fields: { outcome: 'error' } };
    const identity = personIdentity(target);
    const calling = (callSid: string, outcome: string, callerId: string) =>
      ok(
        { action: 'add-human', outcome: 'calling', consultRoom: consultRoom(room), participantIdentity: identity, callSid, callerId },
        outcome,
      );

    const earlier = progressOf(call.attributes, room, settings.service.authToken);
    if (earlier && isLive(earlier.status)) {
      if (earlier.target === target) return calling(earlier.callSid, 'already-calling', 'unchanged');
      return refuse(409, 'human-busy', `${earlier.target} is already being brought into this call; cancel-human first`);
    }

    const leg: ConsultLeg = { room, target, route: call.route, accept: request.accept ?? false };
    const { origin, authToken } = settings.service;
    const { from, callToken } = callerIdFor(
      call,
      room,
      authToken,
      settings.outbound.value.outbound.callerIds,
      request.callerId ?? 'service',
    );
    const twiml = personTwiml({ accept: leg.accept, consultUrl: consultUrl(origin, leg), ...settings.voice });
    const options = {
      timeout: RING_SECONDS,
      statusCallback: personStatusUrl(origin, leg),
      statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'] as const,
      statusCallbackMethod: 'POST' as const,
    };
    const place = (caller: { from: string; callToken?: string }) => {
      const params = callCreateParams({
        to: address,
        from: caller.from,
        twiml,
        options: { ...options, statusCallbackEvent: [...options.statusCallbackEvent] },
      });
      if (caller.callToken) params.callToken = caller.callToken;
      return createCall(deps.twilio, params, budget.share(CALL_BUDGET_MS, ROOM_BUDGET_MS + 300, 500));
    };
    let placed: { sid: string };
    let shown = callToken ? 'caller' : 'service';
    try {
      placed = await place({ from, callToken });
    } catch (error) {
      const failure = classifyTwilioFailure(error);
      if (failure.uncertain) return mayRing(failure, target);
      // As LiveKit's own Twilio dialer does: a caller ID Twilio will not forward is retried as the service's.
      if (!callToken || !CALLER_ID_REFUSED.has(failure.error.twilioCode ?? 0))
        return { reply: failureReply(failure), fields: { outcome: 'twilio-failed', reason: failure.error.code } };
      try {
        placed = await place(callerIdFor(call, room, authToken, settings.outbound.value.outbound.callerIds, 'service'));
        shown = 'service';
      } catch (again) {
        const second = classifyTwilioFailure(again);
        if (second.uncertain) return mayRing(second, target);
        return { reply: failureReply(second), fields: { outcome: 'twilio-failed', reason: second.error.code } };
      }
    }
    const rooms = deps.rooms(settings.liveKit, budget.share(ROOM_BUDGET_MS, 100, 200));
    await reportProgress(
      rooms,
      room,
      authToken,
      { status: 'dialing', callSid: placed.sid, target, brief: request.brief ?? '' },
      call.identity,
    );
    return calling(placed.sid, 'calling', shown);
  },
};
