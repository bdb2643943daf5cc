/** What a function answers, independent of the runtime's Response class. */
export interface HttpReply {
  status: number;
  contentType: 'text/xml' | 'application/json' | 'text/plain';
  /** Text, or for JSON the value itself: the runtime serialises it (a string would be encoded twice). */
  body: string | object;
  /** Headers besides Content-Type, such as Retry-After. */
  headers?: Record<string, string>;
}

export function xmlReply(body: string): HttpReply {
  return { status: 200, contentType: 'text/xml', body };
}

export function textReply(status: number, body: string): HttpReply {
  return { status, contentType: 'text/plain', body };
}

/** JSON error body shared by the API functions: `{ error: { code, message, field? } }`. */
export interface ApiError {
  code: string;
  message: string;
  field?: string;
  /** Twilio's error code, when Twilio refused. */
  twilioCode?: number;
  moreInfo?: string;
  /** Set when the Twilio call may exist although the request failed (Twilio did not answer in time). */
  callMayExist?: boolean;
  /** call-control's target-unknown: the names that do exist, so an agent can choose again. */
  targets?: string[];
}

export function jsonReply(status: number, body: object): HttpReply {
  return { status, contentType: 'application/json', body: body as object };
}

export function errorReply(status: number, error: ApiError): HttpReply {
  return jsonReply(status, { error });
}

/**
 * A refusal that is worth retrying (429 rate limited, 503 unavailable):
 * nothing was done, and Retry-After says when to come back, in whole
 * seconds (at least 1), from the far end's own Retry-After when it gave one.
 */
export function retryLaterReply(status: 429 | 503, error: ApiError, retryAfterMs?: number): HttpReply {
  const seconds = Math.max(1, Math.ceil((retryAfterMs ?? 1000) / 1000));
  return { ...errorReply(status, error), headers: { 'Retry-After': String(seconds) } };
}

/** The answer of an API function whose configuration is broken; `detail` names variables, never values. */
export function misconfigured(detail: string): { reply: HttpReply; message: string } {
  const message = `The service is misconfigured: ${detail}`;
  return { reply: errorReply(500, { code: 'configuration', message }), message };
}
