/**
 * `hangup`: the call ends. A call already over is not an error. With a
 * person brought in (add-human), `leg` says which call: `caller` (the
 * default: the call the room was made for), `person`, or `both`.
 */
import { ROOM_BUDGET_MS } from '../../outbound/steps';
import { reportProgress } from '../../transfer/progress';
import { CallAction, ok, refuse } from './action';
import { END_PERSON, personLeg } from './person-leg';
import { changeCall } from './twilio-update';

export const hangup: CallAction = {
  takes: ['leg'],
  afterHangup: true,
  async run(context, { leg = 'caller' }) {
    const { room, call, settings, deps, budget } = context;
    const callSids: string[] = [];
    if (leg !== 'person' && call.role === 'caller') callSids.push(call.callSid);
    if (leg !== 'caller') {
      const person = await personLeg(context);
      if (person === 'failed') return refuse(502, 'livekit-error', 'LiveKit could not be asked for the consult room');
      if (person === 'none' && leg === 'person') return refuse(409, 'no-human', 'Nobody was brought into this call');
      if (person !== 'none') {
        // Released first, as cancel-human does: only the person leaves, not the caller with them.
        if (leg === 'person') {
          const rooms = deps.rooms(settings.liveKit, budget.share(ROOM_BUDGET_MS, 100, 200));
          await reportProgress(rooms, room, settings.service.authToken, { ...person.progress, status: 'gone' }, call.identity);
        }
        callSids.push(person.progress.callSid);
      }
    }
    if (callSids.length === 0) return refuse(409, 'call-over', 'The call has already ended');
    let ended = 0;
    for (const callSid of callSids) {
      const result = await changeCall(context, callSid, END_PERSON);
      if (typeof result === 'object') return result;
      if (result === 'ended') ended += 1;
    }
    if (ended === callSids.length) return ok({ action: 'hangup', outcome: 'already-ended' }, 'already-ended');
    return ok({ action: 'hangup', outcome: 'hung-up', ...(leg === 'caller' ? {} : { leg }) }, 'hung-up');
  },
};
