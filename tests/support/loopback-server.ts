/**
 * The HTTP server under every stand-in: listens on 127.0.0.1 on a free port,
 * keeps its sockets so that stop() ends kept-alive connections at once, and
 * can act as an HTTPS proxy for real host names (see ./tls).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { serveAsProxy } from './tls';

export abstract class LoopbackServer {
  protected readonly server: http.Server;
  protected readonly sockets = new Set<Socket>();
  /** The CA a child process must trust to reach this server as a proxy, once `proxyFor` ran. */
  protected caFile = '';

  constructor() {
    this.server = http.createServer((req, res) => this.listener(req, res));
    this.server.on('connection', (socket: Socket) => this.track(socket));
  }

  /** Answers one request. */
  protected abstract handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;

  /** What the server does with a request before `handle`; a stand-in may step in here. */
  protected listener(req: http.IncomingMessage, res: http.ServerResponse): void {
    void this.handle(req, res);
  }

  protected track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }

  /** Makes CONNECTs to `hosts` reach `handle` over TLS. */
  protected proxyFor(hosts: readonly string[]): void {
    this.caFile = serveAsProxy(
      this.server,
      hosts,
      (req, res) => void this.handle(req, res),
      (s) => this.track(s),
    ).caFile;
  }

  protected async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Environment for a child process whose HTTPS requests to the proxied hosts should come here. */
  proxyEnv(): Record<string, string> {
    return { HTTP_PROXY: this.origin, NODE_EXTRA_CA_CERTS: this.caFile };
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
