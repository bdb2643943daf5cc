/**
 * What a campaign needs around the real `outbound` handler:
 * - the Twilio REST stand-in, answering also the account's call list
 *   (`GET /2010-04-01/Accounts/{AC}/Calls.json`, filtered by To, From,
 *   Status and StartTime>), and playing each placed call to an end (its
 *   `lifecycle`), so a call fetch sees it ring, then complete, or be busy;
 * - the service itself, in process (the handler invoked as twilio-run
 *   would, signed) or behind a loopback HTTP server, which is what
 *   `npm start` is to the campaign.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import twilio from 'twilio';
import type { Answer } from '../../src/deploy/signed-post';
import { handler as outboundHandler } from '../../src/functions/outbound.protected';
import { liveKitEnv } from './fixtures';
import { invoke, localContext, signedEvent } from './runtime';
import { TwilioStandIn } from './twilio-stand-in';

export interface CallEnding {
  /** The final status: completed, busy, no-answer, failed, canceled. */
  status: string;
  /** Milliseconds after the call was created (on the stand-in's `now`) that it reaches it. */
  afterMs: number;
}

/** An RFC 2822 date, as the Call resource writes date_created and start_time. */
function rfc2822(at: number): string {
  return new Date(at).toUTCString().replace('GMT', '+0000');
}

export class CampaignTwilioStandIn extends TwilioStandIn {
  /** When each call was created, on `now`. */
  readonly createdAt = new Map<string, number>();
  /** Each call list request's query, in order. */
  readonly listQueries: Record<string, string>[] = [];
  /** Call fetches answered. */
  fetches = 0;
  /** The clock calls are created and played on. */
  now: () => number = Date.now;
  /** How each call ends, from its To and how many calls that number has had before it (0 for the first). */
  lifecycle: ((to: string, earlier: number) => CallEnding | undefined) | undefined;
  private readonly endings = new Map<string, CallEnding>();

  override reset(): void {
    super.reset();
    this.createdAt.clear();
    this.endings.clear();
    this.listQueries.length = 0;
    this.fetches = 0;
    this.lifecycle = undefined;
  }

  /** Calls placed to `to`, in order. */
  callsTo(to: string): string[] {
    return this.calls.filter((c) => c.params.To === to).map((c) => c.sid);
  }

  /** Moves a call on to where its lifecycle has it by now. */
  private advance(sid: string): void {
    const ending = this.endings.get(sid);
    const created = this.createdAt.get(sid);
    const status = this.callStatus.get(sid);
    if (!ending || created === undefined || !status || !['queued', 'ringing', 'in-progress'].includes(status)) return;
    const age = this.now() - created;
    if (age >= ending.afterMs) this.callStatus.set(sid, ending.status);
    else if (age >= ending.afterMs / 2) this.callStatus.set(sid, ending.status === 'completed' ? 'in-progress' : 'ringing');
  }

  protected override async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const expectedAuth = 'Basic ' + Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64');
    const list = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Calls\.json$/.exec(url.pathname);
    if (list && req.method === 'GET') {
      if (req.headers.authorization !== expectedAuth || list[1] !== this.accountSid) {
        res.writeHead(401, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ code: 20003, message: 'Authenticate', status: 401 }));
      }
      return this.listCalls(res, url);
    }
    const one = /^\/2010-04-01\/Accounts\/AC[0-9a-f]{32}\/Calls\/(CA[0-9a-f]{32})\.json$/.exec(url.pathname);
    if (one && req.method === 'GET') {
      this.fetches += 1;
      this.advance(one[1]!);
    }
    const before = this.calls.length;
    await super.handle(req, res);
    for (const call of this.calls.slice(before)) {
      if (this.createdAt.has(call.sid)) continue;
      this.createdAt.set(call.sid, this.now());
      // Recorded but unanswered (hang) or answered with an error after the fact: the call exists all the same.
      if (!this.callStatus.has(call.sid)) this.callStatus.set(call.sid, 'queued');
      const to = String(call.params.To);
      const ending = this.lifecycle?.(to, this.callsTo(to).indexOf(call.sid));
      if (ending) this.endings.set(call.sid, ending);
    }
  }

  /**
   * ListCall (twilio-oai twilio_api_v2010.json): To, From and Status match
   * exactly; `StartTime>` keeps calls started on or after it. Twilio
   * documents it as a date, YYYY-MM-DD (UTC); the twilio helper sends a full
   * time, which is honoured as given. A queued call has not started: no
   * start_time, so a StartTime filter leaves it out. Newest first, one page.
   */
  private listCalls(res: http.ServerResponse, url: URL): void {
    const q = Object.fromEntries(url.searchParams);
    this.listQueries.push(q);
    const after = q['StartTime>'] ? Date.parse(q['StartTime>']) : undefined;
    const limit = Math.min(1000, Number(q.PageSize ?? 50) || 50);
    const page = this.calls
      .filter((c) => this.createdAt.has(c.sid))
      .map((c) => {
        this.advance(c.sid);
        const status = this.callStatus.get(c.sid) ?? 'queued';
        const created = this.createdAt.get(c.sid)!;
        return { c, status, created, started: status === 'queued' ? null : created };
      })
      .filter(({ c, status, started }) => {
        if (q.To && c.params.To !== q.To) return false;
        if (q.From && c.params.From !== q.From) return false;
        if (q.Status && status !== q.Status) return false;
        if (after !== undefined && (started === null || started < after)) return false;
        return true;
      })
      .sort((a, b) => b.created - a.created)
      .slice(0, limit)
      .map(({ c, status, created, started }) => ({
        sid: c.sid,
        account_sid: this.accountSid,
        to: c.params.To,
        from: c.params.From,
        status,
        direction: 'outbound-api',
        date_created: rfc2822(created),
        start_time: started === null ? null : rfc2822(started),
        uri: `/2010-04-01/Accounts/${this.accountSid}/Calls/${c.sid}.json`,
      }));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        calls: page,
        first_page_uri: url.pathname,
        next_page_uri: null,
        previous_page_uri: null,
        page: 0,
        page_size: limit,
        start: 0,
        end: Math.max(0, page.length - 1),
        uri: `${url.pathname}${url.search}`,
      }),
    );
  }
}

export interface Stands {
  liveKit: { url: string };
  twilioApi: TwilioStandIn;
}

/** The service's environment in these suites: one caller ID, one agent, US destinations. */
export function serviceEnv(stands: Stands, extra: Record<string, string> = {}): Record<string, string> {
  return liveKitEnv(stands.liveKit, { AGENT_NAMES: 'outbound-agent', OUTBOUND_CALLER_IDS: '+14155550100', ...extra });
}

/** The `outbound` handler called in process, signed as Twilio signs: what the campaign's POST would get. */
export function inProcessOutbound(stands: Stands, extra: Record<string, string> = {}): (params: Record<string, string>) => Promise<Answer> {
  const env = serviceEnv(stands, extra);
  return async (params) => {
    const context = localContext(env, '/outbound', 3000, (options) => stands.twilioApi.client(options?.timeout));
    const reply = await invoke(outboundHandler, context, signedEvent(context, params));
    const headers: Record<string, string> = {};
    if (reply.retryAfter !== undefined) headers['retry-after'] = reply.retryAfter;
    return { status: reply.status, contentType: reply.contentType, body: reply.body, headers };
  };
}

/**
 * The handler behind a loopback HTTP server, as `npm start` serves it: a
 * form POST to /outbound, the signature checked against
 * http://127.0.0.1:<port>/outbound. `invocations` counts the handler's runs.
 */
export class OutboundServer {
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  invocations = 0;

  constructor(
    private readonly stands: Stands,
    private readonly extra: Record<string, string> = {},
  ) {
    this.server = http.createServer((req, res) => void this.serve(req, res));
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/outbound`;
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/outbound') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return void res.end('not found');
    }
    this.invocations += 1;
    const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const port = (this.server.address() as AddressInfo).port;
    const env = serviceEnv(this.stands, { DOMAIN_NAME: `127.0.0.1:${port}`, ...this.extra });
    const context = localContext(env, '/outbound', port, (options) => this.stands.twilioApi.client(options?.timeout));
    const event = { ...params, request: { headers: { ...req.headers }, cookies: {} } };
    const reply = await invoke(outboundHandler, context, event);
    res.writeHead(reply.status, {
      'content-type': reply.contentType,
      ...(reply.retryAfter === undefined ? {} : { 'retry-after': reply.retryAfter }),
    });
    res.end(reply.body);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A twilio client for the campaign's own reads (call fetches, the call list), reaching the stand-in. */
export function campaignTwilioClient(stand: TwilioStandIn) {
  return twilio(stand.accountSid, stand.authToken, { httpClient: stand.httpClient(5000) });
}
