/**
 * Public voice webhook: puts the caller into a LiveKit room through LiveKit's
 * Twilio Connector. Bind it to a number's "A call comes in" (HTTP POST).
 */
import type { ServerlessFunctionSignature } from '@twilio-labs/serverless-runtime-types/types';
import { readFallbackSettings } from '../config/settings';
import { answerIncomingCall } from '../incoming/answer-call';
import { xmlReply } from '../twilio/reply';
import { answer, environmentOf } from '../twilio/runtime';
import { fallbackTwiml } from '../twilio/twiml';

export const handler: ServerlessFunctionSignature = (context, event, callback) => {
  const env = environmentOf(context);
  return answer(
    'incoming',
    callback,
    () => answerIncomingCall(env, event as Record<string, unknown>),
    () => xmlReply(fallbackTwiml(readFallbackSettings(env))),
  );
};
