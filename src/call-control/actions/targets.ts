/**
 * The people an action may dial, by name: the configured target's address,
 * checked like any number the service dials, or a refusal that tells the
 * agent which names exist.
 */
import { describeProblems } from '../../config/env-reader';
import type { Route } from '../../config/route';
import { destinationsForRoute } from '../../config/route-settings';
import { routeNamed } from '../../config/routes';
import { resolveTarget, targetNames } from '../../config/transfer-targets';
import { checkDialable } from '../../phone/dial-policy';
import { misconfigured } from '../../twilio/reply';
import { ActionContext, Done, refuse } from './action';

const configurationError = (detail: string): Done => ({ reply: misconfigured(detail).reply, fields: { outcome: 'error' } });

/** The route the call was connected under, when the routes file still has it. */
export function routeOf({ deps, call }: ActionContext): Route | undefined {
  return routeNamed(deps.routes(), call.route);
}

/** The target's address, or the refusal: unknown names list the known ones, so a model can choose again. */
export function targetAddress(context: ActionContext, name: string): string | Done {
  const { targets, dial } = context.settings;
  if (!targets.ok) return configurationError(describeProblems(targets.problems));
  const route = routeOf(context);
  const address = resolveTarget(name, targets.value, route);
  if (!address) {
    const known = targetNames(targets.value, route);
    const message = known.length
      ? `No transfer target named ${name} is configured for this call; the targets are: ${known.join(', ')}`
      : `No transfer target named ${name} is configured for this call; none are configured`;
    return refuse(404, 'target-unknown', message, { field: 'target', targets: known });
  }
  if (!dial.ok) return configurationError(describeProblems(dial.problems));
  const policy = { ...dial.value, destinations: destinationsForRoute(dial.value.destinations, route) };
  const verdict = checkDialable(address, policy, `target ${name}`);
  if (!verdict.ok)
    return refuse(403, verdict.code === 'invalid' ? 'destination-not-allowed' : verdict.code, verdict.message, { field: 'target' });
  return address;
}
