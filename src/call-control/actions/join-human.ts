/**
 * `join-human`: the second half of a warm transfer. The person's connector
 * participant is moved from the consult room into this room with LiveKit's
 * MoveParticipant (as LiveKit's own TwilioConnectorWarmTransferTask does;
 * LiveKit Cloud only) and bound here as the call's person leg. Where LiveKit
 * does not implement the move, both calls are put into one Twilio
 * <Conference> that ends when either leaves: both streams end, so the agent
 * and the room see both connector participants leave. The answer says which
 * way was used. Any other failure of the move is answered as it is, since
 * the move may have happened: asking again finds the person where they are.
 */
import { ROOM_BUDGET_MS } from '../../outbound/steps';
import { conferenceTwiml, personIdentity } from '../../transfer/consult-leg';
import { reportProgress } from '../../transfer/progress';
import { bindingAttributes } from '../../twilio/call-binding';
import { ActionContext, CallAction, Done, ok, refuse } from './action';
import { END_PERSON, PersonLeg, personLeg } from './person-leg';
import { changeCall } from './twilio-update';

/** Both calls into one conference; if the caller's cannot follow, the person is let go rather than left alone there. */
async function conference(context: ActionContext, person: PersonLeg): Promise<Done | undefined> {
  const { room, call, settings, deps, budget } = context;
  const twiml = conferenceTwiml(room);
  const moved = await changeCall(context, person.progress.callSid, { twiml });
  if (moved === 'ended') return refuse(409, 'human-gone', `${person.progress.target} has hung up`);
  if (moved !== 'done') return moved;
  const caller = await changeCall(context, call.callSid, { twiml });
  if (caller === 'done') return undefined;
  const rooms = deps.rooms(settings.liveKit, budget.share(ROOM_BUDGET_MS, 100, 200));
  await reportProgress(rooms, room, settings.service.authToken, { ...person.progress, status: 'gone' }, call.identity);
  await changeCall(context, person.progress.callSid, END_PERSON);
  return caller === 'ended' ? refuse(409, 'call-over', 'The caller has hung up') : caller;
}

export const joinHuman: CallAction = {
  takes: [],
  async run(context) {
    const { room, call, settings, deps, budget } = context;
    const person = await personLeg(context);
    if (person === 'failed') return refuse(502, 'livekit-error', 'LiveKit could not be asked for the consult room');
    if (person === 'none') return refuse(409, 'no-human', 'Nobody is being brought into this call: add-human first');
    const { progress, participant } = person;
    const rooms = () => deps.rooms(settings.liveKit, budget.share(ROOM_BUDGET_MS, 100, 200));
    const joined = (via: 'move' | 'conference', outcome = `joined-${via}`) =>
      ok({ action: 'join-human', outcome: 'joined', via, participantIdentity: personIdentity(progress.target) }, outcome);
    // Already here: an earlier join moved them (its answer or its progress write may have been lost).
    if (participant?.room === room) {
      if (progress.status !== 'joined')
        await reportProgress(rooms(), room, settings.service.authToken, { ...progress, status: 'joined', via: 'move' }, call.identity);
      return joined('move', 'already-joined');
    }
    if (progress.status === 'joined') return joined(progress.via === 'conference' ? 'conference' : 'move', 'already-joined');
    if (!participant?.call.publishing)
      return refuse(409, 'human-not-ready', `${progress.target} has not answered yet (${progress.status}); ask human-status, then join`);

    const { identity } = participant.call;
    const moved = await rooms().moveParticipant(participant.room, identity, room);
    if (moved === 'done') {
      // The consult room's binding names that room: bound again here, as this call's person leg.
      const facts = { ...participant.call, room, identity, role: 'person' as const, callerRoom: room };
      const rebound = await rooms().setAttributes(room, identity, bindingAttributes(settings.service.authToken, facts));
      await reportProgress(rooms(), room, settings.service.authToken, { ...progress, status: 'joined', via: 'move' }, call.identity);
      return { ...joined('move'), fields: { outcome: 'joined-move', rebound } };
    }
    if (moved === 'not-found') {
      // Moved by a join that ran at the same time, or gone: where are they now?
      const now = await personLeg(context);
      if (typeof now === 'object' && now.participant?.room === room) return joined('move', 'already-joined');
    }
    if (moved !== 'unsupported') {
      const message =
        moved === 'not-found'
          ? `${progress.target} is no longer waiting to join`
          : 'LiveKit could not move them; ask human-status, then join again';
      return refuse(moved === 'not-found' ? 409 : 502, moved === 'not-found' ? 'human-gone' : 'livekit-error', message);
    }
    const refused = await conference(context, person);
    if (refused) return refused;
    await reportProgress(rooms(), room, settings.service.authToken, { ...progress, status: 'joined', via: 'conference' }, call.identity);
    return joined('conference');
  },
};
