/**
 * Where an `IdempotencyKey`'s claim lives: one of {@link IDEMPOTENCY_SHARDS}
 * Sync Maps, chosen by the key alone, so every container of the service
 * looks for a key in the same map.
 *
 * Why more than one map: Sync allows "up to 20/s per object, burst window:
 * 10s" for writes and the same for reads, and "the limit applies at the top
 * level of each Document, Map, and List, e.g. updating any item in a Map
 * still counts towards the containing Map's write rate"
 * (https://www.twilio.com/docs/sync/limits); above it Sync answers 54009
 * (https://www.twilio.com/docs/api/errors/54009). A keyed call writes its
 * map three times (the claim's create, the fence, the outcome: ./once-per-key),
 * so one map holds 20 / 3 ≈ 6.6 keyed calls a second, and 16 maps about 106.
 * A Twilio account places 1 call per second unless its CPS is raised
 * (https://www.twilio.com/docs/glossary/cps), and calls requested faster are
 * queued by Twilio, not refused, so a dialer has no reason to send keyed
 * requests faster than its account's CPS: 16 maps are above any rate an
 * account is likely to have, and few enough to make before a campaign
 * (../outbound/idempotency ensureIdempotencyMaps). Spread by a hash, the
 * maps are not evenly loaded in every 10 s window: at 60 keyed calls a
 * second the busiest map stays under its limit; towards 100, one now and
 * then meets 54009 and its request is resent (../outbound/idempotency
 * resendSync).
 *
 * The number is part of where keys live: changing it moves most keys to
 * another map, so a key claimed just before the change would not be found
 * just after it. It is fixed here, not configurable.
 */
import { createHash } from 'node:crypto';

export const IDEMPOTENCY_SHARDS = 16;
export const IDEMPOTENCY_MAP_PREFIX = 'livekit-outbound-requests-';
/** The one map every claim was made in before the store was sharded (./legacy-claims). */
export const LEGACY_IDEMPOTENCY_MAP = 'livekit-outbound-requests';

/** The key's shard: SHA-256 of its UTF-8 bytes, read as one big-endian number, modulo {@link IDEMPOTENCY_SHARDS}. */
export function idempotencyShard(key: string): number {
  const digest = createHash('sha256').update(key, 'utf8').digest('hex');
  return Number(BigInt(`0x${digest}`) % BigInt(IDEMPOTENCY_SHARDS));
}

/** `livekit-outbound-requests-<n>`, n from 0 to {@link IDEMPOTENCY_SHARDS} - 1. */
export function idempotencyMapName(shard: number): string {
  return `${IDEMPOTENCY_MAP_PREFIX}${shard}`;
}

/** The map that holds the key's claim. */
export function idempotencyMapFor(key: string): string {
  return idempotencyMapName(idempotencyShard(key));
}

/** Every shard map, in order. */
export function idempotencyMapNames(): string[] {
  return Array.from({ length: IDEMPOTENCY_SHARDS }, (_, shard) => idempotencyMapName(shard));
}
