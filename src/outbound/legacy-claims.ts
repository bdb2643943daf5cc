/**
 * Claims made before the idempotency store was sharded (./idempotency-maps)
 * are in the one map of before, `livekit-outbound-requests`, for at most the
 * ten minutes of their ItemTtl after their last write. A key claimed there
 * by a request on the old build and retried on this one must not place a
 * second call: a retry after `504 twilio-timeout` with `callMayExist` is the
 * very case IdempotencyKey exists for, and a deploy in the middle of a
 * campaign is nothing unusual. So a claim is looked for there first, and
 * when one is found that is not `free`, the key stays in that map for the
 * request: it is answered (replayed, 409, taken over) from it as it would
 * have been before.
 *
 * Reading the legacy map for every keyed request would make it the
 * bottleneck sharding removes (Sync reads are limited to 20/s per object
 * too, https://www.twilio.com/docs/sync/limits). Nothing new is ever written
 * there once the old build is gone, so each container looks at the map
 * itself once: absent (54200), or holding no unexpired item, it is never
 * read again by that container; holding claims, each keyed request reads
 * its own key there until a look {@link LEGACY_RELIST_MS} later finds it
 * empty, which is at most ten minutes after the old build's last keyed
 * request. A campaign started within those ten minutes after a deploy is
 * held to 20 keyed requests a second by that map; later, or on an account
 * that never used IdempotencyKey, the cost is one read per container.
 *
 * Not covered, and accepted: a request on the old build still running while
 * a container of the new one looks at an empty legacy map, whose claim is
 * made just after that look. It takes a deploy with no other keyed request
 * in the ten minutes before it, and a retry of a request still in flight.
 */
import type { TwilioSync } from './idempotency';
import { LEGACY_IDEMPOTENCY_MAP } from './idempotency-maps';

/** How long a look that found claims in the legacy map is believed before the map is looked at again. */
export const LEGACY_RELIST_MS = 60_000;
/** Items read in one look: a full page is taken as claims, whatever their expiry says. */
const LOOK_LIMIT = 20;

type Look = { state: 'unknown' } | { state: 'empty' } | { state: 'claims'; at: number };
/** This container's knowledge of the legacy map. */
let look: Look = { state: 'unknown' };

/** For tests: as a fresh container (`unknown`), or one that has already found the legacy map empty. */
export function resetLegacyLook(state: 'unknown' | 'empty' = 'unknown'): void {
  look = { state };
}

type Sync = <T>(withinMs: number, work: (client: TwilioSync) => Promise<T>) => Promise<T>;
type SyncMaps = ReturnType<TwilioSync['sync']['v1']['services']>['syncMaps'];

const code = (error: unknown) => (error as { code?: unknown } | null)?.code;
/** 54200: no such map (the Twilio client also answers a bare 404 as 20404). */
const noMap = (error: unknown) => code(error) === 54200 || code(error) === 20404;

/**
 * Whether a page of the map's items holds a claim that may be unexpired.
 * Expired items are not always gone: "The Map Item might not be deleted
 * immediately after it expires" (date_expires, Sync MapItem resource,
 * https://www.twilio.com/docs/sync/api/map-item-resource), so their expiry
 * is read. Only an expiry at least a second past counts: the twilio client
 * reads a missing date_expires as the moment it parsed the answer
 * (deserialize.iso8601DateTime, dayjs(undefined)), which must never pass for
 * an expired claim. A claim taken for live costs reads; one taken for
 * expired could cost a second call.
 */
function holdsClaims(items: { dateExpires?: Date | null }[], now: number): boolean {
  if (items.length >= LOOK_LIMIT) return true;
  return items.some((item) => !(item.dateExpires instanceof Date) || !(item.dateExpires.getTime() < now - 1000));
}

/**
 * The claim the legacy map holds for this key, unless it is `free` (nothing
 * was placed: the key's shard takes it); `undefined` when there is none.
 * Throws when Sync could not tell: the caller answers 503, as for any claim
 * Sync could not check.
 */
export async function legacyClaim(
  itemKey: string,
  withinMs: number,
  sync: Sync,
  maps: (client: TwilioSync) => SyncMaps,
): Promise<{ data: unknown; revision: string } | undefined> {
  const started = Date.now();
  const left = () => withinMs - (Date.now() - started);
  if (look.state === 'empty') return undefined;
  if (look.state === 'unknown' || Date.now() - look.at >= LEGACY_RELIST_MS) {
    const claims = await sync(left(), async (client) => {
      try {
        return holdsClaims(await maps(client)(LEGACY_IDEMPOTENCY_MAP).syncMapItems.list({ limit: LOOK_LIMIT }), Date.now());
      } catch (error) {
        if (noMap(error)) return false;
        throw error;
      }
    });
    look = claims ? { state: 'claims', at: Date.now() } : { state: 'empty' };
    if (!claims) return undefined;
  }
  try {
    const found = await sync(left(), (client) => maps(client)(LEGACY_IDEMPOTENCY_MAP).syncMapItems(itemKey).fetch());
    const state = (found.data as { state?: unknown } | null)?.state;
    return state === 'free' ? undefined : { data: found.data, revision: String(found.revision) };
  } catch (error) {
    // 54201: never claimed there, or expired. 54200: the map itself is gone (deleted since the look).
    if (code(error) === 54200) look = { state: 'empty' };
    if (code(error) === 54201 || noMap(error)) return undefined;
    throw error;
  }
}
