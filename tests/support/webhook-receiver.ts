/**
 * A loopback webhook receiver: records every request it is sent (method,
 * path, headers, the raw body as bytes, when it arrived) and answers as told:
 * 200 by default, a status for the next few requests (`failNext`), or
 * nothing at all (`hang`), which leaves the request open until the sender
 * gives up or the receiver stops.
 */
import http from 'node:http';
import { LoopbackServer } from './loopback-server';

export interface ReceivedRequest {
  method: string;
  /** The path and query, as the request line had it. */
  url: string;
  /** Header names in lower case, as node gives them. */
  headers: http.IncomingHttpHeaders;
  /** The body exactly as it arrived. */
  raw: Buffer;
  /** Date.now() when the request line arrived (before its body was read). */
  at: number;
}

export class WebhookReceiver extends LoopbackServer {
  readonly received: ReceivedRequest[] = [];
  /** Statuses for the next requests, one used by each; after them, `status`. */
  private queued: number[] = [];
  /** What every request is answered once `queued` is used up. */
  status = 200;
  /** Leave every request unanswered. */
  hang = false;
  private waiters: { count: number; resolve: () => void }[] = [];

  async start(): Promise<this> {
    await this.listen();
    return this;
  }

  /** Where the sender should post: this server, with a path so a test can tell it apart. */
  get url(): string {
    return `${this.origin}/hooks/summary`;
  }

  /** Answers the next `n` requests with `status`, then goes back to the default. */
  failNext(n: number, status = 500): void {
    this.queued.push(...Array.from({ length: n }, () => status));
  }

  /** Resolves once `count` requests in all have arrived (their bodies read), or rejects after `withinMs`. */
  async waitFor(count: number, withinMs = 5000): Promise<void> {
    if (this.received.length >= count) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`webhook receiver: ${this.received.length} of ${count} requests`)), withinMs);
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** The bodies received, parsed as JSON. */
  bodies(): Record<string, unknown>[] {
    return this.received.map((r) => JSON.parse(r.raw.toString('utf8')) as Record<string, unknown>);
  }

  reset(): void {
    this.received.length = 0;
    this.queued = [];
    this.status = 200;
    this.hang = false;
    this.waiters = [];
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const at = Date.now();
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      // The sender gave up while sending: what arrived is still recorded.
    }
    this.received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw: Buffer.concat(chunks), at });
    for (const waiter of this.waiters.filter((w) => this.received.length >= w.count)) waiter.resolve();
    this.waiters = this.waiters.filter((w) => this.received.length < w.count);
    if (this.hang) return;
    const status = this.queued.shift() ?? this.status;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ received: status >= 200 && status < 300 }));
  }
}

/** A receiver for a whole suite: started before its first test, emptied before each, stopped after the last. */
export function useWebhookReceiver(): WebhookReceiver {
  const receiver = new WebhookReceiver();
  beforeAll(async () => {
    await receiver.start();
  });
  afterAll(() => receiver.stop());
  beforeEach(() => receiver.reset());
  return receiver;
}
