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
 */
import { withDeadline } from '../util/deadline';
import { Resend, withRetries } from '../util/retry';
import { SYNC_BUDGET_MS } from './steps';

export type Outcome =
  /** A request is being worked on: a call may be placed at any moment. */
  | { state: 'placing'; owner: string; at: number; room: string; identity: string }
  /** The call was placed; a retry gets the same answer. */
  | { state: 'placed'; body: Record<string, string> }
  /** Twilio did not answer in time: the call may exist. */
  | { state: 'uncertain'; sessionClosed: boolean };

export type Placing = Extract<Outcome, { state: 'placing' }>;

/** The parts of the twilio client's Sync API used here. */
export interface TwilioSync {
  sync: {
    v1: {
      services(sid: string): {
        syncMaps: {
          create(options: { uniqueName: string }): Promise<unknown>;
          (name: string): {
            syncMapItems: {
              create(options: { key: string; data: object; itemTtl: number }): Promise<unknown>;
              (key: string): {
                fetch(): Promise<{ data: unknown; revision: string }>;
                update(options: { data: object; itemTtl: number; ifMatch?: string }): Promise<unknown>;
                remove(): Promise<boolean>;
              };
            };
          };
        };
      };
    };
  };
}

export const IDEMPOTENCY_MAP = 'livekit-outbound-requests';
/** How long a key is honoured. */
export const IDEMPOTENCY_TTL_SECONDS = 600;
/**
 * A claim older than this has no living request: a Function invocation runs
 * at most 10 s (Twilio Functions' execution limit), and 5 s more allow for
 * the clocks of two containers to differ.
 */
export const ABANDONED_AFTER_MS = 15_000;

/** The whole time one store operation may take, resends included. */
const OPERATION_MS = SYNC_BUDGET_MS;
/** One attempt's share, so that a slow answer leaves time for a second. */
const ATTEMPT_MS = 700;
const ATTEMPTS = 3;

export type Claim = 'claimed' | { existing: Outcome; revision: string } | 'unavailable';

export interface IdempotencyStore {
  /** Claims the key for this request, or says what an earlier request with it did. */
  claim(key: string, mine: Placing): Promise<Claim>;
  /** Takes an abandoned claim over, only if it is still at `revision`: `lost` when another request did first. */
  takeOver(key: string, mine: Placing, revision: string): Promise<'claimed' | 'lost' | 'unavailable'>;
  /** Records the outcome for retries, or with `undefined` frees the key (nothing was placed). */
  settle(key: string, outcome: Outcome | undefined): Promise<'done' | 'failed'>;
}

const code = (error: unknown) => (error as { code?: unknown } | null)?.code;
const status = (error: unknown) => (error as { status?: unknown } | null)?.status;

/**
 * Every Sync request here may be resent: 54009 (HTTP 429, Sync's rate limit)
 * was not processed; a write of the same item with the same data is the
 * same write twice; a create sent twice finds its own claim (the owner) on
 * 54208; a conditional write sent twice finds the revision moved on
 * (54205) and reads who holds the claim. A refusal on the merits (4xx) is
 * final.
 */
function resendSync(error: unknown): Resend {
  const s = status(error);
  if (s === 429 || code(error) === 54009) return {};
  if (typeof s === 'number') return s >= 500 ? {} : false;
  return {};
}

export function syncIdempotencyStore(twilio: (timeoutMs: number) => TwilioSync, serviceSid: string): IdempotencyStore {
  /** One Sync operation with resends, in at most {@link OPERATION_MS}. */
  const sync = <T>(work: (client: TwilioSync) => Promise<T>): Promise<T> => {
    const started = Date.now();
    const remaining = () => OPERATION_MS - (Date.now() - started);
    return withRetries(
      () => {
        const timeout = Math.max(Math.min(ATTEMPT_MS, remaining()), 200);
        return withDeadline(work(twilio(timeout)), timeout + 100, 'Twilio Sync');
      },
      resendSync,
      { attempts: ATTEMPTS, remaining, minAttemptMs: 200 },
    );
  };
  const maps = (client: TwilioSync) => client.sync.v1.services(serviceSid).syncMaps;
  const item = (client: TwilioSync, key: string) => maps(client)(IDEMPOTENCY_MAP).syncMapItems(keyFor(key));
  const read = async (key: string) => {
    const found = await sync((client) => item(client, key).fetch());
    return { existing: found.data as Outcome, revision: String(found.revision) };
  };
  const create = (key: string, data: Placing) =>
    sync(async (client) => {
      const items = maps(client)(IDEMPOTENCY_MAP).syncMapItems;
      try {
        await items.create({ key: keyFor(key), data, itemTtl: IDEMPOTENCY_TTL_SECONDS });
      } catch (error) {
        // 54200: the map does not exist yet (first use on this account); 54301: another request just made it.
        if (code(error) !== 54200 && code(error) !== 20404) throw error;
        await maps(client)
          .create({ uniqueName: IDEMPOTENCY_MAP })
          .catch((e: unknown) => {
            if (code(e) !== 54301) throw e;
          });
        await items.create({ key: keyFor(key), data, itemTtl: IDEMPOTENCY_TTL_SECONDS });
      }
    });
  const heldBy = (found: { existing: Outcome }, mine: Placing) => found.existing.state === 'placing' && found.existing.owner === mine.owner;

  return {
    async claim(key, mine) {
      try {
        await create(key, mine);
        return 'claimed';
      } catch (error) {
        if (code(error) !== 54208) return 'unavailable';
        try {
          const found = await read(key);
          // Our own create, made by an attempt whose answer was lost.
          return heldBy(found, mine) ? 'claimed' : found;
        } catch {
          return 'unavailable';
        }
      }
    },
    async takeOver(key, mine, revision) {
      try {
        await sync((client) => item(client, key).update({ data: mine, itemTtl: IDEMPOTENCY_TTL_SECONDS, ifMatch: revision }));
        return 'claimed';
      } catch (error) {
        if (code(error) !== 54205 && status(error) !== 412) return 'unavailable';
        try {
          return heldBy(await read(key), mine) ? 'claimed' : 'lost';
        } catch {
          return 'unavailable';
        }
      }
    },
    async settle(key, outcome) {
      try {
        if (outcome) await sync((client) => item(client, key).update({ data: outcome, itemTtl: IDEMPOTENCY_TTL_SECONDS }));
        else await sync((client) => item(client, key).remove());
        return 'done';
      } catch (error) {
        // A key already gone is freed.
        return !outcome && code(error) === 54201 ? 'done' : 'failed';
      }
    },
  };
}

/** Sync item keys are at most 256 characters; request keys are at most 128. */
function keyFor(key: string): string {
  return `key:${key}`;
}
