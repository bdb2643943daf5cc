/** `cancel-human`: hangs up the person `add-human` called, before or after the join, and removes their participant. */
import { ROOM_BUDGET_MS } from '../../outbound/steps';
import { reportProgress } from '../../transfer/progress';
import { CallAction, ok, refuse } from './action';
import { endStatus, personLeg } from './person-leg';
import { changeCall } from './twilio-update';

export const cancelHuman: CallAction = {
  takes: [],
  afterHangup: true,
  async run(context) {
    const { room, settings, deps, budget } = context;
    const person = await personLeg(context);
    if (person === 'failed') return refuse(502, 'livekit-error', 'LiveKit could not be asked for the consult room');
    if (person === 'none') return ok({ action: 'cancel-human', outcome: 'no-human' }, 'no-human');
    const { progress, participant } = person;
    const result = await changeCall(context, progress.callSid, { status: endStatus(progress) });
    if (typeof result === 'object') return result;
    const rooms = deps.rooms(settings.liveKit, budget.share(ROOM_BUDGET_MS, 100, 200));
    if (participant) await rooms.removeParticipant(participant.room, participant.call.identity);
    await reportProgress(rooms, room, settings.service.authToken, { ...progress, status: 'gone' });
    return ok(
      { action: 'cancel-human', outcome: result === 'ended' ? 'already-ended' : 'cancelled', callSid: progress.callSid },
      'cancelled',
    );
  },
};
