/**
 * A loopback Twilio REST API for `POST /2010-04-01/Accounts/{Sid}/Calls.json`
 * that holds callers to Twilio's contract: Basic auth with the account's SID
 * and token, a form body with known parameters only, exactly one of Url /
 * Twiml, and answers shaped like Twilio's (201 with the call, or
 * `{code, message, more_info, status}`).
 *
 * Reached by the real `twilio` client either through `httpClient()` (the
 * documented custom-client hook) or, for a separate process, as an HTTPS
 * proxy target: `proxyEnv()` gives HTTP_PROXY and a CA so api.twilio.com is
 * answered here.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import twilio from 'twilio';
import { LoopbackServer } from './loopback-server';
import { SyncMaps } from './sync-stand-in';

/**
 * Twilio's REST rate limit: 429 with error 20429, "Requests that receive 429
 * responses aren't processed and are safe to retry"
 * (https://www.twilio.com/docs/api/errors/20429). Twilio documents no
 * Retry-After for it.
 */
export const TOO_MANY_REQUESTS = { status: 429, code: 20429, message: 'Too Many Requests' } as const;

export type TwilioBehaviour = { kind: 'ok' } | { kind: 'hang' } | { kind: 'error'; status: number; code: number; message: string };

export interface RecordedCall {
  accountSid: string;
  params: Record<string, string | string[]>;
  /** The SID it was given (answered, or lost with a hanging answer). */
  sid: string;
}

const CALL_PARAMS = new Set([
  'To',
  'From',
  'Url',
  'Twiml',
  'ApplicationSid',
  'Method',
  'FallbackUrl',
  'FallbackMethod',
  'StatusCallback',
  'StatusCallbackEvent',
  'StatusCallbackMethod',
  'SendDigits',
  'Timeout',
  'Record',
  'RecordingChannels',
  'RecordingStatusCallback',
  'MachineDetection',
  'MachineDetectionTimeout',
  'AsyncAmd',
  'AsyncAmdStatusCallback',
  'AsyncAmdStatusCallbackMethod',
  'TimeLimit',
  'CallerId',
  'Trim',
  // A forwarded call's token, from the incoming call's webhook (twilio-oai CreateCall CallToken).
  'CallToken',
]);

/** CreateCall's Twiml: "Max 4000 characters" (twilio-oai twilio_api_v2010.json, CreateCall). */
const MAX_TWIML = 4000;

export class TwilioStandIn extends LoopbackServer {
  readonly calls: RecordedCall[] = [];
  readonly refused: { reason: string }[] = [];
  behaviour: TwilioBehaviour = { kind: 'ok' };
  /** The account's phone numbers and where their voice webhooks point. */
  numbers: { phoneNumber: string; voiceUrl: string }[] = [];
  constructor(
    readonly accountSid: string,
    readonly authToken: string,
  ) {
    super();
  }

  async start(options: { tls?: boolean } = {}): Promise<this> {
    // HTTPS proxy: CONNECT api.twilio.com:443, then TLS terminated here.
    if (options.tls) this.proxyFor(['api.twilio.com', 'sync.twilio.com']);
    await this.listen();
    return this;
  }

  /** A real twilio RequestClient that sends api.twilio.com requests here instead. */
  httpClient(timeoutMs?: number): InstanceType<typeof twilio.RequestClient> {
    return loopbackHttpClient(this.origin, timeoutMs);
  }

  client(timeoutMs?: number) {
    return twilio(this.accountSid, this.authToken, { httpClient: this.httpClient(timeoutMs), timeout: timeoutMs });
  }

  /** Twilio Sync, on sync.twilio.com. */
  readonly sync = new SyncMaps();

  /** Each call's status: calls placed here start queued; a test puts an inbound call in with `setCallStatus`. */
  readonly callStatus = new Map<string, string>();
  /** Every accepted call update, in order. */
  readonly updates: { callSid: string; params: Record<string, string>; at: number }[] = [];
  /** Delay or hang call updates. */
  updateBehaviour: TwilioBehaviour = { kind: 'ok' };
  /** Refusals for the next call creates and updates, one used by each, before anything is done. */
  createFaults: { status: number; code: number; message: string }[] = [];
  updateFaults: { status: number; code: number; message: string }[] = [];
  /** Requests answered with one of those faults. */
  readonly faulted: { kind: 'create' | 'update'; code: number }[] = [];

  setCallStatus(callSid: string, status: string): void {
    this.callStatus.set(callSid, status);
  }

  /**
   * POST /Calls/{Sid}.json: new TwiML (`Twiml` or `Url`) for a live call, or
   * `Status=completed|canceled`. A call that has ended cannot be changed:
   * 21220 "Call is not in-progress" (https://www.twilio.com/docs/errors/21220).
   */
  private updateCall(res: http.ServerResponse, callSid: string, form: URLSearchParams): void {
    const known = new Set([
      'Url',
      'Method',
      'Twiml',
      'Status',
      'FallbackUrl',
      'FallbackMethod',
      'StatusCallback',
      'StatusCallbackMethod',
      'TimeLimit',
    ]);
    for (const key of form.keys()) if (!known.has(key)) return this.error(res, 400, 20001, `Unknown parameter ${key}`);
    const current = this.callStatus.get(callSid);
    if (!current) return this.error(res, 404, 20404, `The requested resource /Calls/${callSid}.json was not found`);
    const params = Object.fromEntries(form);
    const sources = ['Url', 'Twiml', 'Status'].filter((k) => k in params);
    if (sources.length !== 1) return this.error(res, 400, 21205, 'One of Url, Twiml or Status is required');
    if (params.Status && !['completed', 'canceled'].includes(params.Status))
      return this.error(res, 400, 20001, 'Status must be completed or canceled');
    const fault = this.updateFaults.shift();
    if (fault) {
      this.faulted.push({ kind: 'update', code: fault.code });
      return this.error(res, fault.status, fault.code, fault.message);
    }
    if (['completed', 'busy', 'failed', 'no-answer', 'canceled'].includes(current)) {
      return this.error(res, 400, 21220, 'Call is not in-progress. Cannot redirect.');
    }
    if (this.updateBehaviour.kind === 'hang') return;
    if (this.updateBehaviour.kind === 'error')
      return this.error(res, this.updateBehaviour.status, this.updateBehaviour.code, this.updateBehaviour.message);
    this.updates.push({ callSid, params, at: Date.now() });
    // `canceled` "will not affect calls already in progress"; `completed` hangs up in any state (Twilio, Modifying Live Calls).
    if (params.Status && !(params.Status === 'canceled' && current === 'in-progress')) this.callStatus.set(callSid, params.Status);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ sid: callSid, account_sid: this.accountSid, status: this.callStatus.get(callSid) }));
  }

  reset(): void {
    this.callStatus.clear();
    this.updates.length = 0;
    this.updateBehaviour = { kind: 'ok' };
    this.createFaults = [];
    this.updateFaults = [];
    this.faulted.length = 0;
    this.sync.reset();
    this.calls.length = 0;
    this.refused.length = 0;
    this.behaviour = { kind: 'ok' };
    this.numbers = [];
  }

  private error(res: http.ServerResponse, status: number, code: number, message: string): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }));
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const expectedAuth = 'Basic ' + Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64');
    const sync = /^\/v1\/Services\/([^/]+)\/(.*)$/.exec(req.url ?? '');
    if (sync) {
      if (req.headers.authorization !== expectedAuth) return this.error(res, 401, 20003, 'Authenticate');
      const ifMatch = req.headers['if-match'];
      const answer = this.sync.handle(
        req.method ?? 'GET',
        sync[2]!.split('/'),
        new URLSearchParams(Buffer.concat(chunks).toString('utf8')),
        typeof ifMatch === 'string' ? ifMatch : undefined,
      );
      if (!answer) return; // hanging
      if (this.sync.delayMs) await new Promise((r) => setTimeout(r, this.sync.delayMs));
      if (answer.error) return this.error(res, answer.status, answer.error.code, answer.error.message);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      return void res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
    }
    const read = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})(\/IncomingPhoneNumbers)?\.json(\?.*)?$/.exec(req.url ?? '');
    if (req.method === 'GET' && read) {
      if (req.headers.authorization !== expectedAuth || read[1] !== this.accountSid) {
        this.refused.push({ reason: 'authentication' });
        return this.error(res, 401, 20003, 'Authenticate');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      if (!read[2]) return void res.end(JSON.stringify({ sid: this.accountSid, friendly_name: 'Stand-in account', status: 'active' }));
      const page = this.numbers.map((n, i) => ({
        sid: 'PN' + i.toString(16).padStart(32, '0'),
        phone_number: n.phoneNumber,
        voice_url: n.voiceUrl,
      }));
      return void res.end(JSON.stringify({ incoming_phone_numbers: page, next_page_uri: null, page: 0, page_size: 1000, uri: req.url }));
    }
    const update = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Calls\/(CA[0-9a-f]{32})\.json$/.exec(req.url ?? '');
    if (update && req.method === 'POST') {
      if (req.headers.authorization !== expectedAuth || update[1] !== this.accountSid) return this.error(res, 401, 20003, 'Authenticate');
      return this.updateCall(res, update[2]!, new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    }
    const match = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Calls\.json$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) {
      this.refused.push({ reason: `no route ${req.method} ${req.url}` });
      return this.error(res, 404, 20404, 'The requested resource was not found');
    }
    if (req.headers.authorization !== expectedAuth || match[1] !== this.accountSid) {
      this.refused.push({ reason: 'authentication' });
      return this.error(res, 401, 20003, 'Authenticate');
    }
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      this.refused.push({ reason: 'content-type' });
      return this.error(res, 400, 20001, 'Expected a form body');
    }
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const params: Record<string, string | string[]> = {};
    for (const key of new Set(form.keys())) {
      if (!CALL_PARAMS.has(key)) {
        this.refused.push({ reason: `unknown parameter ${key}` });
        return this.error(res, 400, 20001, `Unknown parameter ${key}`);
      }
      const all = form.getAll(key);
      params[key] = key === 'StatusCallbackEvent' ? all : all[0]!;
    }
    const sources = ['Url', 'Twiml', 'ApplicationSid'].filter((k) => k in params);
    if (!params.To || !params.From || sources.length !== 1) {
      this.refused.push({ reason: 'To, From and one of Url/Twiml/ApplicationSid required' });
      return this.error(res, 400, 21205, 'Url parameter is required');
    }
    if (typeof params.Twiml === 'string' && params.Twiml.length > MAX_TWIML) {
      this.refused.push({ reason: 'Twiml too long' });
      // Which code Twilio answers is not documented; 20001 (invalid parameter) stands for it.
      return this.error(res, 400, 20001, `Twiml is longer than ${MAX_TWIML} characters`);
    }
    if (params.Url && !/^https?:\/\//.test(String(params.Url))) {
      this.refused.push({ reason: 'bad Url' });
      return this.error(res, 400, 21205, 'Url is not a valid URL');
    }
    const fault = this.createFaults.shift();
    if (fault) {
      this.faulted.push({ kind: 'create', code: fault.code });
      return this.error(res, fault.status, fault.code, fault.message);
    }
    const sid = 'CA' + randomBytes(16).toString('hex');
    this.calls.push({ accountSid: match[1]!, params, sid });
    const behaviour = this.behaviour;
    if (behaviour.kind === 'hang') return;
    if (behaviour.kind === 'error') return this.error(res, behaviour.status, behaviour.code, behaviour.message);
    this.callStatus.set(sid, 'queued');
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        sid,
        account_sid: this.accountSid,
        to: params.To,
        from: params.From,
        status: 'queued',
        direction: 'outbound-api',
        api_version: '2010-04-01',
        uri: `/2010-04-01/Accounts/${this.accountSid}/Calls/${sid}.json`,
      }),
    );
  }
}

/** A real twilio RequestClient whose api.twilio.com requests go to `origin`. */
export function loopbackHttpClient(origin: string, timeoutMs?: number): InstanceType<typeof twilio.RequestClient> {
  class LoopbackClient extends twilio.RequestClient {
    override request<TData>(opts: Parameters<InstanceType<typeof twilio.RequestClient>['request']>[0]) {
      const rewritten = { ...opts, uri: opts.uri.replace(/^https:\/\/(api|sync)\.twilio\.com/, origin) };
      return super.request<TData>(rewritten as typeof opts & { data?: TData });
    }
  }
  return new LoopbackClient({ timeout: timeoutMs, keepAlive: true });
}
