/**
 * Who may act on a call: the holder of a LiveKit access token minted with
 * the project's API key and secret, the way agents already mint tokens.
 * Verified with livekit-server-sdk's TokenVerifier (HS256, issuer = the API
 * key, `exp` required), then held to these rules:
 *
 * - short-lived: valid for at most {@link MAX_TOKEN_SECONDS} from `nbf`;
 * - a video grant with `roomAdmin` for exactly one `room`: the room whose
 *   call it controls;
 * - a `sha256` claim, which the caller compares with the digest of this very
 *   request (./canonical) once the request's shape is known good, so the
 *   token authorises one action and a captured request cannot be altered.
 *   Replaying it unchanged within its minutes repeats an action that is
 *   idempotent or refused the second time (see docs/call-control.md).
 */
import { TokenVerifier } from 'livekit-server-sdk';
import type { ApiError } from '../twilio/reply';
import { digestOf } from './canonical';

export const MAX_TOKEN_SECONDS = 300;

export type TokenCheck = { ok: true; room: string; sha256: string } | { ok: false; status: 401 | 403; error: ApiError };

const refuse = (status: 401 | 403, code: string, message: string): TokenCheck => ({ ok: false, status, error: { code, message } });

/** The bearer token of the `authorization` header, or undefined. */
export function bearerToken(event: Record<string, unknown>): string | undefined {
  const headers = (event.request as { headers?: Record<string, unknown> } | undefined)?.headers;
  const value = headers?.authorization;
  const header = Array.isArray(value) ? value[0] : value;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}

export async function checkControlToken(token: string | undefined, apiKey: string, apiSecret: string): Promise<TokenCheck> {
  if (!token) return refuse(401, 'token-required', 'Send a LiveKit access token as "Authorization: Bearer <token>"');
  let claims: Awaited<ReturnType<TokenVerifier['verify']>>;
  try {
    claims = await new TokenVerifier(apiKey, apiSecret).verify(token, 5);
  } catch {
    return refuse(401, 'token-invalid', 'The token is not valid: not signed with this LiveKit API key and secret, expired, or malformed');
  }
  const start = typeof claims.nbf === 'number' ? claims.nbf : claims.iat;
  if (typeof start !== 'number' || typeof claims.exp !== 'number' || claims.exp - start > MAX_TOKEN_SECONDS) {
    return refuse(
      401,
      'token-too-long-lived',
      `The token must say when it starts (nbf) and be valid for at most ${MAX_TOKEN_SECONDS} seconds`,
    );
  }
  const video = claims.video;
  if (!video?.roomAdmin || typeof video.room !== 'string' || !video.room) {
    return refuse(403, 'token-grant', 'The token needs a video grant with roomAdmin for the one room whose call it controls');
  }
  return { ok: true, room: video.room, sha256: typeof claims.sha256 === 'string' ? claims.sha256 : '' };
}

/** The token's `sha256` claim against this request; a refusal when they differ. */
export function unsignedRequest(sha256: string, params: Record<string, unknown>): ApiError | undefined {
  if (sha256 && sha256 === digestOf(params)) return undefined;
  return {
    code: 'request-not-signed',
    message: "The token's sha256 claim must be the base64 SHA-256 of this request's canonical JSON (see docs/call-control.md)",
  };
}
