/**
 * The IdempotencyKey store spread over Sync Maps: where a key lives, what a
 * keyed call writes there, making the maps before a campaign, and the claims
 * of before the change, still in the one legacy map for their ten minutes.
 */
import { createHash } from 'node:crypto';
import { postOutbound } from '../support/fixtures';
import { SYNC_RATE_LIMITED } from '../support/sync-stand-in';
import { useLiveKit, useTwilioApi } from '../support/stand-ins';
import { ensureIdempotencyMaps, TwilioSync } from '../../src/outbound/idempotency';
import {
  IDEMPOTENCY_SHARDS,
  idempotencyMapFor,
  idempotencyMapName,
  idempotencyMapNames,
  idempotencyShard,
  LEGACY_IDEMPOTENCY_MAP,
} from '../../src/outbound/idempotency-maps';
import { LEGACY_RELIST_MS, legacyClaim, resetLegacyLook } from '../../src/outbound/legacy-claims';

const liveKit = useLiveKit();
const twilioApi = useTwilioApi();
beforeEach(() => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  // Each test is a fresh container: it has not looked at the legacy map yet.
  resetLegacyLook();
});
afterEach(() => jest.restoreAllMocks());

const post = (params: Record<string, string>) => postOutbound({ liveKit, twilioApi }, { To: '+14155550123', ...params });

/** Every Sync request the stand-in was asked, as method, map and (for an item) key. */
function syncRequests() {
  const seen: { method: string; map: string; item?: string; list: boolean }[] = [];
  const handle = twilioApi.sync.handle.bind(twilioApi.sync);
  jest.spyOn(twilioApi.sync, 'handle').mockImplementation((method, parts, form, ifMatch) => {
    if (parts[0] === 'Maps') {
      const map = parts.length === 1 ? (form.get('UniqueName') ?? '') : decodeURIComponent(parts[1] ?? '');
      const item = parts[3] === undefined ? undefined : decodeURIComponent(parts[3]);
      seen.push({ method, map, item, list: parts.length === 3 && method === 'GET' });
    }
    return handle(method, parts, form, ifMatch);
  });
  return seen;
}

/** A claim as the old build left it in the one map of before. */
function legacyItem(key: string, data: object, revision = 0) {
  const map = twilioApi.sync.maps.get(LEGACY_IDEMPOTENCY_MAP) ?? new Map();
  map.set(`key:${key}`, { data, expires: Date.now() + 600_000, revision });
  twilioApi.sync.maps.set(LEGACY_IDEMPOTENCY_MAP, map);
}

const client = () => twilioApi.client(5000) as unknown as TwilioSync;

describe('a key and its map', () => {
  test('sixteen maps named livekit-outbound-requests-0 to -15', () => {
    expect(IDEMPOTENCY_SHARDS).toBe(16);
    expect(idempotencyMapNames()).toEqual(Array.from({ length: 16 }, (_, n) => `livekit-outbound-requests-${n}`));
  });

  test('the shard is SHA-256 of the key modulo 16, the same every time', () => {
    // 2^256 is a multiple of 16, so the digest modulo 16 is its last hex digit: worked out independently here.
    const lastNibble = (key: string) => parseInt(createHash('sha256').update(key).digest('hex').at(-1)!, 16);
    for (const key of ['order-1', 'order-2', 'campaign-42', 'a', 'ünïcode-key', 'x'.repeat(128)]) {
      expect(idempotencyShard(key)).toBe(lastNibble(key));
      expect(idempotencyShard(key)).toBe(idempotencyShard(key));
      expect(idempotencyMapFor(key)).toBe(idempotencyMapName(lastNibble(key)));
    }
    // Pinned: a change of hash would move every live key to another map.
    expect(['order-1', 'order-2', 'campaign-42', 'a'].map(idempotencyShard)).toEqual([7, 3, 9, 11]);
  });

  test('keys spread over every map: 16,000 keys, each map within 15% of its 1,000', () => {
    const counts = new Array<number>(IDEMPOTENCY_SHARDS).fill(0);
    for (let i = 0; i < 16_000; i += 1) counts[idempotencyShard(`campaign-7-contact-${i}`)]! += 1;
    // Binomial(16000, 1/16): standard deviation about 31, so 150 is about 5 of them.
    for (const count of counts) expect(Math.abs(count - 1000)).toBeLessThan(150);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(16_000);
  });
});

describe('keyed calls in the shards', () => {
  test('a retry with the same key places no second call; both requests met in the key’s own map', async () => {
    const first = await post({ IdempotencyKey: 'order-1' });
    const second = await post({ IdempotencyKey: 'order-1' });
    expect(first.status).toBe(200);
    expect(second.json).toEqual({ ...first.json, replayed: true });
    expect(twilioApi.calls).toHaveLength(1);
    expect(twilioApi.sync.creates.map((c) => c.outcome)).toEqual([201, 54208]);
    expect([...twilioApi.sync.maps.keys()]).toEqual([idempotencyMapFor('order-1')]);
    expect(twilioApi.sync.items(idempotencyMapFor('order-1'))['key:order-1']).toMatchObject({ state: 'placed' });
  });

  test('requests at once with one key: exactly one call', async () => {
    const replies = await Promise.all([1, 2, 3, 4].map(() => post({ IdempotencyKey: 'burst-1' })));
    expect(twilioApi.calls).toHaveLength(1);
    // Whoever was answered 200 names that one call; everyone else was told to come back.
    const answered = replies.filter((r) => r.status === 200);
    expect(answered.length).toBeGreaterThanOrEqual(1);
    for (const reply of answered) expect(reply.json.callSid).toBe(twilioApi.calls[0]!.sid);
    for (const reply of replies.filter((r) => r.status !== 200)) {
      expect(reply.status).toBe(409);
      expect(reply.json.error.code).toBe('request-in-progress');
    }
  });

  test('a keyed call writes its shard three times (claim, fence, outcome) and reads nothing', async () => {
    for (const name of idempotencyMapNames()) twilioApi.sync.maps.set(name, new Map());
    resetLegacyLook('empty');
    const seen = syncRequests();
    expect((await post({ IdempotencyKey: 'campaign-42' })).status).toBe(200);
    expect(seen.map((r) => [r.method, r.map, r.item])).toEqual([
      ['POST', idempotencyMapFor('campaign-42'), undefined],
      ['POST', idempotencyMapFor('campaign-42'), 'key:campaign-42'],
      ['POST', idempotencyMapFor('campaign-42'), 'key:campaign-42'],
    ]);
  });

  test('different keys land in their own maps, none in the legacy one', async () => {
    const keys = ['order-1', 'order-2', 'campaign-42', 'a'];
    for (const key of keys) expect((await post({ IdempotencyKey: key })).status).toBe(200);
    expect(twilioApi.calls).toHaveLength(4);
    for (const key of keys) expect(Object.keys(twilioApi.sync.items(idempotencyMapFor(key)))).toContain(`key:${key}`);
    expect(new Set(keys.map(idempotencyMapFor)).size).toBe(4);
    expect(twilioApi.sync.maps.has(LEGACY_IDEMPOTENCY_MAP)).toBe(false);
  });

  test('with no maps made, the first request makes its own map, and only that one', async () => {
    expect((await post({ IdempotencyKey: 'a' })).status).toBe(200);
    expect([...twilioApi.sync.maps.keys()]).toEqual([idempotencyMapName(11)]);
  });
});

describe('ensureIdempotencyMaps', () => {
  test('makes the sixteen maps; run again, it makes none and fails on none', async () => {
    expect(await ensureIdempotencyMaps(client())).toEqual({ created: idempotencyMapNames(), existing: [] });
    expect([...twilioApi.sync.maps.keys()].sort()).toEqual([...idempotencyMapNames()].sort());
    expect(await ensureIdempotencyMaps(client())).toEqual({ created: [], existing: idempotencyMapNames() });
    expect(twilioApi.sync.maps.size).toBe(16);
  });

  test('maps already made by first use (54301) are left as they are, their claims kept', async () => {
    expect((await post({ IdempotencyKey: 'order-2' })).status).toBe(200);
    const result = await ensureIdempotencyMaps(client());
    expect(result.existing).toEqual([idempotencyMapFor('order-2')]);
    expect(result.created).toHaveLength(15);
    expect((await post({ IdempotencyKey: 'order-2' })).json.replayed).toBe(true);
    expect(twilioApi.calls).toHaveLength(1);
  });

  test("Sync's rate limit (54009) on a create: resent, every map made", async () => {
    twilioApi.sync.fail('other', SYNC_RATE_LIMITED, 2);
    expect((await ensureIdempotencyMaps(client())).created).toHaveLength(16);
    expect(twilioApi.sync.maps.size).toBe(16);
  });

  test('a create that went through but whose answer was lost is found made (54301), not failed', async () => {
    twilioApi.sync.fail('other', { status: 503, code: 20503, applied: true });
    const result = await ensureIdempotencyMaps(client());
    expect(result.existing).toEqual([idempotencyMapName(0)]);
    expect(result.created).toHaveLength(15);
  });

  test('in the given Sync service', async () => {
    const seen: string[] = [];
    const sync = client();
    const services = sync.sync.v1.services.bind(sync.sync.v1);
    jest.spyOn(sync.sync.v1, 'services').mockImplementation((sid: string) => (seen.push(sid), services(sid)));
    await ensureIdempotencyMaps(sync, { serviceSid: 'ISstandin' });
    expect(new Set(seen)).toEqual(new Set(['ISstandin']));
  });
});

describe('claims made before the maps were sharded (the legacy map, for its ten minutes)', () => {
  const body = { callSid: `CA${'1'.repeat(32)}`, roomName: 'room-before', participantIdentity: 'callee-before', status: 'queued' };

  test('placed before the deploy, retried after it: the first answer again, no second call', async () => {
    legacyItem('before-1', { state: 'placed', body });
    const reply = await post({ IdempotencyKey: 'before-1' });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ ...body, replayed: true });
    expect(twilioApi.calls).toHaveLength(0);
    expect(liveKit.requests).toHaveLength(0);
    expect(twilioApi.sync.maps.has(idempotencyMapFor('before-1'))).toBe(false);
  });

  test('timed out at Twilio before the deploy (uncertain): 409 call-may-exist after it, never a second call', async () => {
    legacyItem('before-2', { state: 'uncertain', sessionClosed: true });
    const reply = await post({ IdempotencyKey: 'before-2' });
    expect(reply.status).toBe(409);
    expect(reply.json.error).toMatchObject({ code: 'call-may-exist', callMayExist: true });
    expect(twilioApi.calls).toHaveLength(0);
  });

  test('a request of before still placing: 409 request-in-progress', async () => {
    legacyItem('before-3', { state: 'calling', owner: 'old', at: Date.now() - 2000, room: 'room-3', identity: 'callee-3' });
    const reply = await post({ IdempotencyKey: 'before-3' });
    expect(reply.status).toBe(409);
    expect(reply.json.error.code).toBe('request-in-progress');
    expect(twilioApi.calls).toHaveLength(0);
  });

  test('an abandoned claim of before is taken over where it is: one call, recorded in the legacy map', async () => {
    legacyItem('before-4', { state: 'placing', owner: 'old', at: Date.now() - 60_000, room: 'room-4', identity: 'callee-4' });
    const first = await post({ IdempotencyKey: 'before-4' });
    expect(first.status).toBe(200);
    expect(twilioApi.sync.items(LEGACY_IDEMPOTENCY_MAP)['key:before-4']).toMatchObject({ state: 'placed', body: first.json });
    expect(twilioApi.sync.maps.has(idempotencyMapFor('before-4'))).toBe(false);
    expect((await post({ IdempotencyKey: 'before-4' })).json).toEqual({ ...first.json, replayed: true });
    expect(twilioApi.calls).toHaveLength(1);
  });

  test('freed before the deploy (nothing placed): the key is claimed in its shard and the call placed', async () => {
    legacyItem('before-5', { state: 'free' });
    expect((await post({ IdempotencyKey: 'before-5' })).status).toBe(200);
    expect(twilioApi.calls).toHaveLength(1);
    expect(twilioApi.sync.items(idempotencyMapFor('before-5'))['key:before-5']).toMatchObject({ state: 'placed' });
  });

  test('no legacy map: looked for once by a container, never again', async () => {
    const seen = syncRequests();
    for (const key of ['order-1', 'order-2', 'campaign-42', 'a', 'order-1']) await post({ IdempotencyKey: key });
    expect(twilioApi.calls).toHaveLength(4);
    expect(seen.filter((r) => r.map === LEGACY_IDEMPOTENCY_MAP)).toEqual([
      { method: 'GET', map: LEGACY_IDEMPOTENCY_MAP, item: undefined, list: true },
    ]);
  });

  test('a legacy map whose claims have all expired: one look, then never read again', async () => {
    legacyItem('long-ago', { state: 'placed', body });
    twilioApi.sync.maps.get(LEGACY_IDEMPOTENCY_MAP)!.get('key:long-ago')!.expires = Date.now() - 1;
    const seen = syncRequests();
    for (const key of ['order-1', 'order-2', 'long-ago']) expect((await post({ IdempotencyKey: key })).status).toBe(200);
    expect(seen.filter((r) => r.map === LEGACY_IDEMPOTENCY_MAP)).toHaveLength(1);
  });

  test('while it holds claims, each keyed request reads its own key there; a look a minute later finds it empty and reads stop', async () => {
    legacyItem('before-6', { state: 'placed', body });
    const seen = syncRequests();
    const legacyReads = () => seen.filter((r) => r.map === LEGACY_IDEMPOTENCY_MAP);
    await post({ IdempotencyKey: 'order-1' });
    await post({ IdempotencyKey: 'order-2' });
    expect(legacyReads().map((r) => (r.list ? 'look' : r.item))).toEqual(['look', 'key:order-1', 'key:order-2']);
    // Ten minutes after the old build's last request its claims have expired.
    twilioApi.sync.maps.get(LEGACY_IDEMPOTENCY_MAP)!.get('key:before-6')!.expires = Date.now() - 1;
    const now = Date.now.bind(Date);
    jest.spyOn(Date, 'now').mockImplementation(() => now() + LEGACY_RELIST_MS);
    await post({ IdempotencyKey: 'campaign-42' });
    await post({ IdempotencyKey: 'a' });
    expect(legacyReads().map((r) => (r.list ? 'look' : r.item))).toEqual(['look', 'key:order-1', 'key:order-2', 'look']);
    expect(twilioApi.calls).toHaveLength(4);
  });

  test('Sync failing on the look: 503 idempotency-unavailable, nothing placed', async () => {
    twilioApi.sync.fail('list', { status: 503, code: 20503 }, 10);
    const reply = await post({ IdempotencyKey: 'order-1' });
    expect(reply.status).toBe(503);
    expect(reply.json.error).toMatchObject({ code: 'idempotency-unavailable', field: 'IdempotencyKey' });
    expect(twilioApi.calls).toHaveLength(0);
    expect(liveKit.requests).toHaveLength(0);
  });
});

describe('the look at the legacy map, against lists as Sync may give them', () => {
  /** A Sync whose legacy map lists `items` and holds a `placed` claim for every key. */
  const fakeSync = (items: { key: string; dateExpires?: Date | null }[]) => {
    const reads: string[] = [];
    const syncMapItems = Object.assign(
      (key: string) => ({
        fetch: () => (reads.push(key), Promise.resolve({ data: { state: 'placed', body: {} }, revision: '3' })),
        update: () => Promise.reject(new Error('not here')),
      }),
      { list: () => Promise.resolve(items), create: () => Promise.reject(new Error('not here')) },
    );
    const maps = Object.assign(() => ({ syncMapItems }), { create: () => Promise.resolve({}) });
    const sync = <T>(_withinMs: number, work: (client: TwilioSync) => Promise<T>) => work({} as TwilioSync);
    return { reads, run: () => legacyClaim('key:k', 1000, sync, () => maps as never) };
  };
  /** Expiries as offsets (ms; negative is past) from the moment each test runs, null for none. */
  const page = (...expiries: (number | null)[]) => expiries.map((ms, i) => ({ key: `key:${i}`, expires: ms }));
  test.each([
    ['expired a minute ago, not yet deleted (Sync says it may linger): empty', page(-60_000), false],
    ['expiring in five minutes: claims', page(300_000), true],
    ['no date_expires at all (the client reads it as the moment it parsed it): claims', page(0), true],
    ['date_expires null (never expires): claims', page(null), true],
    ['one expired, one live: claims', page(-60_000, 1000), true],
    ['a full page of expired items (more may follow): claims', page(...new Array<number>(20).fill(-60_000)), true],
    ['nothing listed: empty', page(), false],
  ])('%s', async (_what, items, perKey) => {
    resetLegacyLook();
    const now = Date.now();
    const legacy = fakeSync(items.map(({ key, expires }) => ({ key, dateExpires: expires === null ? null : new Date(now + expires) })));
    const found = await legacy.run();
    expect(legacy.reads).toEqual(perKey ? ['key:k'] : []);
    expect(found).toEqual(perKey ? { data: { state: 'placed', body: {} }, revision: '3' } : undefined);
  });
});
