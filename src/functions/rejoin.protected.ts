/**
 * Protected: Twilio asks it for the call's stream again after press-keys
 * had keys played on the call. Opens a fresh session into the same room as
 * the same participant, or gives the caller the spoken fallback.
 */
import type { ServerlessFunctionSignature } from '@twilio-labs/serverless-runtime-types/types';
import { readFallbackSettings } from '../config/settings';
import { routesFromAssets } from '../config/routes-asset';
import { answerRejoin } from '../digits/answer-rejoin';
import { liveKitConnector } from '../livekit/connector';
import { xmlReply } from '../twilio/reply';
import { answer, environmentOf, twilioClientOf } from '../twilio/runtime';
import { fallbackTwiml } from '../twilio/twiml';
import { logLine } from '../util/log';

export const handler: ServerlessFunctionSignature = (context, event, callback) => {
  const env = environmentOf(context);
  return answer(
    'rejoin',
    callback,
    () =>
      answerRejoin(env, event as Record<string, unknown>, {
        connector: liveKitConnector,
        journal: twilioClientOf(context),
        log: logLine,
        routes: routesFromAssets,
      }),
    () => xmlReply(fallbackTwiml(readFallbackSettings(env))),
  );
};
