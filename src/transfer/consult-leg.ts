/**
 * The person's leg of a warm transfer: where they wait, what their
 * participant is called, what they hear before their stream opens, and the
 * URLs Twilio is given for their call. Names are derived from the caller's
 * room, so every part of the service finds the same ones.
 */
import { createHash } from 'node:crypto';
import twilio from 'twilio';
import { statusCallbackUrl } from '../status/room-status';

/**
 * The agent name the consult room is dispatched to. A non-empty dispatch
 * list replaces LiveKit's default dispatch (livekit/livekit pkg/rtc/room.go
 * createAgentDispatchesFromRoomAgent adds the default `{}` only when the list
 * is empty), and no worker registers this name, so no agent joins the person
 * there: LiveKit logs "not dispatching agent job since no worker is
 * available" (pkg/agent/client.go LaunchJob) and does nothing else.
 */
export const NO_AGENT = 'twilio-consult-no-agent';

/**
 * The consult room of a room: where a person waits to be joined to the call.
 * Room names have at most 128 characters; a name too long to take the
 * suffix is shortened with a digest of the whole, so two rooms never share one.
 */
export function consultRoom(room: string): string {
  if (room.length <= 120) return `${room}-consult`;
  return `${room.slice(0, 100)}-${createHash('sha256').update(room).digest('hex').slice(0, 12)}-consult`;
}

export function personIdentity(target: string): string {
  return `human-${target}`;
}

/** What /consult needs to open the person's stream, in its (Twilio-signed) query. */
export interface ConsultLeg {
  /** The caller's room. */
  room: string;
  target: string;
  route: string;
  /** Whether the person must press 1 first. */
  accept: boolean;
}

export const CONSULT_QUERY = ['room', 'target', 'route', 'accept'] as const;

export function consultUrl(origin: string, leg: ConsultLeg): string {
  const query = new URLSearchParams([
    ['room', leg.room],
    ['target', leg.target],
    ['route', leg.route],
    ['accept', leg.accept ? '1' : '0'],
  ]);
  return `${origin}/consult?${query.toString()}`;
}

/** The person's status callbacks: their own participant, and the caller's room, where the agent is. */
export function personStatusUrl(origin: string, leg: ConsultLeg): string {
  const url = statusCallbackUrl(origin, consultRoom(leg.room), personIdentity(leg.target), leg.route);
  return `${url}&${new URLSearchParams([['callerRoom', leg.room]]).toString()}`;
}

type Say = Parameters<InstanceType<typeof twilio.twiml.VoiceResponse>['say']>[0];
const sayWith = (voice: string, language: string): Say => ({ ...(voice ? { voice } : {}), ...(language ? { language } : {}) }) as Say;

export interface PersonTwimlOptions {
  accept: boolean;
  /** Absolute: TwiML given to calls.create has no document URL to resolve against. */
  consultUrl: string;
  voice: string;
  language: string;
}

/** Seconds the person has to press 1. */
export const ACCEPT_SECONDS = 8;
export const ACCEPT_PROMPT = 'You have a call to take. Press 1 to accept it.';

/**
 * What the person's phone is told when they answer: straight to /consult,
 * or "press 1" first, since a voicemail greeting also "answers". The brief
 * is said by /consult, after the key: a voicemail never records it. With
 * actionOnEmptyResult, no key in time still asks /consult, which says
 * goodbye and reports them as having declined.
 */
export function personTwiml(options: PersonTwimlOptions): string {
  const response = new twilio.twiml.VoiceResponse();
  const say = sayWith(options.voice, options.language);
  if (options.accept) {
    const gather = response.gather({
      input: ['dtmf'],
      numDigits: 1,
      timeout: ACCEPT_SECONDS,
      action: options.consultUrl,
      method: 'POST',
      actionOnEmptyResult: true,
    });
    gather.say(say, ACCEPT_PROMPT);
  } else {
    response.redirect({ method: 'POST' }, options.consultUrl);
  }
  return response.toString();
}

/** Said and hung up instead of a stream: declined, the caller gone, or LiveKit unable. */
export function goodbyeTwiml(message: string, voice: string, language: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say(sayWith(voice, language), message);
  response.hangup();
  return response.toString();
}

/** The Twilio conference both legs meet in when LiveKit cannot move the person: it ends when either leaves. */
export function conferenceTwiml(room: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.dial().conference({ beep: 'false', startConferenceOnEnter: true, endConferenceOnExit: true }, conferenceName(room));
  return response.toString();
}

/** Conference names are at most 128 characters (the Conference resource's friendly_name): a longer one is shortened with a digest. */
export function conferenceName(room: string): string {
  if (room.length <= 125) return `lk-${room}`;
  return `lk-${room.slice(0, 100)}-${createHash('sha256').update(room).digest('hex').slice(0, 12)}`;
}
