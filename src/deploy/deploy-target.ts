/**
 * What a deploy would upload, as the project's own files describe it:
 * .twilioserviceconfig (runtime, service name, environment, folders, the
 * settings file) and package.json's dependencies, with the deploy's own
 * arguments on top, merged the way twilio-run merges them. The preflight and
 * the doctor judge the same target.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { findConfigSources } from './config-sources';
import { DEFAULT_RUNTIME } from './platform';
import type { DeployTarget } from './preflight';

/** The paths of the functions in a folder: file names without extension or visibility suffix. */
export function functionPaths(folder: string, prefix = ''): string[] {
  let entries;
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    if (entry.isDirectory()) return functionPaths(path.join(folder, entry.name), `${prefix}/${entry.name}`);
    if (!/\.(js|ts)$/.test(entry.name) || entry.name.endsWith('.d.ts')) return [];
    return [`${prefix}/${entry.name.replace(/\.(js|ts)$/, '').replace(/\.(protected|private)$/, '')}`];
  });
}

export interface TargetOverrides {
  runtime?: string;
  serviceName?: string;
  /** Domain suffix; '' for production. */
  environment?: string;
  /** Where the functions are counted: the built folder for a deploy, src/functions for the doctor. */
  functionsFolder?: string;
}

/** The settings `.twilioserverlessrc.js` hands the tools: `.twilioserviceconfig`. */
export function readServiceConfig(root: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(root, '.twilioserviceconfig'), 'utf8')) as Record<string, unknown>;
}

const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

export function readDeployTarget(root: string, overrides: TargetOverrides = {}): DeployTarget {
  const config = readServiceConfig(root);
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  return {
    dependencies: pkg.dependencies ?? {},
    runtime: overrides.runtime ?? str(config.runtime) ?? DEFAULT_RUNTIME,
    serviceName: overrides.serviceName ?? str(config.serviceName) ?? '',
    // twilio-run's default environment is "dev".
    environment: overrides.environment ?? str(config.environment) ?? 'dev',
    functionPaths: functionPaths(path.join(root, overrides.functionsFolder ?? str(config.functionsFolder) ?? 'functions')),
    configSources: findConfigSources(root),
  };
}

/** The commands the project guards: `deploy` uploads a build, `promote` (`activate`) makes another environment's build live. */
export type DeployCommand = 'deploy' | 'promote';

/** The deploy's own arguments, as given on the command line (undefined: not given). */
export interface DeployFlags {
  env?: string;
  environment?: string;
  production?: boolean;
  runtime?: string;
  serviceName?: string;
  functionsFolder?: string;
  assetsFolder?: string;
  /** false for `--no-assets`. */
  assets?: boolean;
  /** promote: `--source-environment` / `--from`. */
  sourceEnvironment?: string;
  /** promote: `--build-sid` / `--from-build`. */
  buildSid?: string;
}

export interface ResolvedDeploy {
  command: DeployCommand;
  /** The settings file the command uploads as Variables, relative to the project (or absolute). */
  envFile: string;
  /** Where that choice came from: the `--env` flag, the config (`env`, for example under `environments`), or twilio-run's default. */
  envFrom: 'flag' | 'config' | 'default';
  /** The environment's domain suffix; '' for production. */
  environment: string;
  runtime?: string;
  serviceName?: string;
  functionsFolder?: string;
  assetsFolder?: string;
  assets: boolean;
  sourceEnvironment?: string;
  buildSid?: string;
}

/** twilio-run's defaults for the flags it merges with the config (flags.js). */
const DEFAULTS = { environment: 'dev', assets: true } as const;

/**
 * The config twilio-run applies for a command and environment
 * (readSpecializedConfig): the top level, then `commands.<command>`, then
 * `environments.<suffix>` (`environments["*"]` for production). `projects`,
 * keyed by account SID, is left out: the preflight has no account.
 */
export function specializedConfig(config: Record<string, unknown>, command: DeployCommand, environment: string): Record<string, unknown> {
  const { projects: _projects, environments, commands, ...base } = config;
  const pick = (table: unknown, key: string) =>
    table && typeof table === 'object' && key in table ? ((table as Record<string, unknown>)[key] as Record<string, unknown>) : {};
  return { ...base, ...pick(commands, command), ...pick(environments, environment === '' ? '*' : environment) };
}

/**
 * What the command will use, merged as twilio-run merges it (config/deploy.js,
 * config/promote.js, utils/mergeFlagsAndConfig.js): `--production` makes the
 * environment ''; the config for that environment is looked up with the flag's
 * value (default "dev"); then a flag given with other than its default value
 * wins, otherwise the config's value, otherwise the default. twilio-run 5 and
 * the CLI plugin's 3.5 merge alike.
 */
export function resolveDeploy(root: string, command: DeployCommand, flags: DeployFlags): ResolvedDeploy {
  const flagEnvironment = flags.production ? '' : (flags.environment ?? DEFAULTS.environment);
  const config = specializedConfig(readServiceConfig(root), command, flagEnvironment);
  const given = <T>(value: T | undefined, fallback?: T) => value !== undefined && value !== fallback;
  const merged = <T>(flag: T | undefined, key: string, fallback?: T): T | undefined =>
    given(flag, fallback) ? flag : ((config[key] as T | undefined) ?? flag ?? fallback);
  const envFile = merged(flags.env, 'env');
  return {
    command,
    envFile: str(envFile) ?? '.env',
    envFrom: given(flags.env) ? 'flag' : str(config.env) !== undefined ? 'config' : 'default',
    environment: str(merged(flagEnvironment, 'environment', DEFAULTS.environment)) ?? DEFAULTS.environment,
    runtime: str(merged(flags.runtime, 'runtime')),
    serviceName: str(merged(flags.serviceName, 'serviceName')),
    functionsFolder: str(merged(flags.functionsFolder, 'functionsFolder')),
    assetsFolder: str(merged(flags.assetsFolder, 'assetsFolder')),
    assets: merged(flags.assets, 'assets', DEFAULTS.assets) !== false,
    sourceEnvironment: str(merged(flags.sourceEnvironment, 'sourceEnvironment')),
    buildSid: str(merged(flags.buildSid, 'buildSid')),
  };
}
