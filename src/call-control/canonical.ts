/**
 * The form of a call-control request that its token signs: the request's
 * parameters as JSON with keys sorted at every level and no spaces. The
 * token's `sha256` claim is the base64 SHA-256 of it, as in LiveKit's own
 * webhook tokens, so a captured request cannot be altered under its token.
 * The agent clients build the same text (clients/).
 */
import { createHash } from 'node:crypto';

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sorted((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

export function canonicalJson(params: Record<string, unknown>): string {
  return JSON.stringify(sorted(params));
}

/** The request's parameters as the runtime gives them (`event` without its `request`), digested. */
export function requestDigest(event: Record<string, unknown>): string {
  const { request: _request, ...params } = event;
  return createHash('sha256').update(canonicalJson(params)).digest('base64');
}
