/**
 * Protected: Twilio's call status and AMD callbacks. Reflects the call's
 * progress into the LiveKit room (attributes and a data message), removes
 * the connector participant of a call nobody answered, and once the call is
 * over sends its summary when one is configured.
 */
import type { ServerlessFunctionSignature } from '@twilio-labs/serverless-runtime-types/types';
import { jsonReply } from '../twilio/reply';
import { liveKitRooms } from '../livekit/rooms';
import { logLine } from '../util/log';
import { routesFromAssets } from '../config/routes-asset';
import { answer, environmentOf, twilioClientOf } from '../twilio/runtime';
import { reflectCallStatus } from '../status/reflect-status';
import { readSummarySettings } from '../summary/settings';
import { sendSummaryWhenDone } from '../summary/send-summary';

export const handler: ServerlessFunctionSignature = (context, event, callback) => {
  const env = environmentOf(context);
  const twilio = twilioClientOf(context);
  return answer(
    'status',
    callback,
    () =>
      reflectCallStatus(env, event as Record<string, unknown>, {
        rooms: liveKitRooms,
        log: logLine,
        routes: routesFromAssets,
        twilio,
        afterCall: (callSid, route, budget, callStatus) =>
          sendSummaryWhenDone(readSummarySettings(env), { twilio, routes: routesFromAssets }, callSid, route, budget, { callStatus }),
      }),
    // Twilio has nothing to retry; the crash is in the log.
    () => jsonReply(200, { outcome: 'error' }),
  );
};
