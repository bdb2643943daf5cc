/**
 * Binds a Twilio call to the LiveKit participant that carries it. Anyone
 * with roomAdmin on a room can rewrite its participants' attributes, and an
 * agent's own token has exactly that, so `twilio.callSid` alone cannot say
 * which call a room may control: a room's admin could write another room's
 * call SID there. The binding is an HMAC over the room, the participant and
 * the call's facts, keyed with the account's auth token, which agents never
 * hold. The service sets it when it connects a call and checks it before it
 * acts on one.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const BINDING_ATTRIBUTE = 'twilio.callBinding';

export interface BoundCall {
  room: string;
  identity: string;
  callSid: string;
  accountSid: string;
  /** The Studio flow the call returns to, or ''. */
  flowSid: string;
  route: string;
  /**
   * Which leg of the room's call this is: the caller's (the call the room
   * was made for), or a person brought in for a warm transfer. Bound too, so
   * that an agent cannot make the person's leg pass for the caller's.
   */
  role?: LegRole;
  /** A person's leg: the room of the call they were brought into, bound too so no other room's call finds them. */
  callerRoom?: string;
}

export type LegRole = 'caller' | 'person';

export const ROLE_ATTRIBUTE = 'twilio.role';
export const CALLER_ROOM_ATTRIBUTE = 'twilio.callerRoom';

export function callBinding(authToken: string, call: BoundCall): string {
  const facts = ['livekit-twilio-call', call.room, call.identity, call.callSid, call.accountSid, call.flowSid, call.route];
  // The caller's leg binds as it always has, so calls connected before legs existed stay controllable.
  if (call.role === 'person') facts.push('person', call.callerRoom ?? '');
  const text = facts.join('\n');
  return createHmac('sha256', authToken).update(text).digest('base64url');
}

/** What binds a call to its participant: the binding, and the Studio flow when there is one. None without an auth token. */
export function bindingAttributes(authToken: string, call: BoundCall): Record<string, string> {
  if (!authToken || !call.callSid) return {};
  return {
    [BINDING_ATTRIBUTE]: callBinding(authToken, call),
    ...(call.flowSid ? { 'twilio.flowSid': call.flowSid } : {}),
    ...(call.role === 'person' ? { [ROLE_ATTRIBUTE]: 'person', [CALLER_ROOM_ATTRIBUTE]: call.callerRoom ?? '' } : {}),
  };
}

export function isBound(authToken: string, call: BoundCall, binding: string | undefined): boolean {
  if (!authToken || !binding) return false;
  const expected = Buffer.from(callBinding(authToken, call));
  const given = Buffer.from(binding);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export const CALL_TOKEN_BINDING_ATTRIBUTE = 'twilio.callTokenBinding';

/**
 * Binds an incoming call's CallToken to the room, the call and the number it
 * came from: a room admin can rewrite `twilio.callToken` and `twilio.from`,
 * and a warm transfer shows the person that number with that token. Only a
 * pair this service wrote is used.
 */
export function callTokenBinding(authToken: string, room: string, callSid: string, from: string, token: string): string {
  return createHmac('sha256', authToken).update(['livekit-twilio-call-token', room, callSid, from, token].join('\n')).digest('base64url');
}
