/**
 * npm run doctor [-- --env FILE] [--routes FILE] [--live] [--url https://<service>.twil.io/incoming]
 *
 * Reads `.env` exactly as the deploy uploads it (./env-file) and runs the
 * deploy preflight too, so a PASS here means the same values on Twilio.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import twilio from 'twilio';
import { runCli, UsageError } from './cli';
import { formatChecks, runDoctor, TwilioAccountApi } from './doctor';
import { readEnvFile } from './env-file';
import { readDeployTarget } from './deploy-target';
import { preflight } from './preflight';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      env: { type: 'string', default: '.env' },
      routes: { type: 'string', default: 'src/assets/routes.private.json' },
      live: { type: 'boolean', default: false },
      url: { type: 'string' },
    },
  });
  const file = readEnvFile(values.env);
  if (!file) throw new UsageError(`${values.env} not found (copy .env.example to .env, or pass --env FILE)`);
  const env = file.values;
  // Counted from the sources, so the doctor needs no build: the same paths the build makes.
  const deploy = preflight(file, readDeployTarget(process.cwd(), { functionsFolder: 'src/functions' }));
  const routesText = existsSync(values.routes) ? readFileSync(values.routes, 'utf8') : undefined;
  const assetNames = existsSync('src/assets')
    ? readdirSync('src/assets').filter((name) => !/\.(private|protected)\./.test(name))
    : undefined;
  const checks = await runDoctor(env, {
    routesText,
    deploy,
    assetNames,
    live: values.live
      ? {
          twilio: () => twilio(env.ACCOUNT_SID, env.AUTH_TOKEN, { timeout: 5000 }) as unknown as TwilioAccountApi,
          incomingUrl: values.url,
        }
      : undefined,
  });
  console.log(formatChecks(checks));
  return checks.every((c) => c.ok) ? 0 : 1;
}

runCli('usage: npm run doctor [-- --env FILE] [--routes FILE] [--live] [--url https://<service>.twil.io/incoming]', main);
