/**
 * The `call-control` function: an agent acts on its own call (./actions).
 * The checks come in an order that tells nobody more than they may know and
 * lets nothing recursive touch an unchecked body: its size (400), the LiveKit
 * token for the agent's room (401/403, ./token), the request's shape (400
 * naming the field, ./request), then the token's binding to this very request
 * (403). The call is found from the token's room alone (./find-call). Answers
 * within the same 7.5 s as `outbound`; one log line per request (room, call
 * SID, action, outcome), never the token.
 */
import { RequestError } from '../api/parameters';
import type { Env } from '../config/env-reader';
import { ROOM_BUDGET_MS, Stop, TOTAL_BUDGET_MS } from '../outbound/steps';
import { keepAction } from './keep-action';
import { errorReply, HttpReply } from '../twilio/reply';
import { Budget } from '../util/budget';
import type { LogFields } from '../util/log';
import { actionNamed } from './actions';
import { oversized } from './body-limits';
import { paramsOf } from './canonical';
import type { ControlDependencies } from './dependencies';
import { findCalls } from './find-call';
import { ControlRequest, readControlRequest } from './request';
import { readControlSettings } from './settings';
import { bearerToken, checkControlToken, unsignedRequest } from './token';

const stop = (status: number, code: string, message: string, outcome: string, reason?: string): Stop => ({
  reply: errorReply(status, { code, message }),
  fields: { outcome, reason },
});

export async function controlCall(env: Env, event: Record<string, unknown>, deps: ControlDependencies): Promise<HttpReply> {
  const budget = new Budget(TOTAL_BUDGET_MS, deps.now);
  const line: LogFields = { fn: 'call-control', action: typeof event.action === 'string' ? event.action.slice(0, 32) : undefined };
  const finish = ({ reply, fields }: Stop): HttpReply => {
    deps.log({ ...line, ...fields, status: reply.status, ms: budget.elapsed() }, reply.status >= 400 ? 'error' : 'info');
    return reply;
  };

  const settings = readControlSettings(env);
  if ('reply' in settings) return finish(settings);
  const params = paramsOf(event);
  const tooLarge = oversized(params);
  if (tooLarge) return finish(stop(400, 'request-too-large', `The request is too large to read: ${tooLarge}`, 'invalid', 'too-large'));

  const { apiKey, apiSecret } = settings.liveKit;
  const token = await checkControlToken(bearerToken(event), apiKey, apiSecret);
  if (!token.ok) return finish({ reply: errorReply(token.status, token.error), fields: { outcome: 'rejected', reason: token.error.code } });
  line.room = token.room;

  let request: ControlRequest;
  try {
    request = readControlRequest(params);
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    return finish({
      reply: errorReply(error.status, error.error),
      fields: { outcome: 'invalid', reason: `${error.error.code} ${error.error.field ?? ''}` },
    });
  }
  const unsigned = unsignedRequest(token.sha256, params);
  if (unsigned) return finish({ reply: errorReply(403, unsigned), fields: { outcome: 'rejected', reason: unsigned.code } });

  const rooms = deps.rooms(settings.liveKit, budget.share(ROOM_BUDGET_MS, 100, 200));
  const legs = await findCalls(rooms, token.room, settings.service.authToken);
  if (legs === 'failed') return finish(stop(502, 'livekit-error', 'LiveKit could not be asked for the room', 'livekit-failed'));
  const call = legs[0];
  if (!call) return finish(stop(404, 'no-call', 'No phone call connected by this service is in the room', 'no-call'));
  line.callSid = call.callSid;
  const action = actionNamed(request.action)!;
  // Once the caller is gone (a person's leg may remain) or their call is over, only the actions that end or report still apply.
  if ((call.status === 'hangup' || call.role !== 'caller') && !action.afterHangup)
    return finish(stop(409, 'call-over', 'The call has already ended', 'call-over'));
  const context = { settings, room: token.room, call, legs, deps, budget };
  const done = await action.run(context, request);
  if (done.reply.status < 300 && !action.readOnly) done.fields.journal = await keepAction(context, request, done);
  return finish(done);
}
