/**
 * The calls a room holds, found from the room alone: the participants that
 * carry a bound Twilio call (../twilio/call-binding), each with its leg's
 * role. Nothing in the request names a call, so a token for one room can
 * never reach another's.
 */
import type { LiveKitRooms } from '../livekit/rooms';
import { BINDING_ATTRIBUTE, CALLER_ROOM_ATTRIBUTE, isBound, LegRole, ROLE_ATTRIBUTE } from '../twilio/call-binding';

export interface RoomCall {
  identity: string;
  callSid: string;
  accountSid: string;
  /** The Studio flow the call came from, or ''. */
  flowSid: string;
  route: string;
  /** `twilio.callStatus` as the status function last set it. */
  status: string;
  role: LegRole;
  /** A person's leg: the room of the call they were brought into (bound). */
  callerRoom: string;
  /** Whether its stream runs: the connector participant publishes the phone's audio. */
  publishing: boolean;
  attributes: Record<string, string>;
  name: string;
  metadata: string;
}

/** Every bound leg in the room, the caller's first. */
export async function findCalls(rooms: LiveKitRooms, room: string, authToken: string): Promise<RoomCall[] | 'failed'> {
  const participants = await rooms.listParticipants(room);
  if (participants === 'failed') return 'failed';
  if (participants === 'not-found') return [];
  const calls: RoomCall[] = [];
  for (const { identity, attributes, publishing, name = '', metadata = '' } of participants) {
    const call: RoomCall = {
      identity,
      callSid: attributes['twilio.callSid'] ?? '',
      accountSid: attributes['twilio.accountSid'] ?? '',
      flowSid: attributes['twilio.flowSid'] ?? '',
      route: attributes['twilio.route'] ?? '',
      status: attributes['twilio.callStatus'] ?? '',
      role: attributes[ROLE_ATTRIBUTE] === 'person' ? 'person' : 'caller',
      callerRoom: attributes[CALLER_ROOM_ATTRIBUTE] ?? '',
      publishing,
      attributes,
      name,
      metadata,
    };
    if (call.callSid && isBound(authToken, { room, ...call }, attributes[BINDING_ATTRIBUTE])) calls.push(call);
  }
  return calls.sort((a, b) => (a.role === b.role ? 0 : a.role === 'caller' ? -1 : 1));
}

/** The room's caller leg, or 'none'. */
export async function findCall(rooms: LiveKitRooms, room: string, authToken: string): Promise<RoomCall | 'none' | 'failed'> {
  const calls = await findCalls(rooms, room, authToken);
  if (calls === 'failed') return 'failed';
  return calls.find((c) => c.role === 'caller') ?? 'none';
}
