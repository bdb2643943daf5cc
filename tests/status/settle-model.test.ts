/**
 * The status protocol checked over many thousands of interleavings: the
 * real `reflectCallStatus` against an in-memory room whose every request is
 * applied after a random wait and answered after another (a seeded draw, so
 * a failure repeats), the way overlapping LiveKit requests may be. HTTP and
 * its timers are left out, so far more orders are tried than
 * tests/status/ordering.test.ts can try against the stand-in, the rare
 * ones included. What it does not cover: a request LiveKit applies after its
 * caller gave up on it (nobody reads back after the last callback answers),
 * the client's own deadlines and resends, and the time budget (turns take
 * no time); tests/status/reflect-status.test.ts holds those.
 */
import { reflectCallStatus, StatusDependencies } from '../../src/status/reflect-status';
import type { LiveKitRooms, ParticipantState } from '../../src/livekit/rooms';
import { loadRoutes } from '../../src/config/routes';
import { callSid, localContext, signedCallback } from '../support/runtime';
import type { Env } from '../../src/config/env-reader';

/** Mulberry32: a small seeded generator, so that a failing seed can be run again. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const turns = (n: number) =>
  new Promise<void>((resolve) => {
    const step = (left: number) => (left <= 0 ? resolve() : setImmediate(() => step(left - 1)));
    step(n);
  });

/**
 * One participant's attributes, merged as UpdateParticipant merges them.
 * Each request waits, is applied, waits again and is answered; one in
 * `lost` is applied but its answer never comes, so the caller's deadline
 * ends it as `failed` (a LiveKit that did the work but answered too late).
 */
function modelRoom(random: () => number, lost: number): { rooms: LiveKitRooms; attributes: Record<string, string> } {
  const attributes: Record<string, string> = {};
  // Mostly short, now and then ten times longer: a request held up by a busy server or network.
  const wait = () => turns(Math.floor(random() * (random() < 0.1 ? 120 : 12)));
  const request = async <T>(apply: () => T): Promise<T | 'failed'> => {
    await wait();
    const result = apply();
    const answered = random() >= lost;
    await wait();
    return answered ? result : 'failed';
  };
  const rooms: LiveKitRooms = {
    getParticipant: () => request((): ParticipantState => ({ attributes: { ...attributes }, publishing: true })),
    listParticipants: async () => [],
    setAttributes: (_room, _identity, changes) => request(() => (Object.assign(attributes, changes), 'done' as const)),
    removeParticipant: async () => 'done',
    sendData: () => request(() => 'done' as const),
    moveParticipant: async () => 'unsupported',
  };
  return { rooms, attributes };
}

const env = localContext(
  { LIVEKIT_URL: 'https://livekit.invalid', LIVEKIT_API_KEY: 'APIkey', LIVEKIT_API_SECRET: 'a'.repeat(32) },
  '/status',
) as Env;
const routes = loadRoutes(() => undefined);
const STAGES = [
  ['initiated', '0'],
  ['ringing', '1'],
  ['in-progress', '2'],
  ['completed', '3'],
] as const;

function dependencies(rooms: LiveKitRooms, log: StatusDependencies['log'] = () => undefined): StatusDependencies {
  return {
    rooms: () => rooms,
    log,
    routes: () => routes,
    twilio: () => {
      throw new Error('no Twilio here');
    },
    afterCall: async () => ({}),
  };
}

const url = `http://${String(env.DOMAIN_NAME)}/status?room=model&identity=callee`;

/** One call: its four callbacks started in a drawn order and at drawn moments; the room's status once all are answered. */
async function trial(seed: number, lost: number): Promise<{ status: string | undefined; replies: number[] }> {
  const random = generator(seed);
  const { rooms, attributes } = modelRoom(random, lost);
  const deps = dependencies(rooms);
  const replies = await Promise.all(
    STAGES.map(async ([status, sequence]) => {
      await turns(Math.floor(random() * 30));
      const event = signedCallback(url, { CallSid: callSid(seed), CallStatus: status, SequenceNumber: sequence });
      return (await reflectCallStatus(env, event, deps)).status;
    }),
  );
  return { status: attributes['twilio.callStatus'], replies };
}

/**
 * Seeds whose room did not end on `hangup` though `completed` was answered
 * 200 (one answered 503 told Twilio it was not written), and the replies seen.
 */
async function trials(count: number, lost: number): Promise<{ wrong: number[]; replies: Set<number> }> {
  const wrong: number[] = [];
  const replies = new Set<number>();
  for (let seed = 1; seed <= count; seed += 1) {
    const result = await trial(seed, lost);
    result.replies.forEach((r) => replies.add(r));
    if (result.status !== 'hangup' && result.replies[3] === 200) wrong.push(seed);
  }
  return { wrong, replies };
}

describe('the status protocol over drawn interleavings', () => {
  jest.setTimeout(120_000);

  test('four overlapping callbacks, 10,000 orders: the room ends on hangup in every one', async () => {
    expect(await trials(10_000, 0)).toEqual({ wrong: [], replies: new Set([200]) });
  });

  test('one answer in 20 lost after LiveKit applied the request, 10,000 orders: hangup in every one whose completed was answered 200', async () => {
    const { wrong, replies } = await trials(10_000, 0.05);
    expect(wrong).toEqual([]);
    // Lost answers did reach the callbacks: some could not even read the participant.
    expect(replies).toEqual(new Set([200, 503]));
  });

  test('every read-back failing: tried again until the rounds run out, no more; answered 200 with the data message, logged unsettled', async () => {
    const { rooms, attributes } = modelRoom(() => 0.5, 0);
    const read = rooms.getParticipant;
    let reads = 0;
    rooms.getParticipant = async (room, identity) => ((reads += 1), reads === 1 ? read(room, identity) : 'failed');
    let sent = 0;
    rooms.sendData = async () => ((sent += 1), 'done');
    const lines: Record<string, unknown>[] = [];
    const event = signedCallback(url, { CallSid: callSid(1), CallStatus: 'in-progress', SequenceNumber: '2' });
    const reply = await reflectCallStatus(
      env,
      event,
      dependencies(rooms, (fields) => void lines.push(fields)),
    );
    expect(reply.status).toBe(200);
    expect(attributes['twilio.callStatus']).toBe('active');
    // The participant's own read, then six read-backs.
    expect(reads).toBe(7);
    expect(sent).toBe(1);
    expect(lines).toEqual([expect.objectContaining({ outcome: 'updated', settled: 'unsettled', dataMessage: 'done' })]);
  });
});
