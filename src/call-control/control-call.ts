/**
 * The `call-control` function: an agent acts on its own call (hang up,
 * transfer, hand back to Studio, bring in a human). Authenticated by a
 * LiveKit token for the agent's room (./token), the call found from that room
 * (./find-call), the action carried out through Twilio's REST API
 * (./actions). Answers within the same 7.5 s as `outbound`; one log line per
 * request (room, call SID, action, outcome), never the token.
 */
import { RequestError } from '../api/parameters';
import { describeProblems, Env } from '../config/env-reader';
import { problemsOf, readLiveKitSettings } from '../config/settings';
import { ROOM_BUDGET_MS, TOTAL_BUDGET_MS } from '../outbound/steps';
import { errorReply, HttpReply, misconfigured } from '../twilio/reply';
import { Budget } from '../util/budget';
import type { LogFields } from '../util/log';
import { ActionContext, addHuman, cancelHuman, Done, hangUp, returnToFlow, transfer } from './actions';
import { requestDigest } from './canonical';
import type { ControlDependencies } from './dependencies';
import { findCall } from './find-call';
import { ControlRequest, readControlRequest } from './request';
import { bearerToken, checkControlToken } from './token';

function act(context: ActionContext, request: ControlRequest): Promise<Done> {
  switch (request.action) {
    case 'hangup':
      return hangUp(context);
    case 'transfer':
      return transfer(context, request);
    case 'return-to-flow':
      return returnToFlow(context, request);
    case 'add-human':
      return addHuman(context, request);
    case 'cancel-human':
      return cancelHuman(context);
  }
}

export async function controlCall(env: Env, event: Record<string, unknown>, deps: ControlDependencies): Promise<HttpReply> {
  const budget = new Budget(TOTAL_BUDGET_MS, deps.now);
  const line: LogFields = { fn: 'call-control', action: typeof event.action === 'string' ? event.action.slice(0, 32) : undefined };
  const finish = ({ reply, fields }: Done): HttpReply => {
    deps.log({ ...line, ...fields, status: reply.status, ms: budget.elapsed() }, reply.status >= 400 ? 'error' : 'info');
    return reply;
  };

  const liveKit = readLiveKitSettings(env);
  const authToken = typeof env.AUTH_TOKEN === 'string' ? env.AUTH_TOKEN : '';
  if (!liveKit.ok || !authToken) {
    const missing = authToken ? [] : [{ variable: 'AUTH_TOKEN', message: 'is required (enable "Add my Twilio Credentials")' }];
    const { reply, message } = misconfigured(describeProblems([...missing, ...problemsOf(liveKit)]));
    return finish({ reply, fields: { outcome: 'error', reason: message } });
  }

  const token = await checkControlToken(bearerToken(event), liveKit.value.apiKey, liveKit.value.apiSecret, requestDigest(event));
  if (!token.ok) return finish({ reply: errorReply(token.status, token.error), fields: { outcome: 'rejected', reason: token.error.code } });
  line.room = token.room;

  let request: ControlRequest;
  try {
    request = readControlRequest(event);
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    return finish({
      reply: errorReply(error.status, error.error),
      fields: { outcome: 'invalid', reason: `${error.error.code} ${error.error.field ?? ''}` },
    });
  }

  const call = await findCall(deps.rooms(liveKit.value, budget.share(ROOM_BUDGET_MS, 100, 200)), token.room, authToken);
  if (call === 'failed') {
    return finish({
      reply: errorReply(502, { code: 'livekit-error', message: 'LiveKit could not be asked for the room' }),
      fields: { outcome: 'livekit-failed' },
    });
  }
  if (call === 'none') {
    const message = 'No phone call connected by this service is in the room';
    return finish({ reply: errorReply(404, { code: 'no-call', message }), fields: { outcome: 'no-call' } });
  }
  line.callSid = call.callSid;
  if (call.status === 'hangup' && request.action !== 'hangup' && request.action !== 'cancel-human') {
    return finish({
      reply: errorReply(409, { code: 'call-over', message: 'The call has already ended' }),
      fields: { outcome: 'call-over' },
    });
  }
  return finish(await act({ env, room: token.room, call, liveKit: liveKit.value, authToken, deps, budget }, request));
}
