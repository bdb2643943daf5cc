/**
 * What the agent did to its call, kept in the call's journal for the summary
 * sent when the call is over (../summary): only when a summary is
 * configured for the call's route, and only what the action changed.
 */
import { callJournal } from '../journal/call-journal';
import { Stop, SYNC_BUDGET_MS } from '../outbound/steps';
import { summaryForRoute } from '../summary/settings';
import type { ActionContext } from './actions/action';
import { routeOf } from './actions/targets';
import type { ControlRequest } from './request';

export async function keepAction(context: ActionContext, request: ControlRequest, done: Stop): Promise<string | undefined> {
  const { settings, call, deps, budget } = context;
  if (!settings.summary.ok || !summaryForRoute(settings.summary.value, routeOf(context)).url) return undefined;
  const fact = {
    action: request.action,
    outcome: String(done.fields.outcome ?? ''),
    ...(request.target ? { target: request.target } : {}),
    ...(request.leg ? { leg: request.leg } : {}),
    ...(request.result ? { result: request.result } : {}),
    at: new Date().toISOString(),
  };
  return callJournal(deps.twilio, call.callSid).add(`action-${Date.now()}-${request.action}`, fact, budget.share(SYNC_BUDGET_MS, 200, 200));
}
