/**
 * VOICEMAIL_AUDIO: the audio files leave-voicemail may play, by asset name
 * (voicemail.mp3 for src/assets/voicemail.mp3). Named in a setting because
 * a deployed function cannot list the service's public assets
 * (Runtime.getAssets() holds the private ones), and so that an agent plays
 * only what the operator chose. Names that are no asset name are left out;
 * the doctor reports them.
 */
import { Env, EnvReader, memoizedRead } from '../config/env-reader';

/** An asset at the service's root, in a format `<Play>` plays (https://www.twilio.com/docs/voice/twiml/play). */
export const AUDIO_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.(mp3|wav|aif|aiff|gsm|ulaw)$/;

export const readVoicemailAudio = memoizedRead(['VOICEMAIL_AUDIO'], (env: Env): string[] =>
  new EnvReader(env).list('VOICEMAIL_AUDIO').filter((name) => AUDIO_NAME.test(name)),
);
