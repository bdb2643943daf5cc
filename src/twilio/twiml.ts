/**
 * TwiML documents, built with the twilio helper so every value is escaped.
 * Values must already be {@link clean}ed: the helper lets control characters
 * through, which would make the document invalid XML.
 */
import twilio from 'twilio';
import type { FallbackSettings, GreetingSettings } from '../config/settings';
import { addressKind } from '../phone/address';
import { RECORDING_EVENTS, RecordingRequest } from '../recording/callbacks';

type SayAttributes = Parameters<InstanceType<typeof twilio.twiml.VoiceResponse>['say']>[0];

function sayAttributes(voice: string, language: string): SayAttributes {
  const attributes: Record<string, string> = {};
  if (voice) attributes.voice = voice;
  if (language) attributes.language = language;
  return attributes as SayAttributes;
}

export interface ConnectTwimlOptions {
  /** LiveKit's `connect_url` (already checked to be `wss://` without a query). */
  streamUrl: string;
  greeting?: GreetingSettings;
  /** `<Connect action>`; requested by Twilio when the stream ends. */
  actionUrl?: string;
  /** `<Start><Recording>` first: the whole call is recorded, the notice included. */
  recording?: RecordingRequest;
  /** Spoken before the greeting: that the call is recorded. */
  notice?: string;
}

/**
 * `<Start><Recording>` (optional), the notice and the greeting (optional),
 * then `<Connect><Stream url/></Connect>`. `<Start>` returns at once and the
 * recording runs on under the verbs after it
 * (https://www.twilio.com/docs/voice/twiml/recording).
 */
export function connectTwiml(options: ConnectTwimlOptions): string {
  const response = new twilio.twiml.VoiceResponse();
  const greeting = options.greeting;
  if (options.recording)
    response.start().recording({
      recordingStatusCallback: options.recording.callbackUrl,
      recordingStatusCallbackMethod: 'POST',
      recordingStatusCallbackEvent: [...RECORDING_EVENTS],
      channels: options.recording.channels,
      track: 'both',
    });
  if (options.notice) response.say(sayAttributes(greeting?.voice ?? '', greeting?.language ?? ''), options.notice);
  if (greeting?.text) response.say(sayAttributes(greeting.voice, greeting.language), greeting.text);
  const connect = response.connect(options.actionUrl ? { action: options.actionUrl } : {});
  connect.stream({ url: options.streamUrl });
  return response.toString();
}

export interface FallbackTwimlOptions extends FallbackSettings {
  voice?: string;
  language?: string;
}

/** The message, then `<Dial>` to the fallback number or `<Hangup/>`. */
export function fallbackTwiml(options: FallbackTwimlOptions): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say(sayAttributes(options.voice ?? '', options.language ?? ''), options.message);
  if (options.number) response.dial(options.number);
  else response.hangup();
  return response.toString();
}

/** `<Redirect>` to the URL, e.g. a Studio flow's return URL. */
export function redirectTwiml(url: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.redirect({ method: 'POST' }, url);
  return response.toString();
}

export interface TransferTwimlOptions {
  /** A phone number, `sip:` or `client:` address (already checked against the dial policy). */
  target: string;
  message?: string;
  voice?: string;
  language?: string;
}

/** The optional message, then `<Dial>` to the target: the caller leaves the LiveKit stream for a person. */
export function transferTwiml(options: TransferTwimlOptions): string {
  const response = new twilio.twiml.VoiceResponse();
  if (options.message) response.say(sayAttributes(options.voice ?? '', options.language ?? ''), options.message);
  const dial = response.dial();
  const kind = addressKind(options.target);
  if (kind === 'sip') dial.sip(options.target);
  else if (kind === 'client') dial.client(options.target.slice('client:'.length));
  else dial.number(options.target);
  return response.toString();
}

/** What the answering machine hears: the text in the service's voice, or the audio file; then the call ends. */
export function voicemailTwiml(options: { message?: string; audioUrl?: string; voice?: string; language?: string }): string {
  const response = new twilio.twiml.VoiceResponse();
  if (options.audioUrl) response.play(options.audioUrl);
  else response.say(sayAttributes(options.voice ?? '', options.language ?? ''), options.message ?? '');
  response.hangup();
  return response.toString();
}

/**
 * Keys pressed on the call (`<Play digits>`, tones Twilio generates), then
 * `<Redirect>` to the URL that opens the call's stream again: the update that
 * plays them ends the stream, as any new TwiML does.
 */
export function digitsTwiml(digits: string, rejoinUrl: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.play({ digits });
  response.redirect({ method: 'POST' }, rejoinUrl);
  return response.toString();
}
