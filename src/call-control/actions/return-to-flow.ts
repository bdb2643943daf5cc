/**
 * `return-to-flow`: a call a Studio flow sent here goes back to it, with
 * the agent's result and fields as the redirect widget's variables.
 */
import { flowReturnUrl, withFlowParams } from '../../twilio/studio';
import { redirectTwiml } from '../../twilio/twiml';
import { CallAction, ok, refuse } from './action';
import { changeCall } from './twilio-update';

export const returnToFlow: CallAction = {
  takes: ['result', 'fields'],
  async run(context, { result, fields }) {
    const { call } = context;
    if (!call.flowSid)
      return refuse(409, 'not-from-studio', 'This call did not come from a Studio flow, so there is no flow to return it to');
    const url = withFlowParams(flowReturnUrl(call.accountSid, call.flowSid), { ConnectorResult: result ?? 'agent-returned', ...fields });
    const update = await changeCall(context, call.callSid, { twiml: redirectTwiml(url) });
    if (update === 'ended') return refuse(409, 'call-over', 'The call has already ended');
    return update === 'done' ? ok({ action: 'return-to-flow', outcome: 'returned' }, 'returned') : update;
  },
};
