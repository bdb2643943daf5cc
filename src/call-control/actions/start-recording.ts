/**
 * `start-recording`: Twilio records the call from now on (the Recordings
 * API), where the service lets agents start one (RECORD_CALLS=on-request,
 * or always). Asking the caller for consent is the agent's part: the
 * service cannot speak without breaking the stream.
 */
import { RECORDING_SID, isRecording } from '../../recording/attributes';
import { startRecording } from '../../twilio/recordings';
import { CallAction, ok, refuse } from './action';
import { recordingFor, recordingRequest, showRecording, twilioRefused, RECORDING_BUDGET_MS } from './recording-state';

export const startRecordingAction: CallAction = {
  takes: [],
  async run(context) {
    const settings = recordingFor(context);
    if ('reply' in settings) return settings;
    if (settings.mode === 'never')
      return refuse(403, 'recording-off', 'This service does not record calls (RECORD_CALLS is never for this call)');
    const { call, deps, budget } = context;
    if (isRecording(call.attributes))
      return refuse(409, 'already-recording', `The call is already being recorded (${call.attributes[RECORDING_SID] ?? 'starting'})`);
    const started = await startRecording(
      deps.twilio,
      call.callSid,
      recordingRequest(context, settings),
      budget.share(RECORDING_BUDGET_MS, 300, 500),
    );
    if (started === 'ended') return refuse(409, 'call-over', 'The call has already ended');
    if ('error' in started) return twilioRefused(started);
    const shown = await showRecording(context, started.sid, started.status || 'in-progress');
    return {
      ...ok({ action: 'start-recording', outcome: 'recording', recordingSid: started.sid }, 'recording'),
      fields: { outcome: 'recording', recordingSid: started.sid, attributes: shown },
    };
  },
};
