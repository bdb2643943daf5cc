/**
 * Public API for agents: act on the phone call in the agent's own room
 * (hang up, transfer, hand back to Studio, bring in a human), authorised by a
 * short-lived LiveKit token for that room. Twilio credentials stay here.
 */
import type { ServerlessFunctionSignature } from '@twilio-labs/serverless-runtime-types/types';
import { controlCall } from '../call-control/control-call';
import { controlDependencies } from '../call-control/dependencies';
import { errorReply } from '../twilio/reply';
import { answer, environmentOf, twilioClientOf } from '../twilio/runtime';

export const handler: ServerlessFunctionSignature = (context, event, callback) => {
  const deps = controlDependencies(twilioClientOf(context));
  return answer(
    'call-control',
    callback,
    () => controlCall(environmentOf(context), event as Record<string, unknown>, deps),
    () => errorReply(500, { code: 'internal', message: 'The action could not be carried out because of an internal error' }),
  );
};
