/**
 * Protected: Twilio asks it what the person of a warm transfer does after
 * the brief (call-control's add-human). Opens their stream into the consult
 * room, or says goodbye.
 */
import type { ServerlessFunctionSignature } from '@twilio-labs/serverless-runtime-types/types';
import { liveKitConnector } from '../livekit/connector';
import { liveKitRooms } from '../livekit/rooms';
import { answerConsult } from '../transfer/answer-consult';
import { xmlReply } from '../twilio/reply';
import { goodbyeTwiml } from '../transfer/consult-leg';
import { answer, environmentOf } from '../twilio/runtime';
import { logLine } from '../util/log';

export const handler: ServerlessFunctionSignature = (context, event, callback) =>
  answer(
    'consult',
    callback,
    () =>
      answerConsult(environmentOf(context), event as Record<string, unknown>, {
        connector: liveKitConnector,
        rooms: liveKitRooms,
        log: logLine,
      }),
    () => xmlReply(goodbyeTwiml('Sorry, this call cannot be connected right now. Goodbye.', '', '')),
  );
