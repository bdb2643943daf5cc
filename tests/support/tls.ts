/**
 * Lets a child process's HTTPS clients reach a loopback stand-in as if it
 * were Twilio: the stand-in answers `CONNECT host:443` (the process is given
 * HTTP_PROXY) and terminates TLS with a certificate for the real host names,
 * signed by a throwaway CA the process trusts through NODE_EXTRA_CA_CERTS.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Tls {
  key: Buffer;
  cert: Buffer;
  caFile: string;
}

/** A throwaway CA and a certificate for `hosts` signed by it (openssl). */
export function makeCertificate(hosts: readonly string[]): Tls {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stand-in-tls-'));
  const f = (name: string) => path.join(dir, name);
  const run = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=stand-in test CA',
  );
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('key.pem'), '-out', f('req.csr'), '-subj', `/CN=${hosts[0]}`);
  writeFileSync(f('ext.cnf'), `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}\n`);
  run(
    'x509',
    '-req',
    '-in',
    f('req.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('cert.pem'),
    '-days',
    '1',
    '-extfile',
    f('ext.cnf'),
  );
  return { key: readFileSync(f('key.pem')), cert: readFileSync(f('cert.pem')), caFile: f('ca.pem') };
}

/**
 * Makes `server` an HTTPS proxy for `hosts`: CONNECTs to them are answered by
 * `handler` over TLS; any other host is refused.
 */
export function serveAsProxy(
  server: http.Server,
  hosts: readonly string[],
  handler: http.RequestListener,
  track: (socket: Socket) => void,
): Tls {
  const tls = makeCertificate(hosts);
  const tlsServer = https.createServer({ key: tls.key, cert: tls.cert }, handler);
  server.on('connect', (req: http.IncomingMessage, socket: Socket) => {
    track(socket);
    const host = (req.url ?? '').replace(/:443$/, '');
    if (!hosts.includes(host)) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    tlsServer.emit('connection', socket);
  });
  return tls;
}
