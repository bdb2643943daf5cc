/**
 * Where Twilio reports a recording's progress: this service's
 * `recording-status`, naming the room, the participant and the route. Twilio
 * signs the URL with the rest of the callback, so what it names is as
 * trustworthy as the callback itself.
 *
 * Events: `in-progress` (the SID, as the recording starts), `completed` and
 * `absent` (no audio): the three that `<Start><Recording>`, calls.create and
 * the Recordings API accept (twilio-oai twilio_api_v2010.json,
 * RecordingStatusCallbackEvent; https://www.twilio.com/docs/voice/twiml/recording).
 */
import type { RecordingChannels } from './settings';

export const RECORDING_QUERY = ['room', 'identity', 'route'] as const;
export const RECORDING_EVENTS = ['in-progress', 'completed', 'absent'] as const;

export function recordingCallbackUrl(origin: string, room: string, identity: string, route: string): string {
  return `${origin}/recording-status?${new URLSearchParams([
    ['room', room],
    ['identity', identity],
    ['route', route],
  ]).toString()}`;
}

/** What every recording the service starts is given: its callback, both parties, the channels chosen. */
export interface RecordingRequest {
  callbackUrl: string;
  channels: RecordingChannels;
}

/** calls.create's recording parameters, in the twilio helper's names. */
export function callRecordingParams(recording: RecordingRequest): Record<string, unknown> {
  return {
    record: true,
    recordingChannels: recording.channels,
    recordingStatusCallback: recording.callbackUrl,
    recordingStatusCallbackMethod: 'POST',
    recordingStatusCallbackEvent: [...RECORDING_EVENTS],
    recordingTrack: 'both',
  };
}
