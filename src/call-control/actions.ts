/**
 * The actions an agent can take on its call. Each changes the call only
 * through Twilio's REST API (a call update replaces its TwiML at once, which
 * also ends the stream into LiveKit), and each target is a configured name
 * that passes the same toll-fraud rules as `outbound`.
 */
import { describeProblems, Env } from '../config/env-reader';
import type { Route } from '../config/route';
import { destinationsForRoute } from '../config/route-settings';
import { LiveKitSettings, readFallbackSettings } from '../config/settings';
import { readTransferTargets, resolveTarget } from '../config/transfer-targets';
import { readDialPolicy } from '../phone/dial-settings';
import { checkDialable, DialPolicy } from '../phone/dial-policy';
import { prepare, sessionAndCall } from '../outbound/place-call';
import { ROOM_BUDGET_MS, Stop } from '../outbound/steps';
import { classifyTwilioFailure } from '../outbound/twilio-call';
import { errorReply, HttpReply, jsonReply, misconfigured } from '../twilio/reply';
import { flowReturnUrl, withFlowParams } from '../twilio/studio';
import { redirectTwiml, transferTwiml } from '../twilio/twiml';
import type { Budget } from '../util/budget';
import { withDeadline } from '../util/deadline';
import type { ControlDependencies } from './dependencies';
import { findCall, RoomCall } from './find-call';
import type { ControlRequest } from './request';

const UPDATE_BUDGET_MS = 3500;

/** What the action did: the reply and the log line's outcome. */
export type Done = Stop;

const ok = (body: Record<string, unknown>, outcome: string): Done => ({ reply: jsonReply(200, body), fields: { outcome } });
const refuse = (status: number, code: string, message: string, field?: string): Done => ({
  reply: errorReply(status, { code, message, field }),
  fields: { outcome: 'refused', reason: code },
});

/** Replaces the call's TwiML or ends it; `ended` when Twilio says the call is already over (21220). */
async function updateCall(
  deps: ControlDependencies,
  callSid: string,
  params: Record<string, string>,
  budget: Budget,
): Promise<'done' | 'ended' | Done> {
  const timeout = budget.share(UPDATE_BUDGET_MS, 300, 500);
  try {
    await withDeadline(deps.twilio(timeout).calls(callSid).update(params), timeout + 100, 'Twilio');
    return 'done';
  } catch (error) {
    if ((error as { code?: unknown }).code === 21220) return 'ended';
    const failure = classifyTwilioFailure(error);
    const message = failure.uncertain ? 'Twilio did not answer in time; the call may or may not have changed' : failure.error.message;
    return {
      reply: errorReply(failure.status, { ...failure.error, message }),
      fields: { outcome: 'twilio-failed', reason: failure.error.code },
    };
  }
}

/** The dial policy for this call's route: the environment's, narrowed by the route's allowed destinations. */
function policyFor(env: Env, route: Route | undefined): DialPolicy | HttpReply {
  const dial = readDialPolicy(env);
  if (!dial.ok) return misconfigured(describeProblems(dial.problems)).reply;
  return { ...dial.value, destinations: destinationsForRoute(dial.value.destinations, route) };
}

/** The configured target's address, checked like any number the service dials. */
function target(env: Env, call: RoomCall, name: string, deps: ControlDependencies): string | Done {
  const targets = readTransferTargets(env);
  if (!targets.ok)
    return {
      reply: misconfigured(describeProblems(targets.problems)).reply,
      fields: { outcome: 'error' },
    };
  const route = deps.routes().table.routes.find((r) => r.name === call.route);
  const address = resolveTarget(name, targets.value, route);
  if (!address) return refuse(404, 'target-unknown', `No transfer target named ${name} is configured for this call`, 'target');
  const policy = policyFor(env, route);
  if ('status' in policy) return { reply: policy, fields: { outcome: 'error' } };
  const verdict = checkDialable(address, policy, `target ${name}`);
  if (!verdict.ok) return refuse(403, verdict.code === 'invalid' ? 'destination-not-allowed' : verdict.code, verdict.message, 'target');
  return address;
}

/** Everything an action works with: the room, its call, and the service's settings and clients. */
export interface ActionContext {
  env: Env;
  room: string;
  call: RoomCall;
  liveKit: LiveKitSettings;
  /** Keys the call bindings (../twilio/call-binding). */
  authToken: string;
  deps: ControlDependencies;
  budget: Budget;
}

export async function hangUp({ call, deps, budget }: ActionContext): Promise<Done> {
  const result = await updateCall(deps, call.callSid, { status: 'completed' }, budget);
  if (result === 'ended') return ok({ action: 'hangup', outcome: 'already-ended' }, 'already-ended');
  return result === 'done' ? ok({ action: 'hangup', outcome: 'hung-up' }, 'hung-up') : result;
}

export async function transfer({ env, call, deps, budget }: ActionContext, request: ControlRequest): Promise<Done> {
  const address = target(env, call, request.target!, deps);
  if (typeof address !== 'string') return address;
  const { voice, language } = readFallbackSettings(env);
  const twiml = transferTwiml({ target: address, message: request.message, voice, language });
  const result = await updateCall(deps, call.callSid, { twiml }, budget);
  if (result === 'ended') return refuse(409, 'call-over', 'The call has already ended');
  return result === 'done' ? ok({ action: 'transfer', outcome: 'transferred', target: request.target }, 'transferred') : result;
}

export async function returnToFlow({ call, deps, budget }: ActionContext, request: ControlRequest): Promise<Done> {
  if (!call.flowSid)
    return refuse(409, 'not-from-studio', 'This call did not come from a Studio flow, so there is no flow to return it to');
  const url = withFlowParams(flowReturnUrl(call.accountSid, call.flowSid), {
    ConnectorResult: request.result ?? 'agent-returned',
    ...request.fields,
  });
  const result = await updateCall(deps, call.callSid, { twiml: redirectTwiml(url) }, budget);
  if (result === 'ended') return refuse(409, 'call-over', 'The call has already ended');
  return result === 'done' ? ok({ action: 'return-to-flow', outcome: 'returned' }, 'returned') : result;
}

/** The consult room of a room: where a human is briefed before joining the call. */
export function consultRoom(room: string): string {
  return `${room.slice(0, 120)}-consult`;
}

export async function addHuman(
  { env, room, call, liveKit, authToken, deps, budget }: ActionContext,
  request: ControlRequest,
): Promise<Done> {
  const address = target(env, call, request.target!, deps);
  if (typeof address !== 'string') return address;
  const consult = consultRoom(room);
  const identity = `human-${request.target}`;
  // One human per target and call: a repeated request gets the call already ringing.
  const existing = await findCall(deps.rooms(liveKit, budget.share(ROOM_BUDGET_MS, 100, 200)), consult, authToken);
  if (typeof existing === 'object' && existing.identity === identity) {
    return ok(
      { action: 'add-human', outcome: 'calling', consultRoom: consult, participantIdentity: identity, callSid: existing.callSid },
      'already-calling',
    );
  }
  const event = { To: address, RoomName: consult, ParticipantIdentity: identity, ParticipantName: request.target! };
  const prepared = prepare(env, event, deps, (settings) => ({ ...settings, agentNames: [] }));
  if ('reply' in prepared) return prepared;
  const placed = await sessionAndCall(env, prepared, deps, budget);
  if ('reply' in placed) return placed;
  return ok(
    { action: 'add-human', outcome: 'calling', consultRoom: consult, participantIdentity: identity, callSid: placed.body.callSid },
    'calling',
  );
}

export async function cancelHuman({ room, liveKit, authToken, deps, budget }: ActionContext): Promise<Done> {
  const consult = consultRoom(room);
  const human = await findCall(deps.rooms(liveKit, budget.share(ROOM_BUDGET_MS, 100, 200)), consult, authToken);
  if (human === 'failed') return refuse(502, 'livekit-error', 'LiveKit could not be asked for the consult room');
  if (human === 'none') return ok({ action: 'cancel-human', outcome: 'no-human' }, 'no-human');
  const result = await updateCall(deps, human.callSid, { status: 'completed' }, budget);
  if (typeof result === 'object') return result;
  await deps.rooms(liveKit, budget.share(ROOM_BUDGET_MS, 100, 200)).removeParticipant(consult, human.identity);
  return ok({ action: 'cancel-human', outcome: result === 'ended' ? 'already-ended' : 'cancelled', callSid: human.callSid }, 'cancelled');
}
