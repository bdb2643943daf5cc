/**
 * `npm run doctor`: checks a deployment's settings the way the functions will
 * read them, and with `live` proves the credentials against LiveKit and
 * Twilio. Runs on the operator's machine, never on Twilio.
 */
import type { Env } from '../config/env-reader';
import type { Check } from './check';
import { liveKitCheck, LiveOptions, twilioChecks } from './doctor-live';
import { settingsChecks } from './doctor-settings';
import type { Preflight } from './preflight';

export type { Check } from './check';
export type { TwilioAccountApi } from './doctor-live';

export interface DoctorOptions {
  /** Text of the routes file, when there is one. */
  routesText?: string;
  /** The deploy preflight over the same `.env`. */
  deploy?: Preflight;
  /** The public assets' names (src/assets, without .private/.protected files). */
  assetNames?: readonly string[];
  live?: LiveOptions;
}

export async function runDoctor(env: Env, options: DoctorOptions = {}): Promise<Check[]> {
  const { checks, routes } = settingsChecks(env, options.routesText, options.deploy, options.assetNames);
  if (!options.live) return checks;
  return [...checks, await liveKitCheck(env), ...(await twilioChecks(env, options.live, routes))];
}

export function formatChecks(checks: readonly Check[]): string {
  const lines = checks.map((c) => `${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
  const failed = checks.filter((c) => !c.ok).length;
  lines.push(failed ? `${failed} of ${checks.length} checks failed` : `all ${checks.length} checks passed`);
  return lines.join('\n');
}
