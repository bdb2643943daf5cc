#!/usr/bin/env node
// Places a call through the `outbound` function: signs the request with the
// account's auth token exactly as Twilio does and prints the JSON answer.
//
//   npm run call -- --to +15551230000 [--from +1...] [--room NAME] [--agent NAME]
//                   [--param Name=Value ...] [--url https://<service>.twil.io/outbound] [--env FILE]
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import twilio from 'twilio';

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

if (values.help || !values.to) {
  console.error('usage: npm run call -- --to +15551230000 [--from +1...] [--room NAME] [--agent NAME] [--param Name=Value] [--url URL] [--env FILE]');
  process.exit(values.help ? 0 : 2);
}

if (existsSync(values.env)) process.loadEnvFile(values.env);
const authToken = process.env.AUTH_TOKEN;
if (!authToken) {
  console.error(`AUTH_TOKEN is not set (looked in ${values.env} and the environment)`);
  process.exit(2);
}

const params = { To: values.to };
if (values.from) params.From = values.from;
if (values.room) params.RoomName = values.room;
if (values.agent) params.AgentName = values.agent;
for (const pair of values.param) {
  const at = pair.indexOf('=');
  if (at < 1) {
    console.error(`--param needs Name=Value, got ${pair}`);
    process.exit(2);
  }
  params[pair.slice(0, at)] = pair.slice(at + 1);
}

const signature = twilio.getExpectedTwilioSignature(authToken, values.url, params);
let response;
try {
  response = await fetch(values.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(15_000),
  });
} catch (error) {
  console.error(`could not reach ${values.url}: ${error.cause?.code ?? error.message}`);
  process.exit(1);
}
const text = await response.text();
try {
  console.log(JSON.stringify(JSON.parse(text), null, 2));
} catch {
  console.log(text);
}
process.exit(response.ok ? 0 : 1);
