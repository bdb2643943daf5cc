/** `cancel-human`: hangs up the call `add-human` placed and removes its participant. */
import { ROOM_BUDGET_MS } from '../../outbound/steps';
import { findCall } from '../find-call';
import { CallAction, ok, refuse } from './action';
import { consultRoom } from './consult-room';
import { changeCall } from './twilio-update';

export const cancelHuman: CallAction = {
  takes: [],
  afterHangup: true,
  async run(context) {
    const { room, settings, deps, budget } = context;
    const consult = consultRoom(room);
    const rooms = () => deps.rooms(settings.liveKit, budget.share(ROOM_BUDGET_MS, 100, 200));
    const human = await findCall(rooms(), consult, settings.service.authToken);
    if (human === 'failed') return refuse(502, 'livekit-error', 'LiveKit could not be asked for the consult room');
    if (human === 'none') return ok({ action: 'cancel-human', outcome: 'no-human' }, 'no-human');
    const result = await changeCall(context, human.callSid, { status: 'completed' });
    if (typeof result === 'object') return result;
    await rooms().removeParticipant(consult, human.identity);
    return ok({ action: 'cancel-human', outcome: result === 'ended' ? 'already-ended' : 'cancelled', callSid: human.callSid }, 'cancelled');
  },
};
