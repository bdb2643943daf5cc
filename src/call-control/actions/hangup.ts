/**
 * `hangup`: the call ends. A call already over is not an error. With a
 * person brought in (add-human), `leg` says which call: `caller` (the
 * default: the call the room was made for), `person`, or `both`.
 */
import { CallAction, ok, refuse } from './action';
import { endStatus, personLeg } from './person-leg';
import { changeCall } from './twilio-update';

export const hangup: CallAction = {
  takes: ['leg'],
  afterHangup: true,
  async run(context, { leg = 'caller' }) {
    const calls: { callSid: string; status: 'completed' | 'canceled' }[] = [];
    if (leg !== 'person' && context.call.role === 'caller') calls.push({ callSid: context.call.callSid, status: 'completed' });
    if (leg !== 'caller') {
      const person = await personLeg(context);
      if (person === 'failed') return refuse(502, 'livekit-error', 'LiveKit could not be asked for the consult room');
      if (person !== 'none') calls.push({ callSid: person.progress.callSid, status: endStatus(person.progress) });
      else if (leg === 'person') return refuse(409, 'no-human', 'Nobody was brought into this call');
    }
    if (calls.length === 0) return refuse(409, 'call-over', 'The call has already ended');
    let ended = 0;
    for (const { callSid, status } of calls) {
      const result = await changeCall(context, callSid, { status });
      if (typeof result === 'object') return result;
      if (result === 'ended') ended += 1;
    }
    if (ended === calls.length) return ok({ action: 'hangup', outcome: 'already-ended' }, 'already-ended');
    return ok({ action: 'hangup', outcome: 'hung-up', ...(leg === 'caller' ? {} : { leg }) }, 'hung-up');
  },
};
