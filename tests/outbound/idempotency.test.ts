/**
 * IdempotencyKey: one call per key, kept in Twilio Sync (the Twilio stand-in
 * serves Sync Maps with Twilio's 54208 on a key that exists), and what a
 * request that timed out at Twilio says and leaves behind.
 */
import { handler as outboundHandler } from '../../src/functions/outbound.protected';
import { liveKitEnv, postOutbound } from '../support/fixtures';
import { invoke, localContext, signedEvent } from '../support/runtime';
import { SYNC_RATE_LIMITED } from '../support/sync-stand-in';
import { captureConsole } from '../support/logs';
import { useLiveKit, useTwilioApi } from '../support/stand-ins';
import { idempotencyMapFor, idempotencyMapNames } from '../../src/outbound/idempotency-maps';
import { resetLegacyLook } from '../../src/outbound/legacy-claims';

const liveKit = useLiveKit();
const twilioApi = useTwilioApi();
const logs: string[] = [];
beforeEach(() => captureConsole(logs));
// The sharded store on its own: the legacy map's look (tests/outbound/sync-shards.test.ts) already found it empty.
beforeEach(() => resetLegacyLook('empty'));
afterEach(() => jest.restoreAllMocks());

/** A key's claim, in the shard map it lives in. */
const itemOf = (key: string) => twilioApi.sync.maps.get(idempotencyMapFor(key))?.get(`key:${key}`);
/** Every shard map exists, as after ensureIdempotencyMaps or the first requests with keys on the account. */
const shardsExist = () => {
  for (const name of idempotencyMapNames()) twilioApi.sync.maps.set(name, new Map());
};

const post = (params: Record<string, string>, extra: Record<string, string> = {}) => postOutbound({ liveKit, twilioApi }, params, extra);

/** As `post`, with the Retry-After header of the answer. */
async function postWithHeaders(params: Record<string, string>) {
  const env = liveKitEnv(liveKit, { AGENT_NAMES: 'outbound-agent', OUTBOUND_CALLER_IDS: '+14155550100' });
  const context = localContext(env, '/outbound', 3000, (options) => twilioApi.client(options?.timeout));
  const reply = await invoke(outboundHandler, context, signedEvent(context, params));
  return { status: reply.status, retryAfter: reply.retryAfter, json: JSON.parse(reply.body) as { error: { code: string } } };
}

describe('outbound with an IdempotencyKey', () => {
  test('a retry gets the first answer, marked replayed, and places no second call', async () => {
    const first = await post({ To: '+14155550123', IdempotencyKey: 'order-1' });
    expect(first.status).toBe(200);
    const second = await post({ To: '+14155550123', IdempotencyKey: 'order-1' });
    expect(second.status).toBe(200);
    expect(second.json).toEqual({ ...first.json, replayed: true });
    expect(twilioApi.calls).toHaveLength(1);
    expect(liveKit.calls('Connector.ConnectTwilioCall')).toHaveLength(1);
    expect(twilioApi.sync.creates.map((c) => c.outcome)).toEqual([201, 54208]);
  });

  test('two requests at once with one key: exactly one call', async () => {
    const replies = await Promise.all([1, 2, 3].map(() => post({ To: '+14155550123', IdempotencyKey: 'burst' })));
    expect(twilioApi.calls).toHaveLength(1);
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    for (const reply of replies.filter((r) => r.status !== 200)) expect(reply.json.error.code).toBe('request-in-progress');
  });

  test('different keys, and no key, are separate calls', async () => {
    await post({ To: '+14155550123', IdempotencyKey: 'a' });
    await post({ To: '+14155550123', IdempotencyKey: 'b' });
    await post({ To: '+14155550123' });
    expect(twilioApi.calls).toHaveLength(3);
    expect(twilioApi.sync.creates).toHaveLength(2);
  });

  test('when nothing was placed (LiveKit refused) the key is freed and a retry places the call', async () => {
    liveKit.methodBehaviour['Connector.ConnectTwilioCall'] = { kind: 'status', status: 403, code: 'permission_denied', msg: 'no' };
    expect((await post({ To: '+14155550123', IdempotencyKey: 'retry-me' })).status).toBe(502);
    liveKit.methodBehaviour = {};
    expect((await post({ To: '+14155550123', IdempotencyKey: 'retry-me' })).status).toBe(200);
    expect(twilioApi.calls).toHaveLength(1);
  });

  test('Twilio timing out: the answer says the call may exist; a retry with the key is refused, not placed again', async () => {
    twilioApi.behaviour = { kind: 'hang' };
    const first = await post({ To: '+14155550123', IdempotencyKey: 'slow' }, { TWILIO_TIMEOUT_MS: '800' });
    expect(first.status).toBe(504);
    expect(first.json.error).toMatchObject({ code: 'twilio-timeout', callMayExist: true });
    expect(first.json.error.message).toContain('its LiveKit session was closed, so it cannot reach an agent');
    twilioApi.behaviour = { kind: 'ok' };
    const retry = await post({ To: '+14155550123', IdempotencyKey: 'slow' });
    expect(retry.status).toBe(409);
    expect(retry.json.error).toMatchObject({ code: 'call-may-exist', field: 'IdempotencyKey', callMayExist: true });
    // The one create that hung; none after it.
    expect(twilioApi.calls).toHaveLength(1);
  });

  test('Sync not answering: 503 naming the field, nothing created anywhere', async () => {
    twilioApi.sync.hang = true;
    const started = Date.now();
    const reply = await post({ To: '+14155550123', IdempotencyKey: 'no-sync' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(reply.status).toBe(503);
    expect(reply.json.error).toMatchObject({ code: 'idempotency-unavailable', field: 'IdempotencyKey' });
    expect(liveKit.requests).toHaveLength(0);
    expect(twilioApi.calls).toHaveLength(0);
  });

  test('a key that is not a name is refused before anything happens', async () => {
    const reply = await post({ To: '+14155550123', IdempotencyKey: 'has spaces' });
    expect(reply.status).toBe(400);
    expect(reply.json.error.field).toBe('IdempotencyKey');
    expect(twilioApi.sync.creates).toHaveLength(0);
  });
});

describe('outbound after Twilio timed out, without a key', () => {
  test('the session could not be closed: the answer says the call may still connect', async () => {
    twilioApi.behaviour = { kind: 'hang' };
    liveKit.methodBehaviour['RoomService.RemoveParticipant'] = { kind: 'status', status: 500, code: 'internal', msg: 'x' };
    const reply = await post({ To: '+14155550123' }, { TWILIO_TIMEOUT_MS: '800' });
    expect(reply.status).toBe(504);
    expect(reply.json.error).toMatchObject({ code: 'twilio-timeout', callMayExist: true });
    expect(reply.json.error.message).toContain('could not be closed, so it may still connect to the agent');
  });
});

describe('the idempotency record never wedges', () => {
  const item = itemOf;
  beforeEach(shardsExist);
  const lines = () => logs.filter((l) => l.includes('"fn":"outbound"')).map((l) => JSON.parse(l) as Record<string, unknown>);

  test("Sync's rate limit (54009) on the claim: resent, one call", async () => {
    twilioApi.sync.fail('create', SYNC_RATE_LIMITED);
    expect((await post({ To: '+14155550123', IdempotencyKey: 'rl' })).status).toBe(200);
    expect(twilioApi.calls).toHaveLength(1);
  });

  test('a 503 after Sync made the claim: the resend finds its own claim (the owner) and goes on', async () => {
    twilioApi.sync.fail('create', { status: 503, code: 20503, applied: true });
    const reply = await post({ To: '+14155550123', IdempotencyKey: 'own' });
    expect(reply.status).toBe(200);
    expect(twilioApi.sync.creates.map((c) => c.outcome)).toEqual([201, 54208]);
    expect(twilioApi.calls).toHaveLength(1);
  });

  test('Sync answering after the deadline, having made the claim: 503, then 409 with Retry-After, then taken over once abandoned', async () => {
    twilioApi.sync.delayMs = 1600;
    const first = await post({ To: '+14155550123', IdempotencyKey: 'late' });
    expect(first.status).toBe(503);
    expect(first.json.error.code).toBe('idempotency-unavailable');
    twilioApi.sync.delayMs = 0;

    const soon = await postWithHeaders({ To: '+14155550123', IdempotencyKey: 'late' });
    expect(soon.status).toBe(409);
    expect(soon.json.error.code).toBe('request-in-progress');
    expect(Number(soon.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(soon.retryAfter)).toBeLessThanOrEqual(15);
    expect(lines().at(-1)!.room).toBeUndefined();

    // The claim's request is long gone: its claim is as old as a Function can never be.
    (item('late')!.data as { at: number }).at -= 20_000;
    const later = await post({ To: '+14155550123', IdempotencyKey: 'late' });
    expect(later.status).toBe(200);
    expect(twilioApi.calls).toHaveLength(1);
    const again = await post({ To: '+14155550123', IdempotencyKey: 'late' });
    expect(again.json).toEqual({ ...later.json, replayed: true });
    expect(twilioApi.calls).toHaveLength(1);
  }, 15_000);

  test('Sync failing as the outcome is recorded: the call is placed once, and a retry replays it from the room', async () => {
    // The fence before the call goes through; every write of the outcome after it fails.
    twilioApi.sync.fail('update', null);
    twilioApi.sync.fail('update', { status: 503, code: 20503 }, 10);
    const first = await post({ To: '+14155550123', IdempotencyKey: 'lost-outcome' });
    expect(first.status).toBe(200);
    expect(lines().at(-1)).toMatchObject({ outcome: 'placed', idempotencyRecord: 'failed' });
    twilioApi.sync.faults = {};
    const retry = await post({ To: '+14155550123', IdempotencyKey: 'lost-outcome' });
    expect(retry.status).toBe(200);
    expect(retry.json).toMatchObject({ callSid: first.json.callSid, roomName: first.json.roomName, replayed: true });
    expect(twilioApi.calls).toHaveLength(1);
    expect(lines().at(-1)).toMatchObject({ outcome: 'replayed', room: first.json.roomName, callSid: first.json.callSid });
  });

  test('an abandoned claim whose session exists but carries no call: 409 call-may-exist, never a second call', async () => {
    twilioApi.sync.maps.get(idempotencyMapFor('half-way'))!.set('key:half-way', {
      data: { state: 'placing', owner: 'someone', at: Date.now() - 60_000, room: 'half-room', identity: 'callee-half' },
      expires: Date.now() + 600_000,
      revision: 0,
    });
    liveKit.addParticipant('half-room', 'callee-half');
    const reply = await post({ To: '+14155550123', IdempotencyKey: 'half-way' });
    expect(reply.status).toBe(409);
    expect(reply.json.error.code).toBe('call-may-exist');
    expect(twilioApi.calls).toHaveLength(0);
  });

  test('concurrent retries with one key while Sync is slow: exactly one call, every answer consistent', async () => {
    twilioApi.sync.delayMs = 300;
    const replies = await Promise.all(Array.from({ length: 6 }, () => post({ To: '+14155550123', IdempotencyKey: 'crowd' })));
    expect(twilioApi.calls).toHaveLength(1);
    const placed = replies.filter((r) => r.status === 200);
    expect(placed.length).toBeGreaterThanOrEqual(1);
    expect(new Set(placed.map((r) => r.json.callSid)).size).toBe(1);
    for (const reply of replies.filter((r) => r.status !== 200)) expect(reply.json.error.code).toBe('request-in-progress');
  });
});

describe('once a call may exist, no retry places another', () => {
  const item = itemOf;
  beforeEach(shardsExist);
  const abandon = (key: string) => ((item(key)!.data as { at: number }).at -= 20_000);

  test('Twilio timed out (the call may exist) and its record failed: a retry long after is told so, never a second call', async () => {
    twilioApi.behaviour = { kind: 'hang' };
    twilioApi.sync.fail('update', null); // the fence
    twilioApi.sync.fail('update', { status: 503, code: 20503 }, 10);
    const first = await post({ To: '+14155550123', IdempotencyKey: 'timed-out' }, { TWILIO_TIMEOUT_MS: '800' });
    expect(first.json.error.code).toBe('twilio-timeout');
    twilioApi.behaviour = { kind: 'ok' };
    twilioApi.sync.faults = {};
    abandon('timed-out');
    const retry = await post({ To: '+14155550123', IdempotencyKey: 'timed-out' });
    expect(retry.status).toBe(409);
    expect(retry.json.error.code).toBe('call-may-exist');
    expect(twilioApi.calls).toHaveLength(1);
  });

  test('placed, its record failed, and the call already ended (participant gone): a retry long after places nothing', async () => {
    twilioApi.sync.fail('update', null);
    twilioApi.sync.fail('update', { status: 503, code: 20503 }, 10);
    const first = await post({ To: '+14155550123', IdempotencyKey: 'ended' });
    expect(first.status).toBe(200);
    twilioApi.sync.faults = {};
    liveKit.rooms.get(first.json.roomName)!.clear();
    abandon('ended');
    const retry = await post({ To: '+14155550123', IdempotencyKey: 'ended' });
    expect(retry.json.error.code).toBe('call-may-exist');
    expect(twilioApi.calls).toHaveLength(1);
  });

  test('the fence failing: nothing is placed, the session is closed, and the answer says so', async () => {
    twilioApi.sync.fail('update', { status: 503, code: 20503 }, 10);
    const reply = await post({ To: '+14155550123', IdempotencyKey: 'unfenced' });
    expect(reply.status).toBe(503);
    expect(reply.json.error.code).toBe('idempotency-unavailable');
    expect(twilioApi.calls).toHaveLength(0);
    const [connect] = liveKit.calls('Connector.ConnectTwilioCall');
    expect(liveKit.rooms.get((connect!.body as { roomName: string }).roomName)?.size ?? 0).toBe(0);
  });

  test('freeing the key never deletes it: a late resend of the first request cannot touch a newer claim', async () => {
    liveKit.methodBehaviour['Connector.ConnectTwilioCall'] = { kind: 'status', status: 403, code: 'permission_denied', msg: 'no' };
    expect((await post({ To: '+14155550123', IdempotencyKey: 'freed' })).status).toBe(502);
    expect(item('freed')!.data).toEqual({ state: 'free' });
    expect(twilioApi.sync.writes.filter((w) => w.method === 'DELETE')).toEqual([]);
  });

  test('with Sync slow but answering, a keyed request still answers within 8 s', async () => {
    twilioApi.sync.delayMs = 650;
    const started = Date.now();
    const reply = await post({ To: '+14155550123', IdempotencyKey: 'slow-sync' });
    expect(Date.now() - started).toBeLessThan(8000);
    expect([200, 503]).toContain(reply.status);
    expect(twilioApi.calls.length).toBeLessThanOrEqual(1);
  }, 15_000);
});
