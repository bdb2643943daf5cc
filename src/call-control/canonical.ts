/**
 * The signed form of a call-control request. The token's `sha256` claim is
 * the base64 (standard alphabet, padded) SHA-256 of the UTF-8 bytes of:
 *
 * - the request's members as sent (a `null` value included as `null`),
 *   sorted by name in ascending ASCII order at every level; names are ASCII
 *   (./request refuses any other before this is computed);
 * - no whitespace outside strings: `{"action":"transfer","target":"billing"}`;
 * - strings escaped as ECMAScript's JSON.stringify does: `"` `\` as `\"` `\\`,
 *   U+0008/0009/000A/000C/000D as `\b` `\t` `\n` `\f` `\r`, other U+0000-001F
 *   as `\u00xx` in lowercase hex, every other character as itself (non-ASCII,
 *   U+2028 and astral characters unescaped). Values are strings, `null`, or
 *   for `fields` an object of strings; lone surrogates are refused.
 *
 * Python's `json.dumps(body, sort_keys=True, separators=(",", ":"),
 * ensure_ascii=False)` writes the same text. The clients in clients/ send it
 * as the body; the server computes it again from the parsed body.
 */
import { createHash } from 'node:crypto';

/** Only called on a request that passed ./request: strings, null, and one level of object. */
function sorted(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((key) => [key, sorted(record[key])]),
  );
}

export function canonicalJson(params: Record<string, unknown>): string {
  return JSON.stringify(sorted(params));
}

export function digestOf(params: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(params)).digest('base64');
}

/** The request's parameters as the runtime gives them: `event` without its `request`. */
export function paramsOf(event: Record<string, unknown>): Record<string, unknown> {
  const { request: _request, ...params } = event;
  return params;
}

/** The digest of an event's parameters. */
export function requestDigest(event: Record<string, unknown>): string {
  return digestOf(paramsOf(event));
}
