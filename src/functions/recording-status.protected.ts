/**
 * Protected: Twilio's recording status callbacks. Shows the recording's SID
 * and state on the caller's participant and, once the call and its
 * recordings are over, sends the call's summary when one is configured.
 */
import type { ServerlessFunctionSignature } from '@twilio-labs/serverless-runtime-types/types';
import { routesFromAssets } from '../config/routes-asset';
import { liveKitRooms } from '../livekit/rooms';
import { reflectRecording } from '../recording/reflect-recording';
import { sendSummaryWhenDone } from '../summary/send-summary';
import { readSummarySettings } from '../summary/settings';
import { jsonReply } from '../twilio/reply';
import { answer, environmentOf, twilioClientOf } from '../twilio/runtime';
import { logLine } from '../util/log';

export const handler: ServerlessFunctionSignature = (context, event, callback) => {
  const env = environmentOf(context);
  const twilio = twilioClientOf(context);
  return answer(
    'recording-status',
    callback,
    () =>
      reflectRecording(env, event as Record<string, unknown>, {
        rooms: liveKitRooms,
        log: logLine,
        afterRecording: (callSid, route, budget, recording) =>
          sendSummaryWhenDone(readSummarySettings(env), { twilio, routes: routesFromAssets }, callSid, route, budget, { recording }),
      }),
    () => jsonReply(200, { outcome: 'error' }),
  );
};
