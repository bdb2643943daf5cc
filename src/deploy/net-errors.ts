/**
 * Why a request got no answer, in words a person can act on: the cause read
 * from the error chain (DNS, refused, TLS, timeout, reset), the host, and the
 * next step. fetch reports all of these as `TypeError: fetch failed` and
 * axios (the twilio helper) as a bare code, so the tools would otherwise say
 * "TypeError" or nothing. Shared by every tool that reaches the network:
 * npm run ring and npm run call (./signed-post), the doctor's live checks
 * (./doctor-live), and any other tool's unexpected error (./cli).
 */

export type NetworkFailureKind =
  /** The name does not exist (ENOTFOUND). */
  | 'dns'
  /** The lookup failed for now (EAI_AGAIN): no network, or the resolver is down. */
  | 'dns-temporary'
  | 'refused'
  | 'unreachable'
  /** The server's certificate was not accepted. */
  | 'tls'
  /** https:// (or wss://) to something that does not speak TLS there. */
  | 'not-tls'
  | 'timeout'
  /** The connection was closed or reset before an answer. */
  | 'reset'
  | 'bad-url'
  | 'other';

export interface NetworkFailure {
  kind: NetworkFailureKind;
  /** The code that told (ENOTFOUND, DEPTH_ZERO_SELF_SIGNED_CERT, …); '' when none did. */
  code: string;
  /** The message of the error that told, or the innermost one. */
  message: string;
  /** The address the error names (127.0.0.1:3000), or '' when it names none. */
  peer: string;
  /** The host name the error names (a DNS failure's), or ''. */
  hostname: string;
  /** The URL the error names (axios's config.url), or ''. */
  url: string;
}

export interface NetworkTarget {
  /** What was called; its host is named in the message. */
  url?: string;
  /** Who was called, to start the message: "LiveKit could not be reached". Without it: "could not reach URL". */
  what?: string;
  /** Where the address came from, for the next step: "LIVEKIT_URL in .env", "--url". */
  setting?: string;
  /** The request's deadline, for a timeout's message. */
  timeoutMs?: number;
  /** Next steps that replace the defaults, by kind. */
  next?: Partial<Record<NetworkFailureKind, string>>;
}

/** A network failure already described (by {@link describeNetworkError}): its message is the whole story. */
export class NetworkError extends Error {
  override name = 'NetworkError';
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  cause?: unknown;
  errors?: unknown;
  config?: { url?: unknown };
}

const DNS = new Set(['ENOTFOUND']);
const DNS_TEMPORARY = new Set(['EAI_AGAIN', 'EAI_FAIL', 'ESERVFAIL', 'ETIMEOUT']);
const REFUSED = new Set(['ECONNREFUSED']);
const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);
const TIMEOUT = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);
/** OpenSSL's verification codes, as Node reports them, and Node's own host name check. */
const CERTIFICATE =
  /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT(_LOCALLY)?|GET_CRL|DECRYPT_CERT_SIGNATURE|DECODE_ISSUER_PUBLIC_KEY)|CERT_[A-Z_]+|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH|INVALID_CA|PATH_LENGTH_EXCEEDED|INVALID_PURPOSE)$/;
const NOT_TLS = /^(ERR_SSL_WRONG_VERSION_NUMBER|ERR_SSL_PACKET_LENGTH_TOO_LONG|ERR_SSL_HTTP_REQUEST|EPROTO)$/;

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** The errors of a chain, outermost first: each `cause`, and an AggregateError's `errors`. */
function chainOf(error: unknown): ErrorLike[] {
  const seen: ErrorLike[] = [];
  const visit = (e: unknown, depth: number) => {
    if (!e || typeof e !== 'object' || depth > 6 || seen.includes(e as ErrorLike)) return;
    seen.push(e as ErrorLike);
    const like = e as ErrorLike;
    if (Array.isArray(like.errors)) for (const inner of like.errors) visit(inner, depth + 1);
    visit(like.cause, depth + 1);
  };
  visit(error, 0);
  return seen;
}

function kindOf(e: ErrorLike): NetworkFailureKind | undefined {
  const code = str(e.code);
  const message = str(e.message);
  if (e.name === 'TimeoutError') return 'timeout';
  if (!code) return undefined;
  if (code === 'ERR_INVALID_URL') return 'bad-url';
  if (DNS.has(code)) return 'dns';
  if (DNS_TEMPORARY.has(code)) return 'dns-temporary';
  if (REFUSED.has(code)) return 'refused';
  if (UNREACHABLE.has(code)) return 'unreachable';
  if (TIMEOUT.has(code)) return 'timeout';
  // axios: a timeout is ECONNABORTED "timeout of 5000ms exceeded".
  if (code === 'ECONNABORTED' && /timeout/i.test(message)) return 'timeout';
  if (CERTIFICATE.test(code)) return 'tls';
  if (NOT_TLS.test(code)) return 'not-tls';
  // https:// to a plain server that hangs up on the handshake.
  if (code === 'ECONNRESET' && /TLS|secure/i.test(message)) return 'not-tls';
  if (RESET.has(code)) return 'reset';
  return undefined;
}

/** What the error chain says went wrong. */
export function classifyNetworkError(error: unknown): NetworkFailure {
  const chain = chainOf(error);
  // The innermost telling error is the most precise (axios copies the code, not the details).
  let found: { e: ErrorLike; kind: NetworkFailureKind } | undefined;
  for (const e of chain) {
    const kind = kindOf(e);
    if (kind) found = { e, kind };
  }
  const innermost = chain[chain.length - 1] ?? {};
  const from = found?.e ?? innermost;
  const peerOf = (e: ErrorLike) => (str(e.address) ? `${str(e.address)}${str(e.port) ? `:${str(e.port)}` : ''}` : '');
  return {
    kind: found?.kind ?? 'other',
    code: typeof from.code === 'string' ? from.code : '',
    message: str(from.message) || String(error),
    peer: chain.map(peerOf).find(Boolean) ?? '',
    hostname: chain.map((e) => str(e.hostname)).find(Boolean) ?? '',
    url: chain.map((e) => str(e.config?.url)).find(Boolean) ?? '',
  };
}

/** Whether the error is one of the network failures this module can name. */
export function isNetworkError(error: unknown): boolean {
  const kind = classifyNetworkError(error).kind;
  return kind !== 'other' && kind !== 'bad-url';
}

function parsed(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'ws:': '80', 'https:': '443', 'wss:': '443' };

/**
 * One line: what could not be reached, the cause with the host and the code,
 * and the next step. "LiveKit could not be reached: DNS (ENOTFOUND): no
 * address for x.invalid; check the host name in LIVEKIT_URL".
 */
export function describeNetworkError(error: unknown, target: NetworkTarget = {}): string {
  const failure = classifyNetworkError(error);
  const url = target.url ?? failure.url;
  const called = parsed(url);
  const host = called?.host || failure.hostname || failure.peer || 'the server';
  const name = called?.hostname || failure.hostname || host;
  const where = target.setting ? ` in ${target.setting}` : '';
  const code = failure.code ? ` (${failure.code})` : '';
  // The address the error names, when it says more than the host: localhost's, or a proxy's (another port).
  const port = called ? called.port || DEFAULT_PORTS[called.protocol] : '';
  const proxy = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].find((v) => process.env[v]);
  const at =
    !failure.peer || failure.peer === host
      ? host
      : port && proxy && !failure.peer.endsWith(`:${port}`)
        ? `${failure.peer}, the proxy in ${proxy}, on the way to ${host}`
        : `${host} (${failure.peer})`;
  const timeoutMs = target.timeoutMs ?? Number(/timeout of (\d+)ms/.exec(failure.message)?.[1] ?? NaN);
  const within = Number.isFinite(timeoutMs) ? ` within ${timeoutMs >= 1000 ? `${timeoutMs / 1000} s` : `${timeoutMs} ms`}` : '';

  let cause: string;
  let next: string;
  switch (failure.kind) {
    case 'dns':
      cause = `DNS${code}: no address for ${name}`;
      next = `check the host name${where}`;
      break;
    case 'dns-temporary':
      cause = `DNS${code}: the lookup of ${name} failed for now`;
      next = "check this machine's network connection and DNS, then try again";
      break;
    case 'refused':
      cause = `connection refused${code}: nothing is listening on ${at}`;
      next = `check the address and port${where}, and that the server is running`;
      break;
    case 'unreachable':
      cause = `no network route${code} to ${at}`;
      next = "check this machine's network connection, VPN or firewall";
      break;
    case 'tls':
      cause = `TLS${code}: the certificate of ${host} was not accepted: ${failure.message}`;
      next =
        failure.code === 'ERR_TLS_CERT_ALTNAME_INVALID'
          ? `the certificate is for another name: check the host${where}`
          : `check the address${where}; if a proxy or antivirus on this network inspects https, trust its CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem`;
      break;
    case 'not-tls':
      cause = `TLS${code}: ${host} does not answer https there (${failure.message})`;
      next = `check the address${where}: https:// and wss:// need an https server; a plain local one takes http://`;
      break;
    case 'timeout':
      cause = `timeout: no answer from ${at}${within}`;
      next = `the host may be down, or a firewall dropping the traffic; check the address${where} and try again`;
      break;
    case 'reset':
      cause = `connection reset${code}: ${at} closed the connection before answering`;
      next = 'try again; if it keeps happening, a proxy, VPN or firewall on the way may be cutting the connection';
      break;
    case 'bad-url':
      cause = `${url || 'the address'} is not a URL`;
      next = `give the whole address${where}, such as https://example.com/path`;
      break;
    default:
      cause = `${failure.message}${code}`;
      next = `check the address${where} and this machine's network connection`;
  }
  next = target.next?.[failure.kind] ?? next;
  const subject = target.what ? `${target.what} could not be reached` : `could not reach ${url || host}`;
  return `${subject}: ${cause}; ${next}`;
}
