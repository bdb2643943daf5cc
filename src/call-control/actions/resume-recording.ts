/** `resume-recording`: the paused recording takes the call's audio again. */
import { CallAction } from './action';
import { changeRecordingAction } from './recording-change';

export const resumeRecording: CallAction = {
  takes: [],
  run: (context) => changeRecordingAction(context, 'in-progress', 'silence'),
};
