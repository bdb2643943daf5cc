/**
 * `IdempotencyKey`: one call per key, however often a request is retried.
 * Functions keep no memory between containers, so the key is claimed in a
 * Twilio Sync Map item, whose create fails with 54208 when the key exists:
 * the one store every container of the service shares, atomic on the key,
 * and expiring by itself (ItemTtl).
 * https://www.twilio.com/docs/sync/api/map-item-resource
 *
 * A claim carries its owner (a fresh nonce per request) and when it was
 * made, so that a request whose own create timed out recognises its claim on
 * 54208, and a claim whose request has died is taken over (conditionally, on
 * the item's revision) instead of answering 409 for the key's ten minutes.
 *
 * The items are spread over {@link IDEMPOTENCY_SHARDS} maps (./idempotency-maps),
 * so that a campaign stays under Sync's rate limits, which count every item
 * of a Map against the Map. Keys claimed before the maps were sharded live in
 * the one map of before for their last ten minutes (./legacy-claims).
 */
import { Resend, retryWithin } from '../util/retry';
import { idempotencyMapFor, idempotencyMapNames, LEGACY_IDEMPOTENCY_MAP } from './idempotency-maps';
import { legacyClaim } from './legacy-claims';

export type Outcome =
  /** A request holds the key and has not yet reached Twilio: nothing can have been placed. */
  | { state: 'placing'; owner: string; at: number; room: string; identity: string }
  /** Its request is about to place the call, or has: from here on the call may exist. */
  | { state: 'calling'; owner: string; at: number; room: string; identity: string }
  /** The call was placed; a retry gets the same answer. */
  | { state: 'placed'; body: Record<string, string> }
  /** Twilio's answer left it unknown whether the call exists. */
  | { state: 'uncertain'; sessionClosed: boolean }
  /**
   * Nothing was placed: the next request takes the key over. The item is
   * never deleted to free it: a delete resent after it went through could
   * delete a newer request's claim, and a new item's revision starts again.
   */
  | { state: 'free' };

export type Placing = Extract<Outcome, { state: 'placing' }>;
export type Claimed = Extract<Outcome, { state: 'placing' | 'calling' }>;

/** The parts of the twilio client's Sync API used here. */
export interface TwilioSync {
  sync: {
    v1: {
      services(sid: string): {
        syncMaps: {
          create(options: { uniqueName: string }): Promise<unknown>;
          (name: string): {
            syncMapItems: {
              create(options: { key: string; data: object; itemTtl: number }): Promise<{ revision: string }>;
              list(options: { limit: number }): Promise<{ key: string; dateExpires?: Date | null }[]>;
              (key: string): {
                fetch(): Promise<{ data: unknown; revision: string }>;
                update(options: { data: object; itemTtl: number; ifMatch?: string }): Promise<{ revision: string }>;
              };
            };
          };
        };
      };
    };
  };
}

export { IDEMPOTENCY_SHARDS, idempotencyMapFor, LEGACY_IDEMPOTENCY_MAP } from './idempotency-maps';

/** The Functions service's own Sync service, which Runtime.getSync() also uses. */
export const IDEMPOTENCY_SYNC_SERVICE = 'default';
/** How long a key is honoured. */
export const IDEMPOTENCY_TTL_SECONDS = 600;
/**
 * A claim older than this has no living request: a Function invocation runs
 * at most 10 s (Twilio Functions' execution limit), and 5 s more allow for
 * the clocks of two containers to differ.
 */
export const ABANDONED_AFTER_MS = 15_000;

/** One attempt's share of an operation, so that a slow answer leaves time for a second. */
const ATTEMPT_MS = 700;
const ATTEMPTS = 3;

/** The key is this request's, at this revision of its item. */
export interface Held {
  revision: string;
}

export type Claim = Held | { existing: Outcome; revision: string } | 'unavailable';

/**
 * Every write but the first is conditional on the revision this request
 * last wrote (If-Match; Sync answers 54205 on a mismatch), so a write of a
 * request that lost the key, or a resend of one that went through, can never
 * change another request's claim.
 */
export interface IdempotencyStore {
  /** Claims the key for this request, or says what an earlier request with it did. */
  claim(key: string, mine: Placing, withinMs: number): Promise<Claim>;
  /** Takes a free or abandoned `placing` claim over, if it is still at `revision`: `lost` when another request did first. */
  takeOver(key: string, mine: Placing, revision: string, withinMs: number): Promise<Held | 'lost' | 'unavailable'>;
  /** Marks the claim `calling` just before the call is placed: after this, no other request may take it over. */
  fence(key: string, mine: Placing, held: Held, withinMs: number): Promise<Held | 'lost' | 'unavailable'>;
  /** Records the outcome for retries, or with `undefined` frees the key (nothing was placed). */
  settle(key: string, outcome: Outcome | undefined, held: Held, withinMs: number): Promise<'done' | 'failed'>;
}

const code = (error: unknown) => (error as { code?: unknown } | null)?.code;
const status = (error: unknown) => (error as { status?: unknown } | null)?.status;
const mismatch = (error: unknown) => code(error) === 54205 || status(error) === 412;

/**
 * Every Sync request here may be resent: 54009 (HTTP 429, Sync's rate limit)
 * was not processed; a create sent twice finds its own claim (the owner) on
 * 54208; a conditional write sent twice finds the revision moved on (54205)
 * and reads whether the item now holds what it wrote (nothing is ever
 * deleted). A refusal on the merits (4xx) is final.
 */
export function resendSync(error: unknown): Resend {
  const s = status(error);
  if (s === 429 || code(error) === 54009) return {};
  if (typeof s === 'number') return s >= 500 ? {} : false;
  return {};
}

export function syncIdempotencyStore(twilio: (timeoutMs: number) => TwilioSync, serviceSid: string): IdempotencyStore {
  /** One Sync operation with resends, in at most `withinMs`. */
  const sync = <T>(withinMs: number, work: (client: TwilioSync) => Promise<T>): Promise<T> =>
    retryWithin(
      withinMs,
      { attempts: ATTEMPTS, minAttemptMs: 150, attemptMs: ATTEMPT_MS, what: 'Twilio Sync' },
      (timeout) => work(twilio(timeout)),
      resendSync,
    );
  const maps = (client: TwilioSync) => client.sync.v1.services(serviceSid).syncMaps;
  /** The map each key of this request lives in: its shard, unless the claim found was made in the legacy map. */
  const home = new Map<string, string>();
  const mapOf = (key: string) => home.get(key) ?? idempotencyMapFor(key);
  const item = (client: TwilioSync, key: string) => maps(client)(mapOf(key)).syncMapItems(keyFor(key));
  const read = async (key: string, withinMs: number) => {
    const found = await sync(withinMs, (client) => item(client, key).fetch());
    return { existing: found.data as Outcome, revision: String(found.revision) };
  };
  /** A new claim is only ever made in the key's shard. */
  const create = (key: string, data: Placing, withinMs: number) =>
    sync(withinMs, async (client) => {
      const shard = idempotencyMapFor(key);
      const items = maps(client)(shard).syncMapItems;
      try {
        return await items.create({ key: keyFor(key), data, itemTtl: IDEMPOTENCY_TTL_SECONDS });
      } catch (error) {
        // 54200: the map does not exist yet (ensureIdempotencyMaps was not run, or not on this
        // service); made here on first use. 54301: another request just made it.
        if (code(error) !== 54200 && code(error) !== 20404) throw error;
        await maps(client)
          .create({ uniqueName: shard })
          .catch((e: unknown) => {
            if (code(e) !== 54301) throw e;
          });
        return items.create({ key: keyFor(key), data, itemTtl: IDEMPOTENCY_TTL_SECONDS });
      }
    });
  const ownedBy = (found: { existing: Outcome }, mine: Placing, state: Claimed['state']) =>
    found.existing.state === state && found.existing.owner === mine.owner;
  /** A conditional write; on a mismatch, whether the item now holds it anyway (our own resend went through). */
  const writeIf = async (key: string, data: Outcome, held: string, withinMs: number, ours: (found: { existing: Outcome }) => boolean) => {
    const started = Date.now();
    try {
      const written = await sync(withinMs, (client) => item(client, key).update({ data, itemTtl: IDEMPOTENCY_TTL_SECONDS, ifMatch: held }));
      return { revision: String(written.revision) };
    } catch (error) {
      if (!mismatch(error)) return 'unavailable' as const;
      try {
        const found = await read(key, withinMs - (Date.now() - started));
        return ours(found) ? { revision: found.revision } : ('lost' as const);
      } catch {
        return 'unavailable' as const;
      }
    }
  };

  return {
    async claim(key, mine, withinMs) {
      const started = Date.now();
      const left = () => withinMs - (Date.now() - started);
      // A claim made before the maps were sharded is honoured where it is, for the rest of its life.
      const legacy = await legacyClaim(keyFor(key), left(), sync, maps).catch(() => 'unavailable' as const);
      if (legacy === 'unavailable') return 'unavailable';
      if (legacy) {
        home.set(key, LEGACY_IDEMPOTENCY_MAP);
        return { existing: legacy.data as Outcome, revision: legacy.revision };
      }
      try {
        const created = await create(key, mine, left());
        return { revision: String(created.revision) };
      } catch (error) {
        if (code(error) !== 54208) return 'unavailable';
        try {
          const found = await read(key, left());
          // Our own create, made by an attempt whose answer was lost.
          return ownedBy(found, mine, 'placing') ? { revision: found.revision } : found;
        } catch {
          return 'unavailable';
        }
      }
    },
    takeOver: (key, mine, revision, withinMs) => writeIf(key, mine, revision, withinMs, (found) => ownedBy(found, mine, 'placing')),
    fence: (key, mine, held, withinMs) =>
      writeIf(key, { ...mine, state: 'calling' }, held.revision, withinMs, (found) => ownedBy(found, mine, 'calling')),
    async settle(key, outcome, held, withinMs) {
      const data = outcome ?? { state: 'free' };
      const same = (found: { existing: Outcome }) => JSON.stringify(found.existing) === JSON.stringify(data);
      const written = await writeIf(key, data, held.revision, withinMs, same);
      return typeof written === 'object' ? 'done' : 'failed';
    },
  };
}

/** Sync item keys are at most 256 characters; request keys are at most 128. */
function keyFor(key: string): string {
  return `key:${key}`;
}

/**
 * Makes every shard map (./idempotency-maps) now, so that a campaign does
 * not make them at its own rate: the store makes a missing map on first use,
 * but Sync's 54009 also covers "creating new Sync objects or their sub-items
 * too often", asking for "the sustained rate of new object creations" to
 * stay "below 20 per second" (https://www.twilio.com/docs/api/errors/54009;
 * the limits page itself gives no figure for creations, and whether the 20
 * is per service or per account is not said). The maps are made one after
 * the other, each resent on 54009 or a 5xx as every Sync request here is
 * (see resendSync); one that exists (54301) is left as it is, so running
 * this again changes nothing. The maps have no Ttl: only their items expire.
 */
export async function ensureIdempotencyMaps(
  client: TwilioSync,
  options: { serviceSid?: string; withinMs?: number } = {},
): Promise<{ created: string[]; existing: string[] }> {
  const maps = client.sync.v1.services(options.serviceSid ?? IDEMPOTENCY_SYNC_SERVICE).syncMaps;
  const created: string[] = [];
  const existing: string[] = [];
  for (const name of idempotencyMapNames()) {
    const made = await retryWithin(
      options.withinMs ?? 10_000,
      { attempts: 5, minAttemptMs: 150, what: 'Twilio Sync' },
      () =>
        maps.create({ uniqueName: name }).then(
          () => true,
          (error: unknown) => {
            if (code(error) === 54301) return false;
            throw error;
          },
        ),
      resendSync,
    );
    (made ? created : existing).push(name);
  }
  return { created, existing };
}
