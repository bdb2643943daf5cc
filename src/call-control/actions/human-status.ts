/**
 * `human-status`: where the person of a warm transfer is, for an agent that
 * waits for them (the clients' warmTransfer polls it). `ready` when their
 * stream runs in the consult room: they answered (and pressed 1, when asked)
 * and can be joined.
 */
import { isLive, progressOf } from '../../transfer/progress';
import { CallAction, ok, refuse } from './action';
import { personLeg } from './person-leg';

export const humanStatus: CallAction = {
  readOnly: true,
  takes: [],
  afterHangup: true,
  async run(context) {
    const last = progressOf(context.call.attributes, context.room, context.settings.service.authToken);
    // Their call is over (gone, declined, failed): said as it is, so a waiting agent stops waiting.
    if (last && !isLive(last.status)) {
      return ok({ action: 'human-status', outcome: last.status, target: last.target, callSid: last.callSid, ready: false }, last.status);
    }
    const person = await personLeg(context);
    if (person === 'failed') return refuse(502, 'livekit-error', 'LiveKit could not be asked for the consult room');
    if (person === 'none') return ok({ action: 'human-status', outcome: 'no-human', ready: false }, 'no-human');
    const { progress, participant } = person;
    // Ready while they wait in the consult room: once in this room they are joined, whatever the progress says.
    const ready = progress.status !== 'joined' && participant?.room !== context.room && participant?.call.publishing === true;
    return ok(
      { action: 'human-status', outcome: progress.status, target: progress.target, callSid: progress.callSid, ready },
      progress.status,
    );
  },
};
