/**
 * Protected API: phones someone and puts the call into a LiveKit room with an
 * agent. Called from Studio's Run Function widget, another Function, or a
 * signed server-side request.
 */
import type { ServerlessFunctionSignature } from '@twilio-labs/serverless-runtime-types/types';
import { errorReply } from '../twilio/reply';
import { placeOutboundCall } from '../outbound/place-call';
import { outboundDependencies } from '../outbound/steps';
import { answer, environmentOf, twilioClientOf } from '../twilio/runtime';

export const handler: ServerlessFunctionSignature = (context, event, callback) => {
  const deps = outboundDependencies(twilioClientOf(context));
  return answer(
    'outbound',
    callback,
    () => placeOutboundCall(environmentOf(context), event as Record<string, unknown>, deps),
    () => errorReply(500, { code: 'internal', message: 'The call could not be placed because of an internal error' }),
  );
};
