/**
 * Recording a live call, and pausing or resuming it: the Call Recordings
 * resource (POST /Calls/{Sid}/Recordings, then .../Recordings/Twilio.CURRENT
 * with Status and PauseBehavior; twilio-oai twilio_api_v2010.json
 * CreateCallRecording, UpdateCallRecording). `Twilio.CURRENT` is "the
 * current active recording". A call that is over cannot be recorded:
 * 21220 (https://www.twilio.com/docs/errors/21220).
 */
import { classifyTwilioFailure, TwilioFailure, TwilioFor, TwilioRecording, withResends } from './calls';
import { RECORDING_EVENTS, RecordingRequest } from '../recording/callbacks';

export type RecordingChange = 'paused' | 'in-progress';

/** The recording Twilio started, `ended` when the call is over, or the failure. */
export async function startRecording(
  twilio: TwilioFor,
  callSid: string,
  recording: RecordingRequest,
  timeoutMs: number,
): Promise<TwilioRecording | 'ended' | TwilioFailure> {
  try {
    // Not repeatable on a 5xx: a create that went through would start a second recording.
    return await withResends(twilio, timeoutMs, false, (client) =>
      client.calls(callSid).recordings.create({
        recordingChannels: recording.channels,
        recordingTrack: 'both',
        recordingStatusCallback: recording.callbackUrl,
        recordingStatusCallbackMethod: 'POST',
        recordingStatusCallbackEvent: [...RECORDING_EVENTS],
      }),
    );
  } catch (error) {
    return outcomeOf(error);
  }
}

/**
 * Pauses or resumes the call's current recording. Setting a status twice
 * sets it once, so a 5xx is resent too. `none` when Twilio has no recording
 * to change (404).
 */
export async function changeRecording(
  twilio: TwilioFor,
  callSid: string,
  status: RecordingChange,
  pauseBehavior: 'skip' | 'silence',
  timeoutMs: number,
): Promise<TwilioRecording | 'ended' | 'none' | TwilioFailure> {
  const params: Record<string, string> = status === 'paused' ? { status, pauseBehavior } : { status };
  try {
    return await withResends(twilio, timeoutMs, true, (client) => client.calls(callSid).recordings('Twilio.CURRENT').update(params));
  } catch (error) {
    if ((error as { status?: unknown } | null)?.status === 404) return 'none';
    return outcomeOf(error);
  }
}

function outcomeOf(error: unknown): 'ended' | TwilioFailure {
  if ((error as { code?: unknown } | null)?.code === 21220) return 'ended';
  return classifyTwilioFailure(error);
}
