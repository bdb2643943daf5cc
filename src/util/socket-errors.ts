/**
 * Whether a request failed before any connection existed: the name did not
 * resolve, or the connection was refused or unroutable while connecting.
 * Only then can nothing of it have been sent. The same codes can come on a
 * socket already in use (a reused keep-alive connection), after the request
 * was written, so the system call must be the connect or the lookup.
 */
const CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const BEFORE_SENDING = new Set(['connect', 'getaddrinfo', 'queryA', 'queryAaaa']);

interface SocketError {
  code?: unknown;
  syscall?: unknown;
  cause?: SocketError;
}

export function neverConnected(error: unknown): boolean {
  // node:http puts the socket error on the error; fetch and axios on its cause.
  for (let e = error as SocketError | undefined, depth = 0; e && depth < 3; e = e.cause, depth += 1) {
    // A wrapper may copy the code but not the system call: the error it wraps says.
    if (typeof e.code === 'string' && CODES.has(e.code) && typeof e.syscall === 'string') return BEFORE_SENDING.has(e.syscall);
  }
  return false;
}
