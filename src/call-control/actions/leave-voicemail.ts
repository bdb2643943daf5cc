/**
 * `leave-voicemail`: the answering machine hears a message, then the call
 * ends. The message is text (spoken in the service's voice) or one of the
 * audio files VOICEMAIL_AUDIO names among the service's public assets.
 * Best after the beep: with MachineDetection=DetectMessageEnd, the agent
 * waits for `twilio.answeredBy` = `machine_end_beep` (docs/voicemail-and-keys.md).
 */
import { voicemailTwiml } from '../../twilio/twiml';
import { CallAction, ok, refuse } from './action';
import { changeCall } from './twilio-update';

export const leaveVoicemail: CallAction = {
  takes: ['message', 'audio'],
  async run(context, { message, audio }) {
    const { settings } = context;
    if ((message === undefined) === (audio === undefined))
      return refuse(400, 'invalid-parameter', 'leave-voicemail needs either message (text to speak) or audio (a file name), not both', {
        field: message === undefined ? 'message' : 'audio',
      });
    if (audio !== undefined && !settings.voicemailAudio.includes(audio)) {
      const known = settings.voicemailAudio;
      const list = known.length ? `the files are: ${known.join(', ')}` : 'none are configured (VOICEMAIL_AUDIO)';
      return refuse(404, 'audio-unknown', `No voicemail audio named ${audio}; ${list}`, { field: 'audio' });
    }
    const twiml = voicemailTwiml({
      ...(audio !== undefined ? { audioUrl: `${settings.service.origin}/${audio}` } : { message }),
      ...settings.voice,
    });
    const result = await changeCall(context, context.call.callSid, { twiml });
    if (result === 'ended') return refuse(409, 'call-over', 'The call has already ended');
    return result === 'done' ? ok({ action: 'leave-voicemail', outcome: 'left', ...(audio ? { audio } : {}) }, 'left') : result;
  },
};
