/** `hangup`: the call ends. A call already over is not an error. */
import { CallAction, ok } from './action';
import { changeCall } from './twilio-update';

export const hangup: CallAction = {
  takes: [],
  afterHangup: true,
  async run(context) {
    const result = await changeCall(context, context.call.callSid, { status: 'completed' });
    if (result === 'ended') return ok({ action: 'hangup', outcome: 'already-ended' }, 'already-ended');
    return result === 'done' ? ok({ action: 'hangup', outcome: 'hung-up' }, 'hung-up') : result;
  },
};
