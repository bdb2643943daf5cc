/**
 * What Twilio's Serverless platform accepts, kept here because npm does not
 * know it: the build refuses `@twilio/runtime-handler` versions that are
 * published on npm but not on Twilio's list (2.0.2, 2.0.3 and 2.1.0 are
 * refused with 20001 "No matching version found"; twilio-labs/serverless-toolkit
 * #538, #558, #564), and runtimes it no longer offers (82007).
 *
 * Sources, checked 2026-11:
 * - Runtime Handler versions: https://www.twilio.com/docs/serverless/functions-assets/handler
 * - Runtimes: https://www.twilio.com/docs/serverless/functions-assets/functions/runtime-environment
 *   and the changelog "Node.js v24 is now available for Twilio Functions" (2026-07-08):
 *   node22 is the default, node24 needs handler 2.1.2 (1.2.0 to 2.1.2 are upgraded to it).
 * - Variables: https://www.twilio.com/docs/serverless/api/resource/variable (Key up to 128
 *   characters, Value up to 450 bytes) and error 82006 (context over 3 KB).
 */

export const PLATFORM_CHECKED = '2026-11';

/** Handler versions the build accepts, newest first. */
export const RUNTIME_HANDLER_VERSIONS: readonly string[] = [
  '2.1.2',
  '2.0.1',
  '2.0.0',
  '1.3.1',
  '1.3.0',
  '1.2.5',
  '1.2.4',
  '1.2.3',
  '1.2.2',
  '1.2.1',
  '1.2.0',
  '1.1.3',
  '1.1.2',
  '1.1.1',
  '1.1.0',
  '1.0.1',
  '1.0.0',
];

/** The version the platform uses when a service names none. */
export const DEFAULT_RUNTIME_HANDLER = '2.0.1';

/** Runtimes a build may name. node18 and older are gone. */
export const RUNTIMES: readonly string[] = ['node20', 'node22', 'node24'];

export const DEFAULT_RUNTIME = 'node22';

/** The Node.js version Functions run on the default runtime (the docs show v22.14.0). */
export const DEFAULT_RUNTIME_NODE = '22.14.0';

export const VARIABLE_KEY_MAX_CHARS = 128;
export const VARIABLE_VALUE_MAX_BYTES = 450;
/** A function's context (account metadata, domain, path and every variable, as JSON). */
export const CONTEXT_MAX_BYTES = 3 * 1024;

/**
 * Why the platform would refuse this handler version on this runtime, or
 * undefined when it accepts it.
 */
export function handlerRefusal(version: string | undefined, runtime: string): string | undefined {
  if (version === undefined) return undefined;
  if (!RUNTIME_HANDLER_VERSIONS.includes(version)) {
    return `@twilio/runtime-handler ${version} is not one Twilio's platform accepts (it accepts ${RUNTIME_HANDLER_VERSIONS.slice(0, 4).join(', ')}, ...); pin ${DEFAULT_RUNTIME_HANDLER}`;
  }
  if (runtime === 'node24' && compareVersions(version, '1.2.0') < 0) {
    return `@twilio/runtime-handler ${version} cannot build on node24; pin 2.1.2 or at least 1.2.0`;
  }
  return undefined;
}

export function runtimeRefusal(runtime: string | undefined): string | undefined {
  if (runtime === undefined || RUNTIMES.includes(runtime)) return undefined;
  return `runtime "${runtime}" is not offered by Twilio Functions (offered: ${RUNTIMES.join(', ')})`;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i += 1) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
