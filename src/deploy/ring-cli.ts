/**
 * npm run ring -- --from +1... --to +1... [--status in-progress,completed] [--url URL] [--env FILE]
 *
 * Rings `incoming` the way Twilio does when a call comes in: the voice
 * webhook's parameters, signed with the account's auth token as Twilio signs
 * them. Prints the TwiML the caller would get, what LiveKit is asked for
 * (worked out from `.env` and the routes file with the service's own code),
 * and then, if asked, posts the call's status callbacks to `status`.
 * Works against `npm start` (the default URL) and a deployed service.
 *
 * Exits 0 only when the caller would reach LiveKit (`<Connect><Stream>`) and
 * every status callback was taken. A caller who gets the fallback (or, for a
 * call from a Studio flow, is sent back with ConnectorResult=unavailable)
 * exits 1 with the reason: locally `incoming` gives it in the
 * X-Connector-Reason header (never when deployed, where it is only in the
 * service's log). A refused signature is explained: it covers the URL.
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
import { Answer, explainRefusedSignature, isLoopback, postSigned, refusedSignature } from './signed-post';
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

/** The header in which `incoming`, when not deployed, says why the caller got the fallback. */
const REASON_HEADER = 'x-connector-reason';

/** What the caller gets from the TwiML: LiveKit's stream, the flow again (with the flow's reason), or the fallback. */
function outcomeOf(twiml: string): { connected: true } | { connected: false; flowReason?: string } {
  if (/<Connect\b[^>]*>[\s\S]*?<Stream\b/.test(twiml)) return { connected: true };
  const redirect = /<Redirect\b[^>]*>([^<]*)<\/Redirect>/.exec(twiml)?.[1];
  if (redirect) {
    try {
      const query = new URL(redirect.replace(/&amp;/g, '&')).searchParams;
      if (query.get('ConnectorResult') === 'unavailable') return { connected: false, flowReason: query.get('ConnectorReason') ?? '' };
    } catch {
      // not a URL: the fallback all the same
    }
  }
  return { connected: false };
}

/** The next step for a reason `incoming` logs (docs/troubleshooting.md has the full table). */
function nextStepFor(reason: string, envFile: string): string {
  if (reason.startsWith('configuration:')) return `set what it names in ${envFile}, then restart npm start`;
  if (/^livekit rejected: .*\b40[13]\b/.test(reason)) return 'check LIVEKIT_API_KEY and LIVEKIT_API_SECRET: npm run doctor -- --live';
  if (/^livekit (unreachable|timeout)/.test(reason)) return 'npm run doctor -- --live says why LiveKit cannot be reached from this machine';
  if (reason.startsWith('livekit')) return 'npm run doctor -- --live checks LiveKit; docs/troubleshooting.md lists each reason';
  return 'docs/troubleshooting.md lists each reason and what to do';
}

/** Lines saying why the caller got the fallback, and what to do. */
function fallbackLines(answer: Answer, flowReason: string | undefined, url: string, callSid: string, envFile: string): string[] {
  const lines = [
    flowReason === undefined
      ? 'The caller gets the fallback, not the agent.'
      : `The caller is sent back to the Studio flow with ConnectorResult=unavailable${flowReason ? `, ConnectorReason=${flowReason}` : ''}, not to the agent.`,
  ];
  const raw = answer.headers[REASON_HEADER] ?? '';
  let reason: string;
  try {
    reason = decodeURIComponent(raw);
  } catch {
    reason = raw;
  }
  if (reason) {
    lines.push(`Reason (as incoming logged it): ${reason}`, `Next: ${nextStepFor(reason, envFile)}`);
  } else {
    lines.push(
      isLoopback(url)
        ? `The reason is in the npm start terminal: the "fn":"incoming" line for ${callSid}.`
        : `The reason is in the service's log (Twilio Console: Functions and Assets, Services, the service, Logs): the incoming line for ${callSid}.`,
    );
  }
  return lines;
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
  if (answer.status !== 200) {
    if (refusedSignature(answer))
      for (const line of explainRefusedSignature(answer.status, values.url, env, values.env)) console.error(line);
    else if (answer.status === 404)
      console.error(`HTTP 404: nothing answers at ${values.url}: check --url (the service's address, ending in /incoming).`);
    else
      console.error(
        `HTTP ${answer.status}: incoming did not answer TwiML; its log says why (${isLoopback(values.url) ? 'the npm start terminal' : "the service's logs in the Twilio Console"}).`,
      );
    if (statuses.length) console.error('The status callbacks were not sent: incoming did not take the call.');
    return 1;
  }
  const outcome = outcomeOf(answer.body);
  if (outcome.connected) console.log('LiveKit took the call: the TwiML connects the caller to it.\n');
  else for (const line of fallbackLines(answer, outcome.flowReason, values.url, facts.callSid, values.env)) console.error(line);
  console.log('LiveKit is asked for:');
  for (const line of describeRequest(env, values.routes, webhook)) console.log(line);

  const statusUrl = new URL('status', values.url.replace(/[^/]*$/, '')).toString();
  let callbacksTaken = true;
  for (const [i, status] of statuses.entries()) {
    const reply = await postSigned(statusUrl, statusCallbackParams(facts, status, i + 1), env.AUTH_TOKEN);
    console.log(`\nstatus ${status}: HTTP ${reply.status} ${reply.body}`);
    if (reply.status >= 200 && reply.status < 300) continue;
    callbacksTaken = false;
    if (refusedSignature(reply)) for (const line of explainRefusedSignature(reply.status, statusUrl, env, values.env)) console.error(line);
  }
  return outcome.connected && callbacksTaken ? 0 : 1;
}

runCli(USAGE, main);
