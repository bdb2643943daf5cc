/**
 * LiveKit API tokens, signed by the SDK's AccessToken and reused while they
 * have more than half their life left: signing is cheap but not free, and a
 * warm container serves many calls within one token's lifetime.
 */
import { AccessToken, type VideoGrant } from 'livekit-server-sdk';

const TTL_SECONDS = 600;
const REUSE_SECONDS = TTL_SECONDS / 2;

const cache = new Map<string, { token: string; reuseUntil: number }>();

export async function apiToken(apiKey: string, apiSecret: string, grant: VideoGrant, now: number = Date.now()): Promise<string> {
  const key = `${apiKey}\n${apiSecret}\n${JSON.stringify(grant)}`;
  const hit = cache.get(key);
  if (hit && hit.reuseUntil > now) return hit.token;
  const accessToken = new AccessToken(apiKey, apiSecret, { ttl: TTL_SECONDS });
  accessToken.addGrant(grant);
  const token = await accessToken.toJwt();
  // A handful of keys at most; the bound only guards against misuse.
  if (cache.size > 16) cache.clear();
  cache.set(key, { token, reuseUntil: now + REUSE_SECONDS * 1000 });
  return token;
}
