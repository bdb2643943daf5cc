/** A change to the agent's call at Twilio, as an action's result. */
import { failureReply, updateCall } from '../../twilio/calls';
import type { ActionContext, Done } from './action';

const UPDATE_BUDGET_MS = 3500;

/** `done`, `ended` (the call was already over), or the reply saying what Twilio did instead. */
export async function changeCall(
  { deps, budget }: ActionContext,
  callSid: string,
  params: Record<string, string>,
): Promise<'done' | 'ended' | Done> {
  const timeout = budget.share(UPDATE_BUDGET_MS, 300, 500);
  const result = await updateCall(deps.twilio, callSid, params, timeout);
  if (typeof result === 'string') return result;
  const message =
    result.error.code === 'twilio-timeout' ? 'Twilio did not answer in time; the call may or may not have changed' : result.error.message;
  return {
    reply: failureReply(result, message),
    fields: { outcome: 'twilio-failed', reason: result.error.code },
  };
}
