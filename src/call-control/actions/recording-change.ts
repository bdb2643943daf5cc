/** Pause and resume: one change to the call's current recording (Twilio.CURRENT). */
import { changeRecording, RecordingChange } from '../../twilio/recordings';
import { ActionContext, Done, ok, refuse } from './action';
import { showRecording, twilioRefused, RECORDING_BUDGET_MS } from './recording-state';

export async function changeRecordingAction(context: ActionContext, status: RecordingChange, behavior: 'skip' | 'silence'): Promise<Done> {
  const { call, deps, budget } = context;
  const action = status === 'paused' ? 'pause-recording' : 'resume-recording';
  const changed = await changeRecording(deps.twilio, call.callSid, status, behavior, budget.share(RECORDING_BUDGET_MS, 300, 500));
  if (changed === 'ended') return refuse(409, 'call-over', 'The call has already ended');
  if (changed === 'none') return refuse(409, 'not-recording', 'No recording of this call is running');
  if ('error' in changed) return twilioRefused(changed);
  const outcome = status === 'paused' ? 'paused' : 'resumed';
  const shown = await showRecording(context, changed.sid, changed.status || status);
  return {
    ...ok({ action, outcome, recordingSid: changed.sid }, outcome),
    fields: { outcome, recordingSid: changed.sid, attributes: shown },
  };
}
