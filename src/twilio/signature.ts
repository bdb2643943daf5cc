/**
 * X-Twilio-Signature checking for requests that reach a Function.
 *
 * Twilio signs the URL it called plus the POSTed parameters. A Function does
 * not see that URL, so it is rebuilt from the context (./public-url). A webhook configured with a query string
 * signs that query too; for a POST it cannot be told apart from the body in
 * `event`, which is why webhooks pointing here should carry no query string.
 */
import twilio from 'twilio';

export interface SignedRequest {
  /** The `x-twilio-signature` header; missing when absent. */
  signature: string | undefined;
  /** The URL Twilio called, without query string. */
  url: string;
  /** Request parameters (query and body), with the runtime's `request` removed. */
  params: Record<string, string | string[]>;
}

/**
 * `unsignable`: a field is an object (a JSON body's nested value), which a
 * form has no way to carry, so no X-Twilio-Signature over the parameters can
 * cover it. Twilio signs JSON bodies only through a bodySHA256 hash of the
 * raw body, which a Function never sees, so such a request is refused rather
 * than trusted with a field nobody signed.
 */
export type SignatureVerdict = 'valid' | 'missing' | 'invalid' | 'unsignable';

/** Parameters as Twilio signed them: `event` without the runtime's additions. */
/** The first field a form could not have carried, if any. */
export function unsignableField(event: Record<string, unknown>): string | undefined {
  const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  for (const [name, value] of Object.entries(event)) {
    if (name === 'request') continue;
    if (scalar(value)) continue;
    if (Array.isArray(value) && value.every(scalar)) continue;
    return name;
  }
  return undefined;
}

export function signedParams(event: Record<string, unknown>): Record<string, string | string[]> {
  const params: [string, string | string[]][] = [];
  for (const [name, value] of Object.entries(event)) {
    if (name === 'request') continue;
    if (typeof value === 'string') params.push([name, value]);
    else if (typeof value === 'number' || typeof value === 'boolean') params.push([name, String(value)]);
    // Repeated parameters (StatusCallbackEvent=a&StatusCallbackEvent=b) arrive as arrays.
    else if (Array.isArray(value)) params.push([name, value.map(String)]);
  }
  // fromEntries: a parameter named __proto__ stays a parameter (and in the signed text) instead of vanishing.
  return Object.fromEntries(params);
}

export function verifySignature(authToken: string, request: SignedRequest): SignatureVerdict {
  const signature = request.signature?.trim();
  if (!signature) return 'missing';
  if (!authToken) return 'invalid';
  // POST: URL plus sorted body parameters; the helper also tries the URL
  // with and without an explicit port.
  if (twilio.validateRequest(authToken, signature, request.url, request.params)) return 'valid';
  // GET: the parameters are the URL's query, in the order Twilio sent them,
  // which is the order the runtime parsed them into `event`.
  const pairs = Object.entries(request.params).flatMap(([name, value]) =>
    Array.isArray(value) ? value.map((v): [string, string] => [name, v]) : [[name, value] as [string, string]],
  );
  const query = new URLSearchParams(pairs).toString();
  const joined = `${request.url}${request.url.includes('?') ? '&' : '?'}${query}`;
  if (query && twilio.validateRequest(authToken, signature, joined, {})) return 'valid';
  return 'invalid';
}

/** Reads the signature header from the runtime's `event.request.headers`. */
export function signatureHeader(event: Record<string, unknown>): string | undefined {
  const request = event.request as { headers?: Record<string, unknown> } | undefined;
  const value = request?.headers?.['x-twilio-signature'];
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/**
 * Checks a request to this function. `queryNames` are parameters that may
 * have come in the URL's query string (a Studio redirect's FlowSid, the
 * status callback's room): Twilio signed them as part of the URL. The check
 * is tried with them in the query, then with every parameter in the body.
 */
export function verifyFunctionRequest(
  authToken: string,
  /** The URL Twilio called, without query string (./public-url). */
  base: string,
  event: Record<string, unknown>,
  queryNames: readonly string[] = [],
): SignatureVerdict {
  const signature = signatureHeader(event);
  if (unsignableField(event) !== undefined) return signature?.trim() ? 'unsignable' : 'missing';
  const params = signedParams(event);
  const query: [string, string][] = [];
  const bodyOnly = { ...params };
  for (const name of queryNames) {
    const value = bodyOnly[name];
    if (typeof value === 'string') query.push([name, value]);
    delete bodyOnly[name];
  }
  if (query.length) {
    const verdict = verifySignature(authToken, { signature, url: `${base}?${new URLSearchParams(query).toString()}`, params: bodyOnly });
    if (verdict !== 'invalid') return verdict;
  }
  return verifySignature(authToken, { signature, url: base, params });
}
