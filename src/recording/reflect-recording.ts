/**
 * The `recording-status` function: Twilio's recording status callbacks
 * (https://www.twilio.com/docs/voice/twiml/recording; RecordingSid,
 * RecordingStatus, RecordingDuration, ...), reflected onto the caller's
 * participant as `twilio.recordingSid` and `twilio.recordingStatus`. An
 * inbound call's recording starts before its stream does (`<Start>` runs
 * first), so an `in-progress` callback may come before the participant has
 * joined: it is looked for again for a few seconds. A recording that is
 * over may complete the call's summary (../summary). Within 8 s.
 */
import type { Env } from '../config/env-reader';
import { describeProblems } from '../config/env-reader';
import { LiveKitSettings, problemsOf, readLiveKitSettings } from '../config/settings';
import type { LiveKitRooms } from '../livekit/rooms';
import { HttpReply, jsonReply, misconfigured } from '../twilio/reply';
import { checkLocalSignature, localAuthProblems } from '../twilio/request-auth';
import { Budget } from '../util/budget';
import type { LogFields } from '../util/log';
import { clean } from '../util/sanitize';
import { FINAL_RECORDING, RECORDING_SID, RECORDING_STATUS } from './attributes';
import { RECORDING_QUERY } from './callbacks';

export interface RecordingDependencies {
  rooms: (settings: LiveKitSettings, timeoutMs: number) => LiveKitRooms;
  log: (fields: LogFields, level: 'info' | 'error') => void;
  /** Sends the call's summary when this was the last thing it waited for. */
  afterRecording: (callSid: string, route: string, budget: Budget, recording: { sid: string; status: string }) => Promise<LogFields>;
  sleep?: (ms: number) => Promise<void>;
}

const RECORDING = /^RE[0-9a-f]{32}$/;
const STATUSES = new Set(['in-progress', 'completed', 'absent', 'failed', 'paused', 'stopped']);
const ROOM_OP_MS = 1000;
const BUDGET_MS = 8000;
/** How long an `in-progress` waits for the participant: an inbound stream starts within a second or two of the TwiML. */
const JOIN_WAIT_MS = 3000;
const LOOK_EVERY_MS = 300;

export async function reflectRecording(env: Env, event: Record<string, unknown>, deps: RecordingDependencies): Promise<HttpReply> {
  const budget = new Budget(BUDGET_MS);
  const callSid = clean(event.CallSid, 64);
  const recordingSid = clean(event.RecordingSid, 64);
  const status = clean(event.RecordingStatus, 32);
  const room = clean(event.room, 128);
  const identity = clean(event.identity, 128);
  const route = clean(event.route, 64);
  const line: LogFields = { fn: 'recording-status', callSid, room, recordingSid, recordingStatus: status };
  const done = (fields: LogFields, level: 'info' | 'error' = 'info', reply = jsonReply(200, { outcome: fields.outcome })) => {
    deps.log({ ...line, ...fields, ms: budget.elapsed() }, level);
    return reply;
  };

  const liveKit = readLiveKitSettings(env);
  const unverifiable = localAuthProblems(env);
  if (unverifiable.length || !liveKit.ok) {
    const { reply, message } = misconfigured(describeProblems([...unverifiable, ...problemsOf(liveKit)]));
    return done({ outcome: 'error', reason: message }, 'error', reply);
  }
  const refused = checkLocalSignature(env, event, RECORDING_QUERY);
  if (refused) return done({ outcome: 'rejected', reason: refused.reason }, 'error', refused.reply);
  if (!RECORDING.test(recordingSid) || !STATUSES.has(status) || !room || !identity)
    return done({ outcome: 'ignored', reason: 'not a recording callback this service asked for' });

  const rooms = deps.rooms(liveKit.value, ROOM_OP_MS);
  const shown = await show(rooms, room, identity, recordingSid, status, budget, deps.sleep);
  const final = FINAL_RECORDING.has(status);
  const summary = final ? await deps.afterRecording(callSid, route, budget, { sid: recordingSid, status }) : {};
  return done({ outcome: shown, ...summary }, shown === 'livekit-failed' ? 'error' : 'info');
}

/** Writes the recording's state, unless the room already shows it over; waits a little for a participant yet to join. */
async function show(
  rooms: LiveKitRooms,
  room: string,
  identity: string,
  sid: string,
  status: string,
  budget: Budget,
  sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
): Promise<string> {
  const waitUntil = status === 'in-progress' ? budget.elapsed() + JOIN_WAIT_MS : 0;
  for (;;) {
    const current = await rooms.getParticipant(room, identity);
    if (current === 'failed') return 'livekit-failed';
    if (current === 'not-found') {
      if (budget.elapsed() + LOOK_EVERY_MS >= waitUntil) return 'unknown-participant';
      await sleep(LOOK_EVERY_MS);
      continue;
    }
    const shownSid = current.attributes[RECORDING_SID];
    // A late `in-progress` never undoes `completed` of the same recording.
    if (shownSid === sid && FINAL_RECORDING.has(current.attributes[RECORDING_STATUS] ?? '') && !FINAL_RECORDING.has(status))
      return 'unchanged';
    const written = await rooms.setAttributes(room, identity, { [RECORDING_SID]: sid, [RECORDING_STATUS]: status });
    return written === 'done' ? 'updated' : written === 'not-found' ? 'unknown-participant' : 'livekit-failed';
  }
}
