/**
 * npm run doctor [-- --env FILE] [--routes FILE] [--live] [--url https://<service>.twil.io/incoming]
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs, parseEnv } from 'node:util';
import twilio from 'twilio';
import { formatChecks, runDoctor, TwilioAccountApi } from './doctor';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      env: { type: 'string', default: '.env' },
      routes: { type: 'string', default: 'src/assets/routes.private.json' },
      live: { type: 'boolean', default: false },
      url: { type: 'string' },
    },
  });
  if (!existsSync(values.env)) {
    console.error(`${values.env} not found (copy .env.example to .env, or pass --env FILE)`);
    return 2;
  }
  const env = parseEnv(readFileSync(values.env, 'utf8')) as Record<string, string>;
  const routesText = existsSync(values.routes) ? readFileSync(values.routes, 'utf8') : undefined;
  const checks = await runDoctor(env, {
    routesText,
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

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
