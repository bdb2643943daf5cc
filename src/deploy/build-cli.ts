/**
 * The build's checks and generated assets (scripts/build.mjs runs it before
 * it replaces dist/), with the service's own code:
 *
 * - a settings file the deploy tools would read before `.twilioserverlessrc.js`
 *   (./config-sources) stops the build: a deploy would skip it;
 * - a broken routes file stops the build (at run time it would be ignored,
 *   every call on the default route), with `npm run routes:check`'s message;
 * - the fallback TwiML per route (./fallback-assets) is written to --out,
 *   from the `--env` file's values, or the defaults when there is none
 *   (CI, `npm test`).
 *
 *   build-cli --out DIR [--env FILE] [--routes FILE]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Route } from '../config/route';
import { parseRoutes } from '../config/routes';
import { configSourceProblems, findConfigSources } from './config-sources';
import { readEnvFile } from './env-file';

/**
 * Loading the whole twilio helper (its REST client and their dependencies)
 * is most of this tool's time, and the build runs it every time; the TwiML
 * needs only `twilio.twiml.VoiceResponse`. So `twilio` resolves here to that
 * same class, required alone, and to the full helper for anything else.
 */
function lightTwilio(): void {
  const load = Module.createRequire(path.join(process.cwd(), 'package.json'));
  const file = load.resolve('twilio');
  let full: Record<string | symbol, unknown> | undefined;
  // lib/index.js: `twiml.VoiceResponse = VoiceResponse_1.default`, the module's export itself.
  const twiml = { VoiceResponse: load('twilio/lib/twiml/VoiceResponse') as unknown };
  const light = new Module(file);
  light.filename = file;
  light.loaded = true;
  light.exports = new Proxy(
    {},
    {
      get: (_, key) => {
        if (key === 'twiml') return twiml;
        // Asked by the bundle's import interop, and not something the helper sets.
        if (key === '__esModule' || typeof key === 'symbol') return undefined;
        return (full ??= fullTwilio(load, file))[key];
      },
    },
  );
  load.cache[file] = light;
}

function fullTwilio(load: NodeJS.Require, file: string): Record<string | symbol, unknown> {
  delete load.cache[file];
  return load(file) as Record<string | symbol, unknown>;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      env: { type: 'string' },
      routes: { type: 'string', default: path.join('src', 'assets', 'routes.private.json') },
    },
  });
  if (!values.out) throw new Error('build-cli: --out DIR is required');
  const sources = configSourceProblems(findConfigSources(process.cwd()));
  for (const problem of sources) console.error(`build: FAIL ${problem}`);
  if (sources.length) return 1;

  const routesFile = path.resolve(values.routes);
  let routes: readonly Route[] = [];
  if (existsSync(routesFile)) {
    try {
      routes = parseRoutes(readFileSync(routesFile, 'utf8')).routes;
    } catch (error) {
      console.error(`${path.relative(process.cwd(), routesFile)}: ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    }
  }

  lightTwilio();
  const { planFallbackAssets } = await import('./fallback-assets.js');
  const envFile = values.env ? readEnvFile(values.env) : undefined;
  if (values.env && !envFile) {
    console.error(`build: ${values.env} not found`);
    return 1;
  }
  const plan = planFallbackAssets(envFile?.values ?? {}, routes);
  for (const problem of plan.problems) console.error(`build: FAIL ${problem}`);
  if (plan.problems.length) return 1;
  mkdirSync(values.out, { recursive: true });
  for (const asset of plan.assets) writeFileSync(path.join(values.out, asset.file), asset.twiml);
  const from = values.env ? path.relative(process.cwd(), path.resolve(values.env)) || values.env : 'the defaults (no .env)';
  console.log(`build: fallback TwiML from ${from}: ${plan.assets.map((a) => `${a.file} (${a.routes.join(', ')})`).join(', ')}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
