/**
 * Public voice webhook: puts the caller into a LiveKit room through LiveKit's
 * Twilio Connector. Bind it to a number's "A call comes in" (HTTP POST).
 */
import type { ServerlessFunctionSignature } from '@twilio-labs/serverless-runtime-types/types';
import { readFallbackSettings } from '../lib/config';
import { answerIncomingCall } from '../lib/incoming-call';
import { xmlReply } from '../lib/http-reply';
import { answer, environmentOf } from '../lib/runtime';
import { fallbackTwiml } from '../lib/twiml';

export const handler: ServerlessFunctionSignature = (context, event, callback) => {
  const env = environmentOf(context);
  return answer(
    'incoming',
    callback,
    () => answerIncomingCall(env, event as Record<string, unknown>),
    () => xmlReply(fallbackTwiml(readFallbackSettings(env))),
  );
};
