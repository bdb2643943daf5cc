/**
 * `npm run bench:faults`: what each passing fault costs, end to end through
 * the handlers, against the loopback stand-ins. Each case runs `RUNS` times
 * (BENCH_FAULT_RUNS, default 15); prints the outcome seen and the answer
 * time (median, max). Numbers only, not a test: tests/retries asserts.
 */
import type { ServerlessFunctionSignature } from '@twilio-labs/serverless-runtime-types/types';
import twilio from 'twilio';
import { handler as controlHandler } from '../src/functions/call-control';
import { handler as incomingHandler } from '../src/functions/incoming';
import { handler as outboundHandler } from '../src/functions/outbound.protected';
import { handler as statusHandler } from '../src/functions/status.protected';
import { idempotencyMapFor } from '../src/outbound/idempotency-maps';
import { controlToken, inboundWebhook, liveKitEnv } from '../tests/support/fixtures';
import { LiveKitStandIn, RESOURCE_EXHAUSTED, UNAVAILABLE } from '../tests/support/livekit-stand-in';
import { ACCOUNT_SID, AUTH_TOKEN, callSid, invoke, localContext, signedEvent } from '../tests/support/runtime';
import { TOO_MANY_REQUESTS, TwilioStandIn } from '../tests/support/twilio-stand-in';

const RUNS = Number(process.env.BENCH_FAULT_RUNS ?? 15);
const liveKit = new LiveKitStandIn();
const twilioApi = new TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN);
let n = 1000;

const env = () =>
  liveKitEnv(liveKit, { AGENT_NAMES: 'agent', OUTBOUND_CALLER_IDS: '+14155550100', TRANSFER_TARGETS: 'billing=+14155550111' });
const ctx = (path: string) => localContext(env(), path, 3000, (o) => twilioApi.client(o?.timeout));
const timed = async (handler: ServerlessFunctionSignature, path: string, event: Record<string, unknown>) => {
  const started = performance.now();
  const reply = await invoke(handler, ctx(path), event);
  return { ms: performance.now() - started, status: reply.status, body: reply.body };
};

const ring = () => timed(incomingHandler, '/incoming', signedEvent(ctx('/incoming'), inboundWebhook((n += 1))));
const place = (params: Record<string, string> = {}) =>
  timed(outboundHandler, '/outbound', signedEvent(ctx('/outbound'), { To: '+14155550123', ...params }));
async function control(room: string, body: Record<string, unknown>) {
  const token = await controlToken(room, body);
  return timed(controlHandler, '/call-control', { ...body, request: { headers: { authorization: `Bearer ${token}` }, cookies: {} } });
}
function statusOf(url: string, params: Record<string, string>) {
  const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);
  const event = { ...Object.fromEntries(new URL(url).searchParams), ...params, request: { headers: { 'x-twilio-signature': signature } } };
  return timed(statusHandler, '/status', event);
}

const streamed = (body: string) => (body.includes('<Stream') ? 'stream' : 'fallback');
const code = (body: string) => {
  const json = JSON.parse(body) as { error?: { code: string }; outcome?: string; replayed?: boolean };
  return json.error?.code ?? json.outcome ?? (json.replayed ? 'replayed' : 'placed');
};

interface Case {
  name: string;
  /** Sets the fault, runs the request, says what was seen. */
  run: () => Promise<{ ms: number; seen: string }>;
}

const cases: Case[] = [
  { name: 'incoming, no fault', run: async () => ((r) => ({ ms: r.ms, seen: streamed(r.body) }))(await ring()) },
  ...(
    [
      ['incoming, LiveKit 503 once', UNAVAILABLE, 1],
      ['incoming, LiveKit 429 once', RESOURCE_EXHAUSTED, 1],
      ['incoming, LiveKit 503 after applying, once', { ...UNAVAILABLE, applied: true }, 1],
      ['incoming, LiveKit 429 with Retry-After: 1, once', { ...RESOURCE_EXHAUSTED, retryAfter: '1' }, 1],
      ['incoming, LiveKit 503 for good', UNAVAILABLE, 100],
    ] as const
  ).map(([name, fault, times]) => ({
    name,
    run: async () => {
      liveKit.failNext('Connector.ConnectTwilioCall', fault, times);
      const r = await ring();
      liveKit.faults = {};
      return { ms: r.ms, seen: streamed(r.body) };
    },
  })),
  ...(
    [
      ['outbound, LiveKit 429 once', RESOURCE_EXHAUSTED, 1],
      ['outbound, LiveKit 429 for good', RESOURCE_EXHAUSTED, 100],
      ['outbound, LiveKit 503 after applying, once', { ...UNAVAILABLE, applied: true }, 1],
    ] as const
  ).map(([name, fault, times]) => ({
    name,
    run: async () => {
      liveKit.failNext('Connector.ConnectTwilioCall', fault, times);
      const r = await place();
      liveKit.faults = {};
      return { ms: r.ms, seen: `${r.status} ${code(r.body)}` };
    },
  })),
  ...(
    [
      ['outbound, Twilio 20429 once', 1],
      ['outbound, Twilio 20429 for good', 10],
    ] as const
  ).map(([name, times]) => ({
    name,
    run: async () => {
      for (let i = 0; i < times; i += 1) twilioApi.createFaults.push(TOO_MANY_REQUESTS);
      const r = await place();
      twilioApi.createFaults = [];
      return { ms: r.ms, seen: `${r.status} ${code(r.body)}` };
    },
  })),
  {
    name: 'outbound, UpdateParticipant (binding) 503 once',
    run: async () => {
      liveKit.failNext('RoomService.UpdateParticipant', UNAVAILABLE);
      const r = await place();
      const { roomName, callSid: sid } = JSON.parse(r.body) as { roomName: string; callSid: string };
      twilioApi.setCallStatus(sid, 'in-progress');
      const c = await control(roomName, { action: 'hangup' });
      return { ms: r.ms, seen: `${r.status}, then hangup ${c.status}` };
    },
  },
  {
    name: 'outbound, binding write failing for good, then status',
    run: async () => {
      liveKit.failNext('RoomService.UpdateParticipant', UNAVAILABLE, 3);
      const r = await place();
      const { roomName, callSid: sid } = JSON.parse(r.body) as { roomName: string; callSid: string };
      const url = String(twilioApi.calls.at(-1)!.params.StatusCallback);
      const s = await statusOf(url, { CallSid: sid, CallStatus: 'initiated', AccountSid: ACCOUNT_SID });
      twilioApi.setCallStatus(sid, 'in-progress');
      const c = await control(roomName, { action: 'hangup' });
      return { ms: r.ms, seen: `${r.status}, status ${s.status} ${code(s.body)}, hangup ${c.status}` };
    },
  },
  ...(
    [
      ['status, UpdateParticipant 503 once', 1],
      ['status, UpdateParticipant 503 for good', 10],
    ] as const
  ).map(([name, times]) => ({
    name,
    run: async () => {
      const r = await place();
      const { callSid: sid } = JSON.parse(r.body) as { callSid: string };
      liveKit.failNext('RoomService.UpdateParticipant', UNAVAILABLE, times);
      const s = await statusOf(String(twilioApi.calls.at(-1)!.params.StatusCallback), { CallSid: sid, CallStatus: 'ringing' });
      liveKit.faults = {};
      return { ms: s.ms, seen: `${s.status} ${code(s.body)}` };
    },
  })),
  ...(
    [
      ['call-control hangup, Twilio 20429 once', 1],
      ['call-control hangup, Twilio 20429 for good', 10],
    ] as const
  ).map(([name, times]) => ({
    name,
    run: async () => {
      await ring();
      twilioApi.setCallStatus(callSid(n), 'in-progress');
      for (let i = 0; i < times; i += 1) twilioApi.updateFaults.push(TOO_MANY_REQUESTS);
      const c = await control(`call-${callSid(n)}`, { action: 'hangup' });
      twilioApi.updateFaults = [];
      return { ms: c.ms, seen: `${c.status} ${code(c.body)}` };
    },
  })),
  {
    name: 'IdempotencyKey, Sync answering after 1.6 s (item made)',
    run: async () => {
      const key = `late-${(n += 1)}`;
      twilioApi.sync.delayMs = 1600;
      const first = await place({ IdempotencyKey: key });
      twilioApi.sync.delayMs = 0;
      const soon = await place({ IdempotencyKey: key });
      const item = twilioApi.sync.maps.get(idempotencyMapFor(key))!.get(`key:${key}`)!;
      (item.data as { at: number }).at -= 20_000;
      const later = await place({ IdempotencyKey: key });
      return {
        ms: first.ms,
        seen: `${first.status}, then ${soon.status} ${code(soon.body)}, abandoned: ${later.status} ${code(later.body)}`,
      };
    },
  },
  {
    name: 'IdempotencyKey, Sync failing as the outcome is recorded',
    run: async () => {
      const key = `lost-${(n += 1)}`;
      twilioApi.sync.fail('update', null);
      twilioApi.sync.fail('update', { status: 503, code: 20503 }, 10);
      const first = await place({ IdempotencyKey: key });
      twilioApi.sync.faults = {};
      const retry = await place({ IdempotencyKey: key });
      return { ms: retry.ms, seen: `${first.status}, retry ${retry.status} ${code(retry.body)}` };
    },
  },
];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  await liveKit.start();
  await twilioApi.start();
  const log = console.log;
  console.log = () => undefined;
  console.error = () => undefined;
  const rows: string[] = [];
  for (const c of cases) {
    const times: number[] = [];
    const seen = new Set<string>();
    const runs = c.name.includes('Sync answering') || c.name.includes('for good') ? Math.min(RUNS, 5) : RUNS;
    for (let i = 0; i < runs; i += 1) {
      const result = await c.run();
      times.push(result.ms);
      seen.add(result.seen);
    }
    rows.push(`| ${c.name} | ${[...seen].join(' / ')} | ${median(times).toFixed(0)} ms | ${Math.max(...times).toFixed(0)} ms | ${runs} |`);
  }
  log('| case | what the caller or API caller got | median | max | runs |');
  log('| --- | --- | --- | --- | --- |');
  for (const row of rows) log(row);
  await liveKit.stop();
  await twilioApi.stop();
}

void main();
