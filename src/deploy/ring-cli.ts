/**
 * npm run ring -- --from +1... --to +1... [--status in-progress,completed] [--url URL] [--env FILE]
 *
 * Rings `incoming` the way Twilio does when a call comes in: the voice
 * webhook's parameters, signed with the account's auth token as Twilio signs
 * them. Prints the TwiML the caller would get, what LiveKit is asked for
 * (worked out from `.env` and the routes file with the service's own code),
 * and then, if asked, posts the call's status callbacks to `status`.
 * Works against `npm start` (the default URL) and a deployed service.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { inboundForRoute } from '../config/route-settings';
import { loadRoutes } from '../config/routes';
import { readInboundSettings } from '../config/settings';
import { inboundConnectRequest, readInboundCall } from '../incoming/connect-request';
import { isE164 } from '../phone/address';
import { runCli, UsageError } from './cli';
import { readEnvFile } from './env-file';
import { postSigned } from './signed-post';
import { statusCallbackParams, voiceWebhook } from './voice-webhook';

const USAGE =
  'usage: npm run ring -- --from +1... --to +1... [--caller-name NAME] [--status in-progress,completed] [--url http://localhost:3000/incoming] [--env FILE] [--routes FILE]';
const STATUSES = ['initiated', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled'];

/** What `incoming` asks LiveKit for this call, by the service's own rules and settings. */
function describeRequest(env: Record<string, string>, routesFile: string, webhook: Record<string, string>): string[] {
  const inbound = readInboundSettings(env);
  if (!inbound.ok) return [`  (cannot tell: ${inbound.problems.map((p) => `${p.variable} ${p.message}`).join('; ')})`];
  const routes = loadRoutes(() => (existsSync(routesFile) ? readFileSync(routesFile, 'utf8') : undefined));
  const call = readInboundCall(webhook);
  const request = inboundConnectRequest(call, inboundForRoute(inbound.value, routes.table.match(call.to)));
  const attributes = Object.entries(request.participantAttributes).map(([k, v]) => `${k}=${v}`);
  return [
    `  room:       ${request.roomName}`,
    `  identity:   ${request.participantIdentity}${request.participantName ? ` (name "${request.participantName}")` : ''}`,
    `  agents:     ${request.agents.map((a) => a.agentName).join(', ') || 'none (no explicit dispatch)'}`,
    `  attributes: ${attributes.join(', ')}`,
  ];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      'caller-name': { type: 'string' },
      status: { type: 'string' },
      url: { type: 'string', default: 'http://localhost:3000/incoming' },
      env: { type: 'string', default: '.env' },
      routes: { type: 'string', default: 'src/assets/routes.private.json' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.from || !values.to) throw new UsageError('--from and --to are required: the caller and the number called, in E.164');
  if (!isE164(values.to)) throw new UsageError(`--to ${values.to} is not an E.164 number such as +14155550100`);
  const statuses = (values.status ?? '').split(',').filter(Boolean);
  for (const status of statuses)
    if (!STATUSES.includes(status)) throw new UsageError(`--status ${status} is not one of ${STATUSES.join(', ')}`);
  const file = readEnvFile(values.env);
  if (!file) throw new UsageError(`${values.env} not found (copy .env.example to .env and fill it in, or pass --env FILE)`);
  const env = file.values;
  if (!env.AUTH_TOKEN || !env.ACCOUNT_SID)
    throw new UsageError(`ACCOUNT_SID and AUTH_TOKEN must be set in ${values.env}: the call is signed as Twilio signs it`);

  const facts = {
    callSid: `CA${randomBytes(16).toString('hex')}`,
    accountSid: env.ACCOUNT_SID,
    from: values.from,
    to: values.to,
    callerName: values['caller-name'],
  };
  const webhook = voiceWebhook(facts);
  console.log(`Ringing ${values.url} as Twilio would: ${facts.from} calls ${facts.to} (${facts.callSid})\n`);
  const answer = await postSigned(values.url, webhook, env.AUTH_TOKEN);
  console.log(`HTTP ${answer.status} ${answer.contentType}\n${answer.body}\n`);
  console.log('LiveKit is asked for:');
  for (const line of describeRequest(env, values.routes, webhook)) console.log(line);

  const statusUrl = new URL('status', values.url.replace(/[^/]*$/, '')).toString();
  for (const [i, status] of statuses.entries()) {
    const reply = await postSigned(statusUrl, statusCallbackParams(facts, status, i + 1), env.AUTH_TOKEN);
    console.log(`\nstatus ${status}: HTTP ${reply.status} ${reply.body}`);
  }
  return answer.status === 200 ? 0 : 1;
}

runCli(USAGE, main);
