/**
 * What the service knows of one call, kept where it survives the call: the
 * room, its participant and the agent's actions are gone from LiveKit by the
 * time the call completes, and recording callbacks come after that. One
 * Sync Map per call (`call-<CallSid>`), made by whoever writes first and
 * expiring a day later (Ttl): each object has Sync's 20 writes per second
 * of its own, so calls never share one (https://www.twilio.com/docs/sync/limits).
 * Each fact is an item of its own key, created once and never rewritten by
 * another fact, so writers never race: a repeated callback finds its key
 * taken (54208) and leaves it.
 */
import { resendSync } from '../outbound/idempotency';
import { retryWithin } from '../util/retry';

export const JOURNAL_TTL_SECONDS = 86_400;
/** Twilio's default Sync service, which every account has. */
export const JOURNAL_SERVICE = 'default';

/** The parts of the twilio client's Sync API the journal uses. */
export interface JournalSync {
  sync: {
    v1: {
      services(sid: string): {
        syncMaps: {
          create(options: { uniqueName: string; ttl: number }): Promise<unknown>;
          (name: string): {
            syncMapItems: {
              create(options: { key: string; data: object }): Promise<{ revision: string }>;
              list(options: { limit: number }): Promise<{ key: string; data: unknown }[]>;
              (key: string): {
                fetch(): Promise<{ data: unknown; revision: string }>;
                update(options: { data: object; ifMatch?: string }): Promise<{ revision: string }>;
              };
            };
          };
        };
      };
    };
  };
}

export type JournalFor = (timeoutMs: number) => JournalSync;

export interface CallJournal {
  /** Adds a fact under a key of its own; `exists` when the key was taken (the same fact, repeated). */
  add(key: string, data: object, withinMs: number): Promise<'done' | 'exists' | 'failed'>;
  /** One fact and its revision, `none`, or `failed`. */
  get(key: string, withinMs: number): Promise<{ data: Record<string, unknown>; revision: string } | 'none' | 'failed'>;
  /** Rewrites a fact this writer owns, if it is still at `revision`. */
  replace(key: string, data: object, revision: string, withinMs: number): Promise<'done' | 'failed'>;
  /** Every fact, by key. */
  all(withinMs: number): Promise<Record<string, Record<string, unknown>> | 'failed'>;
}

/** Read in pages of Sync's 100; a call that held more would lose its latest actions from the summary, not its first facts. */
const MAX_FACTS = 500;
const code = (error: unknown) => (error as { code?: unknown } | null)?.code;
const missing = (error: unknown) => code(error) === 54200 || code(error) === 20404;

export function journalName(callSid: string): string {
  return `call-${callSid}`;
}

export function callJournal(twilio: JournalFor, callSid: string): CallJournal {
  const sync = <T>(withinMs: number, work: (client: JournalSync) => Promise<T>): Promise<T> =>
    retryWithin(withinMs, { attempts: 3, minAttemptMs: 150, attemptMs: 700, what: 'Twilio Sync' }, (t) => work(twilio(t)), resendSync);
  const maps = (client: JournalSync) => client.sync.v1.services(JOURNAL_SERVICE).syncMaps;
  const items = (client: JournalSync) => maps(client)(journalName(callSid)).syncMapItems;
  return {
    async add(key, data, withinMs) {
      try {
        await sync(withinMs, async (client) => {
          try {
            return await items(client).create({ key, data });
          } catch (error) {
            // The call's first fact: the map is made here, or was just made by another writer (54301).
            if (!missing(error)) throw error;
            await maps(client)
              .create({ uniqueName: journalName(callSid), ttl: JOURNAL_TTL_SECONDS })
              .catch((e: unknown) => {
                if (code(e) !== 54301) throw e;
              });
            return items(client).create({ key, data });
          }
        });
        return 'done';
      } catch (error) {
        // 54208: the key is taken; a resend of our own create lands here too, which is the same fact.
        return code(error) === 54208 ? 'exists' : 'failed';
      }
    },
    async get(key, withinMs) {
      try {
        const found = await sync(withinMs, (client) => items(client)(key).fetch());
        return { data: (found.data ?? {}) as Record<string, unknown>, revision: String(found.revision) };
      } catch (error) {
        return code(error) === 54201 || missing(error) ? 'none' : 'failed';
      }
    },
    async replace(key, data, revision, withinMs) {
      try {
        await sync(withinMs, (client) => items(client)(key).update({ data, ifMatch: revision }));
        return 'done';
      } catch {
        return 'failed';
      }
    },
    async all(withinMs) {
      try {
        const found = await sync(withinMs, (client) => items(client).list({ limit: MAX_FACTS }));
        return Object.fromEntries(found.map((item) => [item.key, (item.data ?? {}) as Record<string, unknown>]));
      } catch (error) {
        return missing(error) ? {} : 'failed';
      }
    },
  };
}
