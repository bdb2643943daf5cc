/**
 * What the recording actions share: the route's recording setting, the
 * callback each recording reports to, and writing the recording's state
 * onto the caller's participant, where the agent reads it.
 */
import { describeProblems } from '../../config/env-reader';
import { ROOM_BUDGET_MS } from '../../outbound/steps';
import { RECORDING_SID, RECORDING_STATUS } from '../../recording/attributes';
import { recordingCallbackUrl, RecordingRequest } from '../../recording/callbacks';
import { recordingForRoute, RecordingSettings } from '../../recording/settings';
import { DEFAULT_ROUTE } from '../../config/route';
import type { TwilioFailure } from '../../twilio/calls';
import { failureReply } from '../../twilio/calls';
import { misconfigured } from '../../twilio/reply';
import type { ActionContext, Done } from './action';
import { routeOf } from './targets';

/** A recording request's share of the action's time. */
export const RECORDING_BUDGET_MS = 3500;

/** This call's recording setting (its route's over the environment's), or the configuration error. */
export function recordingFor(context: ActionContext): RecordingSettings | Done {
  const { recording } = context.settings;
  if (!recording.ok) return { reply: misconfigured(describeProblems(recording.problems)).reply, fields: { outcome: 'error' } };
  return recordingForRoute(recording.value, routeOf(context) ?? DEFAULT_ROUTE);
}

export function recordingRequest(context: ActionContext, settings: RecordingSettings): RecordingRequest {
  const { call, room } = context;
  return {
    callbackUrl: recordingCallbackUrl(context.settings.service.origin, room, call.identity, call.route),
    channels: settings.channels,
  };
}

/** The recording's SID and state, where the agent reads them. A failed write is logged, not an error: Twilio did act. */
export async function showRecording(context: ActionContext, sid: string, status: string): Promise<string> {
  const { settings, deps, budget, room, call } = context;
  const rooms = deps.rooms(settings.liveKit, budget.share(ROOM_BUDGET_MS, 100, 200));
  return rooms.setAttributes(room, call.identity, { [RECORDING_SID]: sid, [RECORDING_STATUS]: status });
}

export function twilioRefused(failure: TwilioFailure): Done {
  const message =
    failure.error.code === 'twilio-timeout'
      ? 'Twilio did not answer in time; the recording may or may not have changed'
      : failure.error.message;
  return { reply: failureReply(failure, message), fields: { outcome: 'twilio-failed', reason: failure.error.code } };
}
