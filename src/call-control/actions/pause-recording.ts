/**
 * `pause-recording`: the call's current recording stops taking audio until
 * resumed; `behavior` says whether the gap is kept as silence (Twilio's
 * default) or skipped. Only Twilio's recording pauses: LiveKit, and the
 * agent's speech-to-text, still hear everything.
 */
import { CallAction } from './action';
import { changeRecordingAction } from './recording-change';

export const pauseRecording: CallAction = {
  takes: ['behavior'],
  run: (context, request) => changeRecordingAction(context, 'paused', request.behavior ?? 'silence'),
};
