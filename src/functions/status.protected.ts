/**
 * Protected: Twilio's call status and AMD callbacks. Reflects the call's
 * progress into the LiveKit room (attributes and a data message) and removes
 * the connector participant of a call nobody answered.
 */
import type { ServerlessFunctionSignature } from '@twilio-labs/serverless-runtime-types/types';
import { jsonReply } from '../lib/http-reply';
import { liveKitRooms } from '../lib/livekit-rooms';
import { logLine } from '../lib/log';
import { routesFromAssets } from '../lib/routes-asset';
import { answer, environmentOf } from '../lib/runtime';
import { reflectCallStatus } from '../lib/status-callback';

export const handler: ServerlessFunctionSignature = (context, event, callback) =>
  answer(
    'status',
    callback,
    () => reflectCallStatus(environmentOf(context), event as Record<string, unknown>, { rooms: liveKitRooms, log: logLine, routes: routesFromAssets }),
    // Twilio has nothing to retry; the crash is in the log.
    () => jsonReply(200, { outcome: 'error' }),
  );
