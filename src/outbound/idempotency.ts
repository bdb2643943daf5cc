/**
 * `IdempotencyKey`: one call per key, however often a request is retried.
 * Functions keep no memory between containers, so the key is claimed in a
 * Twilio Sync Map item, whose create fails with 54208 when the key exists:
 * the one store every container of the service shares, atomic on the key,
 * and expiring by itself (ItemTtl).
 * https://www.twilio.com/docs/sync/api/map-item-resource
 */

import { errorReply, HttpReply, jsonReply } from '../twilio/reply';

export type Outcome =
  /** The request is being worked on: a call may be placed at any moment. */
  | { state: 'placing' }
  /** The call was placed; a retry gets the same answer. */
  | { state: 'placed'; body: Record<string, string> }
  /** Twilio did not answer in time: the call may exist. */
  | { state: 'uncertain'; sessionClosed: boolean };

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
                fetch(): Promise<{ data: unknown }>;
                update(options: { data: object; itemTtl: number }): Promise<unknown>;
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

export type Claim = 'claimed' | { existing: Outcome } | 'unavailable';

export interface IdempotencyStore {
  /** Claims the key for this request, or says what an earlier request with it did. */
  claim(key: string): Promise<Claim>;
  /** Records the outcome for retries, or with `undefined` frees the key (nothing was placed). */
  settle(key: string, outcome: Outcome | undefined): Promise<void>;
}

const code = (error: unknown) => (error as { code?: unknown } | null)?.code;

export function syncIdempotencyStore(client: TwilioSync, serviceSid: string): IdempotencyStore {
  const maps = client.sync.v1.services(serviceSid).syncMaps;
  const items = () => maps(IDEMPOTENCY_MAP).syncMapItems;
  const create = (key: string) => items().create({ key: keyFor(key), data: { state: 'placing' }, itemTtl: IDEMPOTENCY_TTL_SECONDS });
  return {
    async claim(key) {
      try {
        try {
          await create(key);
        } catch (error) {
          // 54200: the map does not exist yet (first use on this account); 54301: another request just made it.
          if (code(error) !== 54200 && code(error) !== 20404) throw error;
          await maps.create({ uniqueName: IDEMPOTENCY_MAP }).catch((e: unknown) => {
            if (code(e) !== 54301) throw e;
          });
          await create(key);
        }
        return 'claimed';
      } catch (error) {
        if (code(error) !== 54208) return 'unavailable';
        try {
          const item = await items()(keyFor(key)).fetch();
          return { existing: item.data as Outcome };
        } catch {
          return 'unavailable';
        }
      }
    },
    async settle(key, outcome) {
      const item = items()(keyFor(key));
      try {
        if (outcome) await item.update({ data: outcome, itemTtl: IDEMPOTENCY_TTL_SECONDS });
        else await item.remove();
      } catch {
        // Best effort: an unsettled key expires with its TTL, and until then says "placing".
      }
    },
  };
}

/** The answer to a retry, from what the first request with the key did. */
export function replay(existing: Outcome): { reply: HttpReply; outcome: string } {
  if (existing.state === 'placed') return { reply: jsonReply(200, { ...existing.body, replayed: true }), outcome: 'replayed' };
  if (existing.state === 'placing') {
    return {
      reply: errorReply(409, {
        code: 'request-in-progress',
        field: 'IdempotencyKey',
        message: 'A request with this IdempotencyKey is still being handled; no second call was placed',
      }),
      outcome: 'replay-in-progress',
    };
  }
  return {
    reply: errorReply(409, {
      code: 'call-may-exist',
      field: 'IdempotencyKey',
      callMayExist: true,
      message: `An earlier request with this IdempotencyKey timed out at Twilio, so its call may exist${
        existing.sessionClosed ? ' (its LiveKit session was closed)' : ''
      }; no second call was placed. Check the call log, or retry with a new key`,
    }),
    outcome: 'replay-uncertain',
  };
}

/** Sync item keys are at most 256 characters; request keys are at most 128. */
function keyFor(key: string): string {
  return `key:${key}`;
}
