/**
 * `transfer`: the caller hears `message`, then Twilio dials the target. The
 * new TwiML replaces `<Connect><Stream>`, so the stream into LiveKit ends.
 */
import { transferTwiml } from '../../twilio/twiml';
import { CallAction, ok, refuse } from './action';
import { targetAddress } from './targets';
import { changeCall } from './twilio-update';

export const transfer: CallAction = {
  takes: ['target', 'message'],
  needs: ['target'],
  async run(context, request) {
    const address = targetAddress(context, request.target!);
    if (typeof address !== 'string') return address;
    const twiml = transferTwiml({ target: address, message: request.message, ...context.settings.voice });
    const result = await changeCall(context, context.call.callSid, { twiml });
    if (result === 'ended') return refuse(409, 'call-over', 'The call has already ended');
    return result === 'done' ? ok({ action: 'transfer', outcome: 'transferred', target: request.target }, 'transferred') : result;
  },
};
