/**
 * Checks run before anything is uploaded: what Twilio's platform would
 * refuse or break on, found on the operator's machine instead of half-way
 * through a deploy. The platform creates the build before it sets the
 * Variables, so a Variable it refuses leaves a service half-updated; a
 * context over 3 KB deploys fine and then fails every invocation (82006).
 */
import type { ConfigSources } from './config-sources';
import type { EnvFile } from './env-file';
import { uploadedVariables } from './env-file';
import { builtFallbackProblems, FallbackPlan } from './fallback-assets';
import { CONTEXT_MAX_BYTES, handlerRefusal, runtimeRefusal, VARIABLE_KEY_MAX_CHARS, VARIABLE_VALUE_MAX_BYTES } from './platform';

export interface DeployTarget {
  /** package.json `dependencies`: the list the build installs. */
  dependencies: Record<string, string>;
  runtime: string;
  serviceName: string;
  /** Domain suffix of the environment (twilio-run's default is "dev"; "" for production). */
  environment: string;
  /** Paths of the functions the build holds, e.g. "/incoming". */
  functionPaths: string[];
  /** The settings files the deploy tools read (./config-sources); the doctor reports those read before `.twilioserverlessrc.js`. */
  configSources?: ConfigSources;
  /** false when the deploy uploads no assets (`--no-assets`, or `"assets": false` in the config). */
  assets?: boolean;
  /**
   * The fallback TwiML to check in the built assets: the plan for the settings
   * being deployed, the files found (by name), the folder and the settings'
   * name for the messages. Undefined: not checked (the doctor, before a build).
   */
  fallback?: { plan: FallbackPlan; built: Record<string, string>; folder: string; settings: string };
}

export interface ContextSize {
  bytes: number;
  limit: number;
  /** The variables, largest first, with the bytes each adds. */
  largest: { variable: string; bytes: number }[];
}

export interface Preflight {
  problems: string[];
  /** Empty values in `.env`: the deploy leaves whatever Twilio holds for them in place. */
  blank: string[];
  variables: Record<string, string>;
  context: ContextSize;
  configSources?: ConfigSources;
  /** The fallback assets checked, when they were. */
  fallback?: FallbackPlan;
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

// Stand-ins of the real lengths: SIDs are 34 characters, auth tokens 32.
const SID = (prefix: string) => prefix + '0'.repeat(32);

/** The domain Twilio gives the environment: `<service>-<4 digits>[-<suffix>].twil.io`. */
export function domainFor(serviceName: string, environment: string): string {
  return `${serviceName}-0000${environment ? `-${environment}` : ''}.twil.io`;
}

/**
 * The context Twilio hands the longest-pathed function, as the JSON whose
 * size error 82006 is about: account metadata, domain, path, variables.
 */
export function contextSize(
  variables: Record<string, string>,
  target: Pick<DeployTarget, 'serviceName' | 'environment' | 'functionPaths'>,
): ContextSize {
  const path = target.functionPaths.reduce((a, b) => (b.length > a.length ? b : a), '/');
  const context = {
    ACCOUNT_SID: SID('AC'),
    AUTH_TOKEN: '0'.repeat(32),
    SERVICE_SID: SID('ZS'),
    ENVIRONMENT_SID: SID('ZE'),
    DOMAIN_NAME: domainFor(target.serviceName, target.environment),
    PATH: path,
    ...variables,
  };
  const largest = Object.entries(variables)
    .map(([variable, value]) => ({ variable, bytes: bytes(JSON.stringify({ [variable]: value })) - 1 }))
    .sort((a, b) => b.bytes - a.bytes);
  return { bytes: bytes(JSON.stringify(context)), limit: CONTEXT_MAX_BYTES, largest };
}

export function preflight(env: EnvFile, target: DeployTarget): Preflight {
  const problems: string[] = [];
  const runtime = runtimeRefusal(target.runtime);
  if (runtime) problems.push(runtime);
  const handler = target.dependencies['@twilio/runtime-handler'];
  const refusal = handlerRefusal(handler, target.runtime);
  if (refusal) problems.push(refusal);
  else if (handler === undefined || /^1\.[01]\./.test(handler)) {
    problems.push(
      '@twilio/runtime-handler must be pinned to 1.2.0 or later: the functions read X-Twilio-Signature from event.request.headers',
    );
  }
  if (target.functionPaths.length === 0)
    problems.push('the build holds no functions: run `npm run build` (deploying now would replace the service with an empty one)');
  if (target.assets === false) {
    problems.push(
      '--no-assets (or "assets": false in the config) deploys a build without assets: the routes file and the fallback TwiML that the numbers\' Voice Fallback URL names would be gone',
    );
  } else if (target.fallback) {
    const { plan, built, folder, settings } = target.fallback;
    problems.push(...plan.problems, ...builtFallbackProblems(plan, built, folder, settings));
  }

  for (const { variable, message } of env.misread) problems.push(`${variable} ${message}`);
  for (const line of env.skippedLines) problems.push(`.env line ${line} is not KEY=VALUE: the deploy skips it`);

  const variables = uploadedVariables(env.values);
  for (const [key, value] of Object.entries(variables)) {
    if (key.length > VARIABLE_KEY_MAX_CHARS)
      problems.push(`${key} is ${key.length} characters long; a Variable's Key may have at most ${VARIABLE_KEY_MAX_CHARS}`);
    const size = bytes(value);
    if (size > VARIABLE_VALUE_MAX_BYTES) {
      problems.push(
        `${key} is ${size} bytes; Twilio stores at most ${VARIABLE_VALUE_MAX_BYTES} bytes in a Variable (${size - VARIABLE_VALUE_MAX_BYTES} over)`,
      );
    }
  }
  const context = contextSize(variables, target);
  if (context.bytes > context.limit) {
    const top = context.largest
      .slice(0, 3)
      .map((v) => `${v.variable} ${v.bytes}`)
      .join(', ');
    problems.push(
      `the functions' context would be ${context.bytes} bytes; Twilio fails every invocation over ${context.limit} (error 82006), ${context.bytes - context.limit} over. Largest: ${top}`,
    );
  }
  const blank = Object.entries(env.values)
    .filter(([key, value]) => value === '' && key !== 'ACCOUNT_SID' && key !== 'AUTH_TOKEN')
    .map(([key]) => key);
  const result: Preflight = { problems, blank, variables, context };
  if (target.configSources) result.configSources = target.configSources;
  if (target.fallback && target.assets !== false) result.fallback = target.fallback.plan;
  return result;
}

export function formatPreflight(result: Preflight): string {
  const lines: string[] = [];
  for (const problem of result.problems) lines.push(`preflight: FAIL ${problem}`);
  const { bytes: size, limit } = result.context;
  lines.push(
    `preflight: ${Object.keys(result.variables).length} variables to upload; context ${size} of ${limit} bytes (${Math.abs(limit - size)} ${size > limit ? 'over' : 'free'})`,
  );
  if (result.fallback) {
    const assets = result.fallback.assets.map((a) => `/${a.file} (${a.routes.join(', ')})`).join(', ');
    lines.push(`preflight: fallback TwiML for the numbers' Voice Fallback URL, fetched with GET: ${assets}`);
  }
  if (result.blank.length) {
    lines.push(
      `preflight: empty in .env, so not uploaded (a value already on Twilio stays; remove one with \`twilio serverless:env:unset --key NAME\`): ${result.blank.join(', ')}`,
    );
  }
  return lines.join('\n');
}
