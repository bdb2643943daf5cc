/**
 * Protected: Twilio's call status and AMD callbacks. Reflects the call's
 * progress into the LiveKit room (attributes and a data message) and removes
 * the connector participant of a call nobody answered.
 */
import type { ServerlessFunctionSignature } from '@twilio-labs/serverless-runtime-types/types';
import { jsonReply } from '../twilio/reply';
import { liveKitRooms } from '../livekit/rooms';
import { logLine } from '../util/log';
import { routesFromAssets } from '../config/routes-asset';
import { answer, environmentOf } from '../twilio/runtime';
import { reflectCallStatus } from '../status/reflect-status';
import type { TwilioCalls } from '../twilio/calls';

export const handler: ServerlessFunctionSignature = (context, event, callback) =>
  answer(
    'status',
    callback,
    () =>
      reflectCallStatus(environmentOf(context), event as Record<string, unknown>, {
        rooms: liveKitRooms,
        log: logLine,
        routes: routesFromAssets,
        twilio: (timeoutMs) => context.getTwilioClient({ timeout: timeoutMs, autoRetry: false }) as unknown as TwilioCalls,
      }),
    // Twilio has nothing to retry; the crash is in the log.
    () => jsonReply(200, { outcome: 'error' }),
  );
