/**
 * The call a room holds, found from the room alone: the participant that
 * carries a bound Twilio call (./../twilio/call-binding). Nothing in the
 * request names the call, so a token for one room can never reach another's.
 */
import type { LiveKitRooms } from '../livekit/rooms';
import { BINDING_ATTRIBUTE, isBound } from '../twilio/call-binding';

export interface RoomCall {
  identity: string;
  callSid: string;
  accountSid: string;
  /** The Studio flow the call came from, or ''. */
  flowSid: string;
  route: string;
  /** `twilio.callStatus` as the status function last set it. */
  status: string;
}

export async function findCall(rooms: LiveKitRooms, room: string, authToken: string): Promise<RoomCall | 'none' | 'failed'> {
  const participants = await rooms.listParticipants(room);
  if (participants === 'failed') return 'failed';
  if (participants === 'not-found') return 'none';
  for (const { identity, attributes } of participants) {
    const call = {
      identity,
      callSid: attributes['twilio.callSid'] ?? '',
      accountSid: attributes['twilio.accountSid'] ?? '',
      flowSid: attributes['twilio.flowSid'] ?? '',
      route: attributes['twilio.route'] ?? '',
      status: attributes['twilio.callStatus'] ?? '',
    };
    if (call.callSid && isBound(authToken, { room, ...call }, attributes[BINDING_ATTRIBUTE])) return call;
  }
  return 'none';
}
