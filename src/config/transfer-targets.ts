/**
 * The people an agent may hand a call to, by name: TRANSFER_TARGETS
 * (`billing=+14155550111,desk=sip:desk@pbx.example.com`) for every call, and
 * a route's `transferTargets` on top for its calls. An agent names a target;
 * it never passes a number, so it can only reach who the operator listed.
 */
import { addressKind } from '../phone/address';
import { own } from '../util/own';
import { clean } from '../util/sanitize';
import { Env, EnvReader, memoizedRead } from './env-reader';
import type { Route } from './route';
import { finish, Read } from './settings';

export const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
export const TARGET_NAME_RULE = 'must be a name of letters, digits, "_" and "-" (at most 32)';

/** A phone number, `sip:` or `client:` address: something `<Dial>` can take. */
export function isDialAddress(value: string): boolean {
  const kind = addressKind(value);
  return kind === 'phone' || kind === 'sip' || kind === 'client';
}

export const readTransferTargets = memoizedRead(['TRANSFER_TARGETS'], (env: Env): Read<Record<string, string>> => {
  const reader = new EnvReader(env);
  const targets: Record<string, string> = {};
  for (const entry of reader.list('TRANSFER_TARGETS')) {
    const at = entry.indexOf('=');
    const name = at > 0 ? entry.slice(0, at).trim() : '';
    const address = at > 0 ? entry.slice(at + 1).trim() : '';
    if (!TARGET_NAME.test(name))
      reader.problem('TRANSFER_TARGETS', `has "${clean(entry, 32)}": each entry is name=address, the name ${TARGET_NAME_RULE}`);
    else if (!isDialAddress(address))
      reader.problem('TRANSFER_TARGETS', `has ${name}=${clean(address, 40)}, which is not an E.164 number or a sip: or client: address`);
    else targets[name] = address;
  }
  return finish(reader, targets);
});

/** The address a target name stands for on this route, or undefined. Own keys only: `constructor` is no target. */
export function resolveTarget(name: string, targets: Record<string, string>, route: Route | undefined): string | undefined {
  return own(route?.transferTargets, name) ?? own(targets, name);
}

/** Every target name a call on this route may use, sorted. */
export function targetNames(targets: Record<string, string>, route: Route | undefined): string[] {
  return [...new Set([...Object.keys(route?.transferTargets ?? {}), ...Object.keys(targets)])].sort();
}
