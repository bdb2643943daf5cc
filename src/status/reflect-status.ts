/**
 * The `status` function: Twilio's call status and asynchronous answering
 * machine detection callbacks, reflected into the LiveKit room so the agent
 * knows when the phone rings, is answered, is busy or reaches a machine.
 *
 * Twilio may repeat, reorder and overlap callbacks. A call only moves
 * forward, so a status older than what the room already shows is dropped;
 * each stage reached is kept in its own attribute and the status settled
 * from them (see `settle`), so overlapping callbacks cannot leave an older
 * status on top. LiveKit requests are resent on passing failures
 * (../livekit/rooms); a callback whose change could not be written is
 * answered 503 and logged as such, never as an update. An unknown room or
 * participant is answered 200: it will not become known. Within 8 s.
 *
 * For a call `outbound` placed, the callback URL names room, identity and
 * route, and Twilio signs it: when the participant still lacks its call
 * binding (outbound's write failed), this writes it, so the agent's call
 * control finds the call.
 */
import { isNewer, latestStage, RoomCallStatus, roomStatusOf, stageKey, STATUS_TOPIC } from './room-status';
import { LiveKitSettings, problemsOf, readInboundSettings, readLiveKitSettings } from '../config/settings';
import { describeProblems, Env } from '../config/env-reader';
import { HttpReply, jsonReply, misconfigured } from '../twilio/reply';
import { inboundConnectRequest, readInboundCall } from '../incoming/connect-request';
import type { LiveKitRooms, ParticipantState } from '../livekit/rooms';
import type { LogFields } from '../util/log';
import { checkLocalSignature, localAuthProblems } from '../twilio/request-auth';
import { inboundForRoute } from '../config/route-settings';
import type { LoadedRoutes } from '../config/routes';
import { Budget } from '../util/budget';
import { clean } from '../util/sanitize';
import { BINDING_ATTRIBUTE, bindingAttributes } from '../twilio/call-binding';
import { serviceFacts } from '../twilio/service';
import { followTransfer } from '../transfer/follow-status';
import type { TwilioFor } from '../twilio/calls';

/** Query parameters the service puts in the status callback URLs it gives Twilio. */
export const STATUS_QUERY = ['room', 'identity', 'route', 'callerRoom'] as const;

const ROOM_OP_MS = 1000;
/** Read-backs after a status write at most; a restore is read back in the next round while rounds are left. */
const SETTLE_ROUNDS = 6;
/** Twilio waits 15 s for a status callback and a Function may run 10 s; everything here fits in 8. */
const STATUS_BUDGET_MS = 8000;

export interface StatusDependencies {
  rooms: (settings: LiveKitSettings, timeoutMs: number) => LiveKitRooms;
  log: (fields: LogFields, level: 'info' | 'error') => void;
  routes: () => LoadedRoutes;
  /** Ends the other leg of a warm transfer (../transfer/follow-status). */
  twilio: TwilioFor;
  /** Sends the call's summary when nothing more is awaited for it (../summary/send-summary). */
  afterCall: (callSid: string, route: string, budget: Budget, callStatus: string) => Promise<LogFields>;
}

const ANSWERED_BY = /^(human|machine_start|machine_end_beep|machine_end_silence|machine_end_other|fax|unknown)$/;

/** Room and identity: from the URL outbound gave Twilio, or for an inbound call worked out as incoming did. */
interface Participant {
  room: string;
  identity: string;
  /** The route, when the (signed) callback URL names it: the call is one outbound placed. */
  route?: string;
  /** A warm transfer's person: the caller's room, which they are brought into. */
  callerRoom?: string;
}

function participantOf(env: Env, event: Record<string, unknown>, routes: LoadedRoutes): Participant | undefined {
  const room = clean(event.room, 128);
  const identity = clean(event.identity, 128);
  const route = clean(event.route, 64);
  const callerRoom = clean(event.callerRoom, 128);
  if (room && identity) return { room, identity, ...(route ? { route } : {}), ...(callerRoom ? { callerRoom } : {}) };
  if (clean(event.Direction, 32) !== 'inbound') return undefined;
  const inbound = readInboundSettings(env);
  const call = readInboundCall(event);
  if (!inbound.ok || !call.callSid) return undefined;
  const request = inboundConnectRequest(call, inboundForRoute(inbound.value, routes.table.match(call.to)));
  return { room: request.roomName, identity: request.participantIdentity };
}

/** What one status or AMD callback says, cleaned. */
interface Callback {
  callSid: string;
  twilioStatus: string;
  /** The room's form of the status, when the callback carries one. */
  status: RoomCallStatus | undefined;
  /** A recognised AnsweredBy, or ''. */
  amd: string;
  sipResponseCode: string;
  /** Twilio's order of this call's callbacks, and when Twilio sent this one: for agents ordering the data messages. */
  sequenceNumber: string;
  timestamp: string;
}

function readCallback(event: Record<string, unknown>): Callback {
  const twilioStatus = clean(event.CallStatus, 32);
  const answeredBy = clean(event.AnsweredBy, 32);
  const sequence = clean(event.SequenceNumber, 12);
  return {
    callSid: clean(event.CallSid, 64),
    twilioStatus,
    status: roomStatusOf(twilioStatus),
    amd: ANSWERED_BY.test(answeredBy) ? answeredBy : '',
    sipResponseCode: clean(event.SipResponseCode, 8),
    sequenceNumber: /^\d+$/.test(sequence) ? sequence : '',
    timestamp: clean(event.Timestamp, 64),
  };
}

/**
 * The attributes this callback changes: its stage (when the call has not
 * already moved past it) with the status it makes newest, a new AMD result,
 * a missing call SID.
 */
function changesFor(callback: Callback, current: Record<string, string>, binding: Record<string, string>): Record<string, string> {
  const changes: Record<string, string> = {};
  if (callback.status && isNewer(callback.status, latestStage(current)?.stage)) {
    changes[stageKey(callback.status)] = callback.twilioStatus;
    changes['twilio.callStatus'] = callback.status;
    changes['twilio.callStatusDetail'] = callback.twilioStatus;
  }
  if (callback.amd && current['twilio.answeredBy'] !== callback.amd) changes['twilio.answeredBy'] = callback.amd;
  if (callback.callSid && !current['twilio.callSid']) changes['twilio.callSid'] = callback.callSid;
  // Only the call this participant carries: a participant already naming another call is not rebound.
  const sameCall = !current['twilio.callSid'] || current['twilio.callSid'] === callback.callSid;
  if (!current[BINDING_ATTRIBUTE] && sameCall) Object.assign(changes, binding);
  return changes;
}

/** The binding outbound would have written, when the callback URL says which route placed the call. */
function bindingFor(env: Env, participant: Participant, callSid: string): Record<string, string> {
  if (participant.route === undefined || !callSid) return {};
  const { accountSid, authToken } = serviceFacts(env);
  return bindingAttributes(authToken, { ...participant, route: participant.route, callSid, accountSid, flowSid: '' });
}

/**
 * Makes `twilio.callStatus` name the furthest stage recorded. An older
 * callback that read before this one wrote may have overwritten it; its
 * stage attribute cannot erase ours, so reading back shows what to restore.
 * Every callback that writes a status does this before it answers, so once
 * all of a call's callbacks are answered the room shows the newest status.
 *
 * The read-back is owed for this callback's own write, which may be the
 * older one: a read or a restore whose answer was lost (LiveKit may have
 * applied it and answered too late) is tried again while rounds and time
 * are left. Giving up after two failures in a row was tried: it left an
 * older status on top in 8 of the model's 10,000 orders. The bound while
 * LiveKit is failing is the rounds and the time: six reads and five
 * restores at most, each with its own resends.
 * Rounds end as soon as a read shows the status on top or `hangup` is
 * restored; the stages are few and only move forward, so overlapping
 * callbacks agree within a few rounds (tests/status/settle-model.test.ts).
 * `unsettled`: rounds or time ran out before a read showed it on
 * top. A write LiveKit applies after its caller gave up on it, once every
 * callback has answered, is read back by nobody.
 */
async function settle(rooms: LiveKitRooms, participant: Participant, budget: Budget): Promise<'settled' | 'unsettled' | 'not-found'> {
  // Each round leaves time for its read, a restore and the data message after it.
  for (let round = 0; round < SETTLE_ROUNDS && budget.remaining() >= 3 * ROOM_OP_MS; round += 1) {
    const state = await rooms.getParticipant(participant.room, participant.identity);
    if (state === 'not-found') return state;
    if (state === 'failed') continue;
    const latest = latestStage(state.attributes);
    if (!latest || state.attributes['twilio.callStatus'] === latest.stage) return 'settled';
    const restored = { 'twilio.callStatus': latest.stage, 'twilio.callStatusDetail': latest.detail };
    const write = await rooms.setAttributes(participant.room, participant.identity, restored);
    if (write === 'not-found') return write;
    // Restored to `hangup`: no later write can be newer, so there is nothing left to read back for.
    if (write === 'done' && latest.stage === 'hangup') return 'settled';
  }
  return 'unsettled';
}

/** The data message that tells the room what this callback changed. */
function statusMessage(callback: Callback, changes: Record<string, string>, current: ParticipantState): string {
  return JSON.stringify({
    callSid: callback.callSid,
    status: changes['twilio.callStatus'] ?? current.attributes['twilio.callStatus'] ?? '',
    detail: callback.twilioStatus || undefined,
    answeredBy: callback.amd || undefined,
    sipResponseCode: callback.sipResponseCode || undefined,
    sequenceNumber: callback.sequenceNumber ? Number(callback.sequenceNumber) : undefined,
    timestamp: callback.timestamp || undefined,
  });
}

/**
 * Writes the changes, settles the status, and tells the room. LiveKit
 * requests, counted in tests/status/livekit-requests.test.ts: a status
 * costs the write, the read-back (settle) and the data message; `hangup`
 * for a participant that never published, the data message and its removal
 * (see {@link endSession}); an AMD result or a binding alone, the write
 * (and for AMD the data message), no read-back: the status did not change.
 */
async function apply(
  rooms: LiveKitRooms,
  participant: Participant,
  callback: Callback,
  changes: Record<string, string>,
  current: ParticipantState,
  budget: Budget,
): Promise<LogFields> {
  const status = changes['twilio.callStatus'];
  if (status === 'hangup' && !current.publishing) return endSession(rooms, participant, callback, changes, current);
  const attributes = await rooms.setAttributes(participant.room, participant.identity, changes);
  if (attributes === 'not-found') return { outcome: 'unknown-participant', attributes };
  // A write that timed out may have been applied all the same, an older status with it: settled either way.
  // `hangup` is read back too: an older callback's own settle may have given up (a failed read, out of
  // rounds or time), and this read-back is then what puts `hangup` back on top.
  const settled = status ? await settle(rooms, participant, budget) : undefined;
  const bound = changes[BINDING_ATTRIBUTE] ? 'written' : undefined;
  if (!status && !changes['twilio.answeredBy']) return { outcome: attributes === 'done' ? 'updated' : 'livekit-failed', attributes, bound };
  // A hidden or departed participant's attributes may reach nobody; the
  // data message reaches whoever is in the room, the agent included.
  const dataMessage = await rooms.sendData(participant.room, STATUS_TOPIC, statusMessage(callback, changes, current));
  // What reached the room, said as it is: the attributes, or only the data message, or nothing.
  const outcome = attributes === 'done' ? 'updated' : dataMessage === 'done' ? 'attributes-failed' : 'livekit-failed';
  return { outcome, attributes, settled, dataMessage, bound };
}

/**
 * The call is over and its connector participant never published (nobody
 * answered, or the caller heard the fallback while LiveKit answered too
 * late): it would otherwise wait, with its agent, for LiveKit's timeout.
 * One whose stream ran leaves by itself when the stream ends. The room is
 * told by the data message and the participant removed; its attributes are
 * written only when it could not be removed, since a removed participant's
 * attributes reach nobody.
 */
async function endSession(
  rooms: LiveKitRooms,
  participant: Participant,
  callback: Callback,
  changes: Record<string, string>,
  current: ParticipantState,
): Promise<LogFields> {
  const dataMessage = await rooms.sendData(participant.room, STATUS_TOPIC, statusMessage(callback, changes, current));
  const removed = await rooms.removeParticipant(participant.room, participant.identity);
  if (removed === 'done') return { outcome: 'updated', dataMessage, removed };
  // Gone by itself since it was read: what the attributes would have said reaches nobody either.
  if (removed === 'not-found') return { outcome: 'unknown-participant', dataMessage, removed };
  // Still there: it shows the call's end as any other participant does.
  const attributes = await rooms.setAttributes(participant.room, participant.identity, changes);
  if (attributes === 'not-found') return { outcome: 'unknown-participant', attributes, dataMessage, removed };
  const outcome = attributes === 'done' ? 'updated' : dataMessage === 'done' ? 'attributes-failed' : 'livekit-failed';
  return { outcome, attributes, dataMessage, removed, bound: changes[BINDING_ATTRIBUTE] ? 'written' : undefined };
}

/**
 * LiveKit could not be read or written, resends included: said so, with a
 * 5xx that Twilio's debugger shows (11200). By default Twilio does not send a
 * callback again on a 5xx, only when the connection fails; the next
 * callback of the call, and its settle step, write the furthest stage anew.
 */
const notWritten = () => jsonReply(503, { outcome: 'livekit-failed' });

/** The participant where the URL says, or for a warm transfer's person after the join, in the caller's room. */
async function locate(
  rooms: LiveKitRooms,
  participant: Participant,
): Promise<{ room: string; state: ParticipantState | 'failed' } | undefined> {
  for (const room of [participant.room, participant.callerRoom]) {
    if (!room) continue;
    const state = await rooms.getParticipant(room, participant.identity);
    if (state !== 'not-found') return { room, state };
  }
  return undefined;
}

interface Result {
  fields: LogFields;
  level: 'info' | 'error';
  reply: HttpReply;
}

export async function reflectCallStatus(env: Env, event: Record<string, unknown>, deps: StatusDependencies): Promise<HttpReply> {
  const budget = new Budget(STATUS_BUDGET_MS);
  const callback = readCallback(event);
  const line: LogFields = {
    fn: 'status',
    callSid: callback.callSid,
    callStatus: callback.twilioStatus,
    answeredBy: clean(event.AnsweredBy, 32),
    sequence: callback.sequenceNumber,
  };
  // The call's summary, once its final status is in: alongside the room's update, not after it.
  let summary: Promise<LogFields> | undefined;
  const afterCall = (route: string) => {
    summary = deps.afterCall(callback.callSid, route, budget, callback.twilioStatus);
  };
  const result = await reflect(env, event, deps, callback, budget, line, afterCall);
  const summaryFields = summary ? await summary : {};
  deps.log({ ...line, ...result.fields, ...summaryFields, ms: budget.elapsed() }, result.level);
  return result.reply;
}

async function reflect(
  env: Env,
  event: Record<string, unknown>,
  deps: StatusDependencies,
  callback: Callback,
  budget: Budget,
  line: LogFields,
  afterCall: (route: string) => void,
): Promise<Result> {
  const done = (fields: LogFields, level: 'info' | 'error' = 'info', reply = jsonReply(200, { outcome: fields.outcome })): Result => ({
    fields,
    level,
    reply,
  });
  const liveKit = readLiveKitSettings(env);
  const unverifiable = localAuthProblems(env);
  if (unverifiable.length) {
    const { reply, message } = misconfigured(describeProblems([...unverifiable, ...problemsOf(liveKit)]));
    return done({ outcome: 'error', reason: message }, 'error', reply);
  }
  const refused = checkLocalSignature(env, event, STATUS_QUERY);
  if (refused) return done({ outcome: 'rejected', reason: refused.reason }, 'error', refused.reply);
  if (!liveKit.ok) {
    const { reply, message } = misconfigured(describeProblems(liveKit.problems));
    return done({ outcome: 'error', reason: message }, 'error', reply);
  }

  const routes = deps.routes();
  const participant = participantOf(env, event, routes);
  // A call that is over, and not a warm transfer's person: its summary may be due (../summary).
  if (callback.status === 'hangup' && callback.callSid && !participant?.callerRoom)
    afterCall(participant?.route ?? routes.table.match(clean(event.To, 64)).name);
  if (!participant) return done({ outcome: 'ignored', reason: 'no room or identity for this call' });
  line.room = participant.room;
  if (!callback.status && !callback.amd) return done({ outcome: 'ignored', reason: 'no status or AnsweredBy' });

  const rooms = deps.rooms(liveKit.value, ROOM_OP_MS);
  // Moved into the caller's room, a person keeps their identity.
  const found = await locate(rooms, participant);
  const seen = found && found.state !== 'failed' ? found.state.attributes : undefined;
  const transfer = await followTransfer(
    { rooms, twilio: deps.twilio, authToken: serviceFacts(env).authToken },
    { ...participant, ...(seen ? { attributes: seen } : {}) },
    callback.callSid,
    callback.status,
  );
  Object.assign(line, transfer);
  if (!found) return done({ outcome: 'unknown-participant' });
  const current = found.state;
  Object.assign(participant, { room: found.room });
  if (current === 'failed') return done({ outcome: 'livekit-failed' }, 'error', notWritten());
  // A person's leg is bound by /consult itself: no binding is written for it here.
  const binding = participant.callerRoom ? {} : bindingFor(env, participant, callback.callSid);

  const changes = changesFor(callback, current.attributes, binding);
  if (!changes['twilio.callStatus'] && !changes['twilio.answeredBy'] && !changes[BINDING_ATTRIBUTE]) return done({ outcome: 'unchanged' });
  const applied = await apply(rooms, participant, callback, changes, current, budget);
  return applied.outcome === 'livekit-failed' ? done(applied, 'error', notWritten()) : done(applied);
}
