/**
 * Public voice webhook: puts the caller into a LiveKit room through LiveKit's
 * Twilio Connector. Bind it to a number's "A call comes in" (HTTP POST).
 */
import type { ServerlessFunctionSignature } from '@twilio-labs/serverless-runtime-types/types';
import { routesFromAssets } from '../config/routes-asset';
import { readFallbackSettings } from '../config/settings';
import { answerIncomingCall } from '../incoming/answer-call';
import { callJournal } from '../journal/call-journal';
import { liveKitConnector } from '../livekit/connector';
import { xmlReply } from '../twilio/reply';
import { answer, environmentOf, twilioClientOf } from '../twilio/runtime';
import { fallbackTwiml } from '../twilio/twiml';
import { logLine } from '../util/log';

export const handler: ServerlessFunctionSignature = (context, event, callback) => {
  const env = environmentOf(context);
  const sync = twilioClientOf(context);
  return answer(
    'incoming',
    callback,
    () =>
      answerIncomingCall(env, event as Record<string, unknown>, {
        connector: liveKitConnector,
        log: logLine,
        routes: routesFromAssets,
        journal: (callSid) => callJournal(sync, callSid),
      }),
    () => xmlReply(fallbackTwiml(readFallbackSettings(env))),
  );
};
