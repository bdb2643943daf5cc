// One benchmark process: loads `twilio` (the Functions runtime has it loaded),
// then one compiled `incoming` function, and serves requests to it as the
// runtime does. Prints one JSON line of measurements.
'use strict';
const path = require('node:path');
const [, , implPath, mode, liveKitUrl, countArg] = process.argv;
const count = Number(countArg || 1);
const now = () => Number(process.hrtime.bigint()) / 1e6;

const t0 = now();
const twilio = require('twilio');
const t1 = now();
const devEntry = require.resolve('@twilio/runtime-handler/dev');
const { Response } = require(path.join(path.dirname(devEntry), 'internal', 'response.js'));
globalThis.Twilio = { ...twilio, Response };

const t2 = now();
const { handler } = require(implPath);
const t3 = now();

const AUTH_TOKEN = 'f00dfeedf00dfeedf00dfeedf00dfeed';
const context = {
  ACCOUNT_SID: 'AC' + '0123456789abcdef'.repeat(2),
  AUTH_TOKEN,
  DOMAIN_NAME: 'localhost:3000',
  PATH: '/incoming',
  LIVEKIT_URL: liveKitUrl,
  LIVEKIT_API_KEY: 'APIstandinkey',
  LIVEKIT_API_SECRET: 'stand-in-secret-that-is-long-enough-for-hs256-0123456789',
  AGENT_NAMES: 'support-agent',
};

function event(n) {
  const params = {
    CallSid: 'CA' + n.toString(16).padStart(32, '0'),
    AccountSid: context.ACCOUNT_SID,
    From: '+14155550100',
    To: '+14155550199',
    CallStatus: 'ringing',
    Direction: 'inbound',
  };
  const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, 'http://localhost:3000/incoming', params);
  return { ...params, request: { headers: { 'x-twilio-signature': signature }, cookies: {} } };
}

function invoke(n) {
  const started = now();
  return new Promise((resolve) => {
    const done = (error, response) =>
      resolve({ ms: now() - started, error: error ? String(error) : undefined, body: response && response.body });
    Promise.resolve(handler(context, event(n), done)).catch((error) => done(error));
  });
}

function streamUrl(body) {
  const m = /<Stream url="([^"]+)"/.exec(String(body || ''));
  return m ? m[1].replace(/&amp;/g, '&') : undefined;
}

async function main() {
  const out = { twilioMs: t1 - t0, loadMs: t3 - t2 };
  if (mode === 'cold' || mode === 'hang') {
    const cap = new Promise((resolve) => setTimeout(() => resolve({ ms: 15000, error: 'no answer within 15 s' }), 15000).unref());
    const first = await Promise.race([invoke(1), cap]);
    Object.assign(out, {
      firstMs: first.ms,
      error: first.error,
      streamUrl: streamUrl(first.body),
      fallback: /<Say/.test(String(first.body || '')),
    });
  } else if (mode === 'warm') {
    await invoke(0); // the cold request is measured elsewhere
    const latencies = [];
    for (let i = 1; i <= count; i += 1) latencies.push((await invoke(i)).ms);
    out.latencies = latencies;
  } else if (mode === 'concurrent') {
    await invoke(0);
    const replies = await Promise.all(Array.from({ length: count }, (_, i) => invoke(i + 1)));
    out.latencies = replies.map((r) => r.ms);
    out.urls = replies.map((r) => streamUrl(r.body) || null);
    out.errors = replies.filter((r) => r.error).length;
  }
  // Exit only once the line is flushed: a pipe takes 64 KiB at a time.
  process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(0));
}

main();
