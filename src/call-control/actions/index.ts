/** The one table of what an agent can do to its call: a name, and the action of that name. */
import { own } from '../../util/own';
import type { CallAction } from './action';
import { addHuman } from './add-human';
import { cancelHuman } from './cancel-human';
import { hangup } from './hangup';
import { humanStatus } from './human-status';
import { joinHuman } from './join-human';
import { leaveVoicemail } from './leave-voicemail';
import { pauseRecording } from './pause-recording';
import { pressKeys } from './press-keys';
import { resumeRecording } from './resume-recording';
import { startRecordingAction } from './start-recording';
import { returnToFlow } from './return-to-flow';
import { transfer } from './transfer';

export const ACTIONS = {
  hangup,
  transfer,
  'return-to-flow': returnToFlow,
  'add-human': addHuman,
  'cancel-human': cancelHuman,
  'human-status': humanStatus,
  'join-human': joinHuman,
  'start-recording': startRecordingAction,
  'pause-recording': pauseRecording,
  'resume-recording': resumeRecording,
  'leave-voicemail': leaveVoicemail,
  'press-keys': pressKeys,
} as const satisfies Record<string, CallAction>;

export type ActionName = keyof typeof ACTIONS;

export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];

/** The action of that name; own keys only, so `constructor` or `toString` is no action. */
export function actionNamed(name: string): CallAction | undefined {
  return own<CallAction>(ACTIONS, name);
}
