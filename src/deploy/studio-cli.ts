/**
 * npm run studio [-- --environment SUFFIX | --production] [--service NAME] [--draft] [--dry-run]
 *                   [--number +1...] [--dir studio] [--env FILE]
 *
 * Creates or updates the flows in studio/*.json through Studio's API, with
 * the deployed service's domain and SIDs filled in (./studio-flows), each
 * validated by Studio first; prints each flow's SID and how to bind a number.
 * Credentials are ACCOUNT_SID and AUTH_TOKEN from .env.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import twilio from 'twilio';
import { runCli, UsageError } from './cli';
import { readDeployTarget } from './deploy-target';
import { readEnvFile } from './env-file';
import { formatStudioRun, readFlowFiles, runStudio, StudioApi } from './studio-flows';

const USAGE =
  'usage: npm run studio [-- --environment SUFFIX | --production] [--service NAME] [--draft] [--dry-run] [--number +1...] [--dir studio] [--env FILE]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      environment: { type: 'string' },
      production: { type: 'boolean', default: false },
      service: { type: 'string' },
      draft: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      number: { type: 'string' },
      dir: { type: 'string', default: 'studio' },
      env: { type: 'string', default: '.env' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.production && values.environment !== undefined) throw new UsageError('--production and --environment cannot go together');
  if (values.number !== undefined && !/^\+[1-9]\d{6,14}$/.test(values.number))
    throw new UsageError(`--number must be an E.164 number such as +14155550100, got ${values.number}`);
  const file = readEnvFile(values.env);
  if (!file) throw new UsageError(`${values.env} not found (copy .env.example to .env, or pass --env FILE)`);
  const { ACCOUNT_SID: accountSid = '', AUTH_TOKEN: authToken = '' } = file.values;
  if (!/^AC[0-9a-f]{32}$/.test(accountSid) || !authToken)
    throw new UsageError(`${values.env} needs ACCOUNT_SID (AC…) and AUTH_TOKEN, from the Twilio Console`);

  // The deploy's own settings: serviceName and environment ("dev" unless set) from .twilioserviceconfig.
  const target = readDeployTarget(process.cwd(), {
    serviceName: values.service,
    environment: values.production ? '' : values.environment,
  });
  if (!target.serviceName) throw new UsageError('no serviceName in .twilioserviceconfig: pass --service NAME');
  const files = readFlowFiles(path.resolve(values.dir), values.dir);
  if (!files.length) throw new UsageError(`no flow files (*.json) in ${values.dir}`);

  const api = twilio(accountSid, authToken, { timeout: 15_000 }) as unknown as StudioApi;
  const dryRun = values['dry-run'];
  const run = await runStudio(api, { service: target.serviceName, environment: target.environment }, files, {
    status: values.draft ? 'draft' : 'published',
    dryRun,
  });
  const number = values.number ?? file.values.OUTBOUND_CALLER_IDS?.split(',')[0]?.trim();
  console.log(formatStudioRun(run, { number, dryRun }));
  return 0;
}

runCli(USAGE, main);
