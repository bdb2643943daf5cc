/**
 * Runs before every deploy (`.twilioserverlessrc.js` starts it for
 * `twilio-run deploy` and `twilio serverless:deploy` alike, after building):
 * refuses, with every reason at once, a deploy that Twilio would refuse or
 * that would break the service. Takes the deploy's own arguments, so
 * `--env`, `--environment`, `--production`, `--runtime` and `--service-name`
 * are checked as the deploy will use them.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readEnvFile } from './env-file';
import { readDeployTarget } from './deploy-target';
import { formatPreflight, preflight } from './preflight';

function main(): number {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => !/^(deploy|serverless:deploy)$/.test(a)),
    strict: false,
    options: {
      env: { type: 'string' },
      environment: { type: 'string' },
      to: { type: 'string' },
      production: { type: 'boolean' },
      runtime: { type: 'string' },
      'service-name': { type: 'string', short: 'n' },
      'functions-folder': { type: 'string' },
    },
  });
  const root = process.cwd();
  const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const envPath = path.resolve(root, str(values.env) ?? '.env');
  const env = readEnvFile(envPath);
  if (!env && values.env !== undefined) {
    console.error(`preflight: FAIL ${envPath} not found`);
    return 1;
  }
  const target = readDeployTarget(root, {
    runtime: str(values.runtime),
    serviceName: str(values['service-name']),
    environment: values.production ? '' : (str(values.environment) ?? str(values.to)),
    functionsFolder: str(values['functions-folder']),
  });
  const result = preflight(env ?? { values: {}, misread: [], skippedLines: [] }, target);
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
