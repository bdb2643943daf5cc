/**
 * Status callbacks that overlap, in every order, against a LiveKit that takes
 * 40 to 160 ms per request and applies overlapping requests in any order:
 * once a call's callbacks are all answered, the room shows its newest status.
 */
import twilio from 'twilio';
import { handler as statusHandler } from '../../src/functions/status.protected';
import { liveKitEnv } from '../support/fixtures';
import { AUTH_TOKEN, callSid, invoke, localContext } from '../support/runtime';
import { useLiveKit } from '../support/stand-ins';

const liveKit = useLiveKit();
beforeEach(() => {
  liveKit.jitter = { min: 20, max: 80 };
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

const IDENTITY = 'callee';

/** One callback as Twilio sends it: to the URL outbound gave it, signed over that URL. */
async function callback(room: string, n: number, status: string, sequence: number): Promise<number> {
  const context = localContext(liveKitEnv(liveKit), '/status');
  const url = `http://localhost:3000/status?${new URLSearchParams({ room, identity: IDENTITY })}`;
  const params = { CallSid: callSid(n), CallStatus: status, SequenceNumber: String(sequence) };
  const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);
  const event = { room, identity: IDENTITY, ...params, request: { headers: { 'x-twilio-signature': signature }, cookies: {} } };
  return (await invoke(statusHandler, context, event)).status;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends the callbacks, each after its own delay, and waits until all are answered. */
async function trial(n: number, callbacks: { status: string; sequence: number; after: number }[]): Promise<string | undefined> {
  const room = `order-${n}`;
  // Streaming, so the final `completed` leaves the participant in place to be read.
  liveKit.addParticipant(room, IDENTITY, true);
  const statuses = await Promise.all(callbacks.map(async (c) => (await sleep(c.after), callback(room, n, c.status, c.sequence))));
  expect(statuses.every((s) => s === 200)).toBe(true);
  return liveKit.rooms.get(room)?.get(IDENTITY)?.attributes['twilio.callStatus'];
}

async function run(
  count: number,
  make: (n: number) => { status: string; sequence: number; after: number }[],
): Promise<{ wrong: number; runs: number }> {
  let wrong = 0;
  // Five calls at a time: more, beside the other suites, starve a two-core machine of CPU until
  // LiveKit's 1 s per request runs out, and a callback that could not write is answered 503, as it should be.
  for (let batch = 0; batch < count; batch += 5) {
    const results = await Promise.all(Array.from({ length: Math.min(5, count - batch) }, (_, i) => trial(batch + i, make(batch + i))));
    wrong += results.filter((status) => status !== 'hangup').length;
  }
  return { wrong, runs: count };
}

const within = (ms: number) => Math.floor(Math.random() * ms);

describe('overlapping status callbacks', () => {
  jest.setTimeout(60_000);

  test('in-progress then completed, 0 to 100 ms apart: 150 interleavings, the room ends on hangup in every one', async () => {
    const result = await run(150, () => [
      { status: 'in-progress', sequence: 2, after: 0 },
      { status: 'completed', sequence: 3, after: within(100) },
    ]);
    expect(result).toEqual({ wrong: 0, runs: 150 });
  });

  test('a late in-progress after completed, 0 to 100 ms behind: 150 interleavings, never undone', async () => {
    const result = await run(150, () => [
      { status: 'completed', sequence: 3, after: 0 },
      { status: 'in-progress', sequence: 2, after: within(100) },
    ]);
    expect(result).toEqual({ wrong: 0, runs: 150 });
  });

  test('initiated, ringing, in-progress and completed all within 60 ms in random order: 100 interleavings', async () => {
    const result = await run(100, () =>
      [
        { status: 'initiated', sequence: 0 },
        { status: 'ringing', sequence: 1 },
        { status: 'in-progress', sequence: 2 },
        { status: 'completed', sequence: 3 },
      ].map((c) => ({ ...c, after: within(60) })),
    );
    expect(result).toEqual({ wrong: 0, runs: 100 });
  });
});
