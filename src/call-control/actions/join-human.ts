/**
 * `join-human`: the second half of a warm transfer. The person's connector
 * participant is moved from the consult room into this room with LiveKit's
 * MoveParticipant (as LiveKit's own TwilioConnectorWarmTransferTask does;
 * LiveKit Cloud only) and bound here as the call's person leg. Where LiveKit
 * refuses the move, both calls are put into one Twilio <Conference> that
 * ends when either leaves: both streams end, so the agent and the room see
 * both connector participants leave. The answer says which way was used.
 */
import { ROOM_BUDGET_MS } from '../../outbound/steps';
import { conferenceTwiml } from '../../transfer/consult-leg';
import { reportProgress } from '../../transfer/progress';
import { bindingAttributes } from '../../twilio/call-binding';
import { CallAction, ok, refuse } from './action';
import { personLeg } from './person-leg';
import { changeCall } from './twilio-update';

export const joinHuman: CallAction = {
  takes: [],
  async run(context) {
    const { room, call, settings, deps, budget } = context;
    const person = await personLeg(context);
    if (person === 'failed') return refuse(502, 'livekit-error', 'LiveKit could not be asked for the consult room');
    if (person === 'none') return refuse(409, 'no-human', 'Nobody is being brought into this call: add-human first');
    const { progress, participant } = person;
    if (progress.status === 'joined')
      return ok({ action: 'join-human', outcome: 'already-joined', via: progress.via ?? 'move' }, 'already-joined');
    if (!participant?.call.publishing || participant.room === room)
      return refuse(409, 'human-not-ready', `${progress.target} has not answered yet (${progress.status}); ask human-status, then join`);

    const rooms = () => deps.rooms(settings.liveKit, budget.share(ROOM_BUDGET_MS, 100, 200));
    const { identity } = participant.call;
    const moved = await rooms().moveParticipant(participant.room, identity, room);
    let via: 'move' | 'conference' = 'move';
    if (moved === 'done') {
      // The consult room's binding names that room: bound again here, as this call's person leg.
      const facts = { ...participant.call, room, identity, role: 'person' as const };
      await rooms().setAttributes(room, identity, bindingAttributes(settings.service.authToken, facts));
    } else {
      via = 'conference';
      const twiml = conferenceTwiml(room);
      const person = await changeCall(context, progress.callSid, { twiml });
      if (person !== 'done') return person === 'ended' ? refuse(409, 'human-gone', `${progress.target} has hung up`) : person;
      const caller = await changeCall(context, call.callSid, { twiml });
      if (caller !== 'done') return caller === 'ended' ? refuse(409, 'call-over', 'The caller has hung up') : caller;
    }
    await reportProgress(rooms(), room, settings.service.authToken, { ...progress, status: 'joined', via });
    return ok({ action: 'join-human', outcome: 'joined', via, participantIdentity: identity }, `joined-${via}`);
  },
};
