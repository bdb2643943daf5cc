/**
 * Runs before every deploy and promote (`.twilioserverlessrc.js` starts it,
 * through scripts/predeploy.mjs, for `twilio-run deploy|promote` and
 * `twilio serverless:deploy|promote` alike): refuses, with every reason at
 * once, a command that Twilio would refuse or that would break the service.
 * Takes the command's own arguments, merged with .twilioserviceconfig as
 * twilio-run merges them (./deploy-target), so `--env`, `--environment`,
 * `--production`, `--runtime`, `--service-name`, the folders and the config's
 * `environments` are checked as the command will use them.
 *
 * - deploy: builds the current source with the settings file the deploy
 *   uploads (scripts/build.mjs --env), then checks the build, its fallback
 *   TwiML, the Variables and the context;
 * - promote: checks the Variables it uploads to the target environment, and
 *   that the build it makes live there (the source environment's) carries the
 *   fallback TwiML the target's settings give;
 * - `--config-sources [command arguments...]` (for what runs before the
 *   tools do: npm's `predeploy` / `prestart` hook, or scripts/deploy.mjs and
 *   scripts/start.mjs): only whether the tools would read
 *   `.twilioserverlessrc.js` at all, its settings files and a `--config`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Route } from '../config/route';
import { parseRoutes } from '../config/routes';
import { configSourceProblems, findConfigSources, GUARD_FILE } from './config-sources';
import { DeployCommand, readDeployTarget, readServiceConfig, resolveDeploy, ResolvedDeploy } from './deploy-target';
import { EnvFile, readEnvFile } from './env-file';
import { FALLBACK_ASSET_NAME, FallbackPlan, planFallbackAssets } from './fallback-assets';
import { formatPreflight, preflight } from './preflight';

const EMPTY: EnvFile = { values: {}, misread: [], skippedLines: [] };
const COMMAND = /^(serverless:)?(deploy|promote|activate)$/;

function readRoutes(file: string): readonly Route[] {
  try {
    return parseRoutes(readFileSync(file, 'utf8')).routes;
  } catch {
    // Missing: no routes. Broken: the build refuses it with its own message.
    return [];
  }
}

function builtFallbacks(folder: string): Record<string, string> {
  let names: string[];
  try {
    names = readdirSync(folder).filter((name) => FALLBACK_ASSET_NAME.test(name));
  } catch {
    return {};
  }
  return Object.fromEntries(names.map((name) => [name, readFileSync(path.join(folder, name), 'utf8')]));
}

const same = (a: FallbackPlan, b: FallbackPlan) =>
  JSON.stringify(a.assets.map((x) => [x.file, x.twiml])) === JSON.stringify(b.assets.map((x) => [x.file, x.twiml]));

const label = (environment: string) => (environment === '' ? 'production' : `"${environment}"`);

/**
 * promote makes the source environment's build live on the target, with the
 * fallback TwiML that build was made with: from the settings a deploy to the
 * source reads here. When the target's settings give other TwiML, numbers
 * bound to the target's fallback URL would hear the source's fallback.
 */
function promoteFallbackProblem(root: string, resolved: ResolvedDeploy, env: EnvFile, routes: readonly Route[]): string | undefined {
  if (resolved.sourceEnvironment === undefined || /^ZE[0-9a-f]{32}$/i.test(resolved.sourceEnvironment)) return undefined;
  const source = resolveDeploy(
    root,
    'deploy',
    resolved.sourceEnvironment === '' ? { production: true } : { environment: resolved.sourceEnvironment },
  );
  if (path.resolve(root, source.envFile) === path.resolve(root, resolved.envFile)) return undefined;
  const sourcePlan = planFallbackAssets((readEnvFile(path.resolve(root, source.envFile)) ?? EMPTY).values, routes);
  const targetPlan = planFallbackAssets(env.values, routes);
  if (same(sourcePlan, targetPlan)) return undefined;
  const differing = targetPlan.assets.filter((a) => sourcePlan.assets.find((b) => b.file === a.file)?.twiml !== a.twiml).map((a) => a.file);
  const deploy = `npm run deploy -- ${resolved.environment === '' ? '--production' : `--environment ${resolved.environment}`}${
    resolved.envFrom === 'flag' ? ` --env ${resolved.envFile}` : ''
  }`;
  return (
    `promote makes the build on ${label(resolved.sourceEnvironment)} live on ${label(resolved.environment)} with the fallback TwiML it was built with, from ${source.envFile}; ` +
    `${resolved.envFile}, uploaded to ${label(resolved.environment)}, gives other fallback TwiML (${differing.join(', ') || 'other files'}), so its numbers' Voice Fallback URL would speak or dial what ${label(resolved.sourceEnvironment)}'s settings say. Deploy instead: ${deploy}`
  );
}

/** `--config FILE` / `-c FILE`: the tools then load that file alone, and `.twilioserverlessrc.js` only if it is that file. */
function configFlagProblem(argv: string[]): string | undefined {
  const at = argv.findIndex((a) => a === '--config' || a === '-c' || a.startsWith('--config='));
  if (at < 0) return undefined;
  const file = argv[at]!.startsWith('--config=') ? argv[at]!.slice('--config='.length) : argv[at + 1];
  if (file !== undefined && path.basename(file) === GUARD_FILE) return undefined;
  return `--config ${file ?? ''} makes the deploy tools read that file instead of ${GUARD_FILE}, so the build and the preflight would not run: leave --config out (the project's settings are in .twilioserviceconfig)`;
}

function main(): number {
  const argv = process.argv.slice(2);
  const root = process.cwd();
  const flagProblem = configFlagProblem(argv);
  const sources = [...configSourceProblems(findConfigSources(root)), ...(flagProblem ? [flagProblem] : [])];
  for (const problem of sources) console.error(`preflight: FAIL ${problem}`);
  if (sources.length) {
    console.error(`preflight: the deploy tools would not run the build and the preflight; nothing was uploaded`);
    return 1;
  }
  if (argv.includes('--config-sources')) return 0;

  const command: DeployCommand = /promote|activate/.test(argv.find((a) => COMMAND.test(a)) ?? '') ? 'promote' : 'deploy';
  const { values } = parseArgs({
    args: argv.filter((a) => !COMMAND.test(a)),
    strict: false,
    options: {
      env: { type: 'string' },
      environment: { type: 'string' },
      to: { type: 'string' },
      'functions-env': { type: 'string' },
      production: { type: 'boolean' },
      runtime: { type: 'string' },
      'service-name': { type: 'string', short: 'n' },
      'functions-folder': { type: 'string' },
      'assets-folder': { type: 'string' },
      'no-assets': { type: 'boolean' },
      'source-environment': { type: 'string' },
      from: { type: 'string' },
      'build-sid': { type: 'string' },
      'from-build': { type: 'string' },
    },
  });
  const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const resolved = resolveDeploy(root, command, {
    env: str(values.env),
    environment: str(values.environment) ?? str(values.to) ?? str(values['functions-env']),
    production: values.production === true,
    runtime: str(values.runtime),
    serviceName: str(values['service-name']),
    functionsFolder: str(values['functions-folder']),
    assetsFolder: str(values['assets-folder']),
    assets: values['no-assets'] === true ? false : undefined,
    sourceEnvironment: str(values['source-environment']) ?? str(values.from),
    buildSid: str(values['build-sid']) ?? str(values['from-build']),
  });

  const envPath = path.resolve(root, resolved.envFile);
  const env = readEnvFile(envPath);
  if (!env && resolved.envFrom !== 'default') {
    console.error(`preflight: FAIL ${envPath} not found (named by ${resolved.envFrom === 'flag' ? '--env' : '.twilioserviceconfig'})`);
    return 1;
  }
  const shown = env ? path.relative(root, envPath) || envPath : 'no settings file';
  const serviceName = resolved.serviceName ?? str(readServiceConfig(root).serviceName) ?? '';
  const domain = `${serviceName}-<digits>${resolved.environment ? `-${resolved.environment}` : ''}.twil.io`;
  const from = resolved.envFrom === 'default' ? '' : ` (${resolved.envFrom === 'flag' ? '--env' : '.twilioserviceconfig'})`;
  console.log(`preflight: ${command} to ${label(resolved.environment)} (${domain}), settings from ${shown}${from}`);
  if (resolved.envFrom === 'default' && resolved.environment !== 'dev') {
    console.log(
      `preflight: note: ${label(resolved.environment)} gets ${resolved.envFile}, as every environment without a settings file of its own does (give it one with --env, or "environments": { "${resolved.environment || '*'}": { "env": "..." } } in .twilioserviceconfig)`,
    );
  }

  if (command === 'deploy') {
    // Build the current source, its fallback TwiML from the settings being uploaded.
    const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), ...(env ? ['--env', envPath] : [])], {
      stdio: 'inherit',
      cwd: root,
    });
    if (built.status !== 0) {
      console.error('predeploy: the build failed; nothing was uploaded');
      return 1;
    }
  }
  const target = readDeployTarget(root, {
    runtime: resolved.runtime,
    serviceName: resolved.serviceName,
    environment: resolved.environment,
    // Counted in the folder the deploy uploads, after the build; promote uploads no functions, so over the sources.
    functionsFolder: command === 'deploy' ? resolved.functionsFolder : path.join('src', 'functions'),
  });
  const extra: string[] = [];
  if (command === 'deploy') {
    const assetsFolder = resolved.assetsFolder ?? 'assets';
    target.assets = resolved.assets;
    target.fallback = {
      plan: planFallbackAssets(env?.values ?? {}, readRoutes(path.join(root, assetsFolder, 'routes.private.json'))),
      built: builtFallbacks(path.join(root, assetsFolder)),
      folder: assetsFolder,
      settings: shown,
    };
  } else {
    if (resolved.buildSid && !resolved.sourceEnvironment)
      console.log(
        `preflight: note: the fallback TwiML build ${resolved.buildSid} carries is not checked (promote it --from its environment to have it checked)`,
      );
    const problem = promoteFallbackProblem(
      root,
      resolved,
      env ?? EMPTY,
      readRoutes(path.join(root, 'src', 'assets', 'routes.private.json')),
    );
    if (problem) extra.push(problem);
  }
  const result = preflight(env ?? EMPTY, target);
  result.problems.push(...extra);
  console.log(formatPreflight(result));
  if (result.problems.length) {
    console.error(`preflight: ${result.problems.length} problem${result.problems.length > 1 ? 's' : ''}; nothing was uploaded`);
    return 1;
  }
  return 0;
}

try {
  process.exit(main());
} catch (error) {
  console.error(`preflight: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
