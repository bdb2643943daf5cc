/** `cancel-human`: hangs up the person `add-human` called, before or after the join, and removes their participant. */
import { ROOM_BUDGET_MS } from '../../outbound/steps';
import { reportProgress } from '../../transfer/progress';
import { CallAction, ok, refuse } from './action';
import { END_PERSON, personLeg } from './person-leg';
import { changeCall } from './twilio-update';

export const cancelHuman: CallAction = {
  takes: [],
  afterHangup: true,
  async run(context) {
    const { room, call, settings, deps, budget } = context;
    const person = await personLeg(context);
    if (person === 'failed') return refuse(502, 'livekit-error', 'LiveKit could not be asked for the consult room');
    if (person === 'none') return ok({ action: 'cancel-human', outcome: 'no-human' }, 'no-human');
    const { progress, participant } = person;
    const rooms = () => deps.rooms(settings.liveKit, budget.share(ROOM_BUDGET_MS, 100, 200));
    // Released first: the end of the person's call must not read as "the person left a joined call",
    // which ends the caller's too (../../transfer/follow-status).
    await reportProgress(rooms(), room, settings.service.authToken, { ...progress, status: 'gone' }, call.identity);
    const result = await changeCall(context, progress.callSid, END_PERSON);
    if (typeof result === 'object') return result;
    if (participant) await rooms().removeParticipant(participant.room, participant.call.identity);
    return ok(
      { action: 'cancel-human', outcome: result === 'ended' ? 'already-ended' : 'cancelled', callSid: progress.callSid },
      'cancelled',
    );
  },
};
