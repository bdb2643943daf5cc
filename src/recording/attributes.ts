/**
 * The recording as the room sees it, on the caller's participant:
 * `twilio.recordingSid` and `twilio.recordingStatus` (`starting`,
 * `in-progress`, `paused`, `stopped`, `completed`, `absent`, `failed`).
 * A pause covers Twilio's recording only: LiveKit, and the agent's
 * speech-to-text, go on receiving the call's audio.
 */
export const RECORDING_SID = 'twilio.recordingSid';
export const RECORDING_STATUS = 'twilio.recordingStatus';

/** The states that are over: no pause, resume or callback changes them. */
export const FINAL_RECORDING = new Set(['completed', 'absent', 'failed', 'stopped']);

/** Whether the room's call is being recorded, or paused: what pause and resume act on. */
export function isRecording(attributes: Record<string, string>): boolean {
  const status = attributes[RECORDING_STATUS] ?? '';
  return status === 'in-progress' || status === 'paused' || status === 'starting';
}
