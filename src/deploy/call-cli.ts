/**
 * npm run call -- --to +1... [--from +1...] [--room NAME] [--agent NAME]
 *                 [--param Name=Value ...] [--url https://<service>.twil.io/outbound] [--env FILE]
 *
 * Places a call through the `outbound` function: signs the request with the
 * account's auth token exactly as Twilio does and prints the JSON answer.
 */
import { parseArgs } from 'node:util';
import { runCli, UsageError } from './cli';
import { readEnvFile } from './env-file';
import { explainRefusedSignature, postSigned, refusedSignature } from './signed-post';

const USAGE = 'usage: npm run call -- --to +1... [--from +1...] [--room NAME] [--agent NAME] [--param Name=Value] [--url URL] [--env FILE]';

/** The request's parameters, or what is wrong with the arguments. */
function requestParams(values: {
  to?: string;
  from?: string;
  room?: string;
  agent?: string;
  param: string[];
}): Record<string, string> | string {
  const params: Record<string, string> = { To: values.to ?? '' };
  if (values.from) params.From = values.from;
  if (values.room) params.RoomName = values.room;
  if (values.agent) params.AgentName = values.agent;
  for (const pair of values.param) {
    const at = pair.indexOf('=');
    if (at < 1) return `--param needs Name=Value, got ${pair}`;
    params[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return params;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      to: { type: 'string' },
      from: { type: 'string' },
      room: { type: 'string' },
      agent: { type: 'string' },
      param: { type: 'string', multiple: true, default: [] },
      url: { type: 'string', default: 'http://localhost:3000/outbound' },
      env: { type: 'string', default: '.env' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.to) throw new UsageError('--to is required: the number to call, such as +14155550123');
  const file = readEnvFile(values.env);
  const authToken = file?.values.AUTH_TOKEN || process.env.AUTH_TOKEN;
  if (!authToken)
    throw new UsageError(`AUTH_TOKEN is not set (looked in ${values.env} and the environment): copy .env.example to .env and fill it in`);

  const params = requestParams(values);
  if (typeof params === 'string') throw new UsageError(params);

  const answer = await postSigned(values.url, params, authToken);
  const text = answer.body;
  try {
    console.log(JSON.stringify(JSON.parse(text), null, 2));
  } catch {
    console.log(text);
  }
  if (refusedSignature(answer))
    for (const line of explainRefusedSignature(answer.status, values.url, file?.values ?? {}, values.env)) console.error(line);
  return answer.status >= 200 && answer.status < 300 ? 0 : 1;
}

runCli(USAGE, main);
