/**
 * `npm run bench:digits`: the gap an agent sees when it presses keys on a
 * call, against the loopback stand-ins, through the handlers in process:
 * from Twilio accepting the update (the stream ends, the participant leaves)
 * to /rejoin answering with the new stream (the participant joins as soon as
 * Twilio opens it). Twilio's own part is not here: the tones themselves
 * (about 0.1 s a key, 0.5 s a `w`), its request to /rejoin and the stream's
 * start. Numbers only, not a test, and not a production figure.
 */
import { handler as controlHandler } from '../src/functions/call-control';
import { handler as incomingHandler } from '../src/functions/incoming';
import { handler as rejoinHandler } from '../src/functions/rejoin.protected';
import { controlToken, inboundWebhook, liveKitEnv } from '../tests/support/fixtures';
import { LiveKitStandIn } from '../tests/support/livekit-stand-in';
import { ACCOUNT_SID, AUTH_TOKEN, callSid, invoke, localContext, signedCallback, signedEvent } from '../tests/support/runtime';
import { TwilioStandIn } from '../tests/support/twilio-stand-in';

const RUNS = Number(process.env.BENCH_DIGITS_RUNS ?? 50);
const liveKit = new LiveKitStandIn();
const twilioApi = new TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN);
const env = () => liveKitEnv(liveKit, { AGENT_NAMES: 'agent', OUTBOUND_CALLER_IDS: '+14155550100' });
const ctx = (path: string) => localContext(env(), path, 3000, (o) => twilioApi.client(o?.timeout));

const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;
const ms = (v: number) => `${v.toFixed(1)} ms`;

async function once(n: number): Promise<{ action: number; gap: number; rejoin: number }> {
  const sid = callSid(n);
  const room = `call-${sid}`;
  const identity = '+14155550100';
  await invoke(incomingHandler, ctx('/incoming'), signedEvent(ctx('/incoming'), inboundWebhook(n)));
  twilioApi.setCallStatus(sid, 'in-progress');
  let streamEnded = 0;
  twilioApi.onUpdate = () => {
    streamEnded = performance.now();
    liveKit.endStream(room, identity);
  };
  const body = { action: 'press-keys', digits: '1' };
  const token = await controlToken(room, body);
  const started = performance.now();
  const pressed = await invoke(controlHandler, ctx('/call-control'), {
    ...body,
    request: { headers: { authorization: `Bearer ${token}` } },
  });
  const action = performance.now() - started;
  if (pressed.status !== 200) throw new Error(`press-keys answered ${pressed.status}: ${pressed.body}`);
  const twiml = twilioApi.updates.at(-1)!.params.Twiml!;
  const url = /<Redirect[^>]*>([^<]+)<\/Redirect>/.exec(twiml)![1]!.replace(/&amp;/g, '&');
  const rejoinStarted = performance.now();
  const reply = await invoke(
    rejoinHandler,
    ctx('/rejoin'),
    signedCallback(url, { AccountSid: ACCOUNT_SID, CallSid: sid, CallStatus: 'in-progress' }),
  );
  const answered = performance.now();
  if (!reply.body.includes('<Stream')) throw new Error(`rejoin answered ${reply.body}`);
  return { action, gap: answered - streamEnded, rejoin: answered - rejoinStarted };
}

async function main(): Promise<void> {
  await liveKit.start();
  await twilioApi.start();
  const runs: { action: number; gap: number; rejoin: number }[] = [];
  // The functions' own log lines are not the bench's output.
  const log = console.log;
  console.log = () => undefined;
  console.error = () => undefined;
  try {
    for (let i = 0; i < RUNS; i += 1) runs.push(await once(5000 + i));
  } finally {
    await liveKit.stop();
    await twilioApi.stop();
  }
  const line = (name: string, values: number[]) =>
    log(
      `${name.padEnd(44)} median ${ms(quantile(values, 0.5)).padStart(9)}  p95 ${ms(quantile(values, 0.95)).padStart(9)}  max ${ms(Math.max(...values)).padStart(9)}`,
    );
  log(`press-keys, ${RUNS} runs against the stand-ins (in process; Twilio's tones and network not included)`);
  line(
    'press-keys answered (journal, room told, update)',
    runs.map((r) => r.action),
  );
  line(
    'stream ended -> /rejoin answered',
    runs.map((r) => r.gap),
  );
  line(
    '/rejoin alone (journal read, ConnectTwilioCall)',
    runs.map((r) => r.rejoin),
  );
}

void main();
