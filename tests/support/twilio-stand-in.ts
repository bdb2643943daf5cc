/**
 * A loopback Twilio REST API for `POST /2010-04-01/Accounts/{Sid}/Calls.json`
 * that holds callers to Twilio's contract: Basic auth with the account's SID
 * and token, a form body with known parameters only, exactly one of Url /
 * Twiml, and answers shaped like Twilio's (201 with the call, or
 * `{code, message, more_info, status}`). Also the account's phone numbers
 * (`IncomingPhoneNumbers`: list, fetch, and strict updates of the voice
 * settings, recorded in `numberUpdates`; buying one is refused).
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
  'RecordingStatusCallbackMethod',
  'RecordingStatusCallbackEvent',
  'RecordingTrack',
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

/** Parameters sent more than once (twilio-oai: arrays, "separated by a space" or repeated). */
const REPEATED = new Set(['StatusCallbackEvent', 'RecordingStatusCallbackEvent']);

/**
 * Recording parameters' values, as twilio-oai twilio_api_v2010.json gives
 * them for CreateCall and CreateCallRecording: RecordingChannels mono|dual,
 * RecordingTrack inbound|outbound|both, RecordingStatusCallbackEvent of
 * in-progress, completed, absent; Trim trim-silence|do-not-trim.
 */
const RECORDING_VALUES: Record<string, readonly string[]> = {
  RecordingChannels: ['mono', 'dual'],
  RecordingTrack: ['inbound', 'outbound', 'both'],
  RecordingStatusCallbackEvent: ['in-progress', 'completed', 'absent'],
  RecordingStatusCallbackMethod: ['GET', 'POST'],
  Trim: ['trim-silence', 'do-not-trim'],
};

function badRecordingValue(params: Record<string, string | string[]>): string | undefined {
  for (const [name, allowed] of Object.entries(RECORDING_VALUES)) {
    const value = params[name];
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value.flatMap((v) => v.split(' ')) : [value];
    if (!values.every((v) => allowed.includes(v))) return name;
  }
  return undefined;
}

/**
 * SendDigits: "at most 32 of 0-9, A, B, C, D, # and *, w and W"; anything
 * else is error 21206 (https://www.twilio.com/docs/api/errors/21206).
 */
const SEND_DIGITS = /^[0-9A-D#*wW]{1,32}$/;

/** A call's recording, as the Call Recordings resource has it. */
export interface StandInRecording {
  sid: string;
  callSid: string;
  status: 'in-progress' | 'paused' | 'stopped' | 'processing' | 'completed' | 'absent';
  /** Who started it: StartCallRecordingAPI (the Recordings API), OutboundAPI (calls.create Record), StartCallRecordingTwiML. */
  source: string;
  params: Record<string, string | string[]>;
  /** The PauseBehavior of its last pause. */
  pauseBehavior?: string;
}

export class TwilioStandIn extends LoopbackServer {
  readonly calls: RecordedCall[] = [];
  readonly refused: { reason: string }[] = [];
  behaviour: TwilioBehaviour = { kind: 'ok' };
  /**
   * The account's phone numbers (IncomingPhoneNumbers) and where their voice
   * webhooks point. Only `phoneNumber` and `voiceUrl` are required; the rest
   * read back as a number Twilio just sold would (see `numberView`). Number
   * updates change these objects in place.
   */
  numbers: StandInNumber[] = [];
  /** Every accepted IncomingPhoneNumber update, in order, with the form exactly as sent. */
  readonly numberUpdates: { sid: string; phoneNumber: string; params: Record<string, string> }[] = [];
  /** Every POST to IncomingPhoneNumbers.json (or its Local, Mobile, TollFree lists): an attempt to buy a number. Never sold. */
  readonly purchases: { path: string; params: Record<string, string> }[] = [];
  /** Refusals for the next IncomingPhoneNumber updates, one used by each, before anything is changed. */
  numberFaults: { status: number; code: number; message: string }[] = [];
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
  /** The calls' recordings, in the order they started. */
  readonly recordings: StandInRecording[] = [];
  /** Every accepted recording change (pause, resume, stop), in order. */
  readonly recordingChanges: { callSid: string; sid: string; params: Record<string, string> }[] = [];
  /** What a call fetch says of a call beyond its status: direction, numbers, duration, AMD. */
  readonly callFacts = new Map<string, { direction: string; from: string; to: string; duration?: string; answeredBy?: string }>();
  /** Every accepted call update, in order. */
  readonly updates: { callSid: string; params: Record<string, string>; at: number }[] = [];
  /** Called as each call update is accepted, before it is answered: what else was true at that moment. */
  onUpdate: ((callSid: string, params: Record<string, string>) => void) | undefined;
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
    // UpdateCall's Twiml, as CreateCall's: "Max 4000 characters" (twilio-oai twilio_api_v2010.json).
    if (params.Twiml && params.Twiml.length > MAX_TWIML) return this.error(res, 400, 32018, `Twiml is longer than ${MAX_TWIML} characters`);
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
    this.onUpdate?.(callSid, params);
    // `canceled` "will not affect calls already in progress"; `completed` hangs up in any state (Twilio, Modifying Live Calls).
    if (params.Status && !(params.Status === 'canceled' && current === 'in-progress')) this.callStatus.set(callSid, params.Status);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ sid: callSid, account_sid: this.accountSid, status: this.callStatus.get(callSid) }));
  }

  /** A recording a call already has, as `<Start><Recording>` or calls.create's Record make one. */
  addRecording(callSid: string, source: string, status: StandInRecording['status'] = 'in-progress'): StandInRecording {
    const recording: StandInRecording = { sid: 'RE' + randomBytes(16).toString('hex'), callSid, status, source, params: {} };
    this.recordings.push(recording);
    return recording;
  }

  /** POST /Calls/{Sid}/Recordings.json: a recording of a call in progress (CreateCallRecording). */
  private createRecording(res: http.ServerResponse, callSid: string, form: URLSearchParams): void {
    const known = new Set([
      'RecordingStatusCallback',
      'RecordingStatusCallbackEvent',
      'RecordingStatusCallbackMethod',
      'Trim',
      'RecordingChannels',
      'RecordingTrack',
    ]);
    const params: Record<string, string | string[]> = {};
    for (const key of new Set(form.keys())) {
      if (!known.has(key)) return this.error(res, 400, 20001, `Unknown parameter ${key}`);
      params[key] = REPEATED.has(key) ? form.getAll(key) : form.get(key)!;
    }
    const bad = badRecordingValue(params);
    if (bad) return this.error(res, 400, 20001, `${bad} is not valid`);
    const status = this.callStatus.get(callSid);
    if (!status) return this.error(res, 404, 20404, `The requested resource /Calls/${callSid}/Recordings.json was not found`);
    const fault = this.updateFaults.shift();
    if (fault) {
      this.faulted.push({ kind: 'update', code: fault.code });
      return this.error(res, fault.status, fault.code, fault.message);
    }
    // "Calls that have completed cannot be recorded" (https://www.twilio.com/docs/errors/21220).
    if (status !== 'in-progress') return this.error(res, 400, 21220, 'Call is not in-progress. Cannot record.');
    const recording: StandInRecording = {
      sid: 'RE' + randomBytes(16).toString('hex'),
      callSid,
      status: 'in-progress',
      source: 'StartCallRecordingAPI',
      params,
    };
    this.recordings.push(recording);
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify(this.recordingView(recording)));
  }

  /**
   * POST /Calls/{Sid}/Recordings/{Sid or Twilio.CURRENT}.json: Status
   * (required: stopped, paused, in-progress) and PauseBehavior (skip,
   * silence; default silence). `Twilio.CURRENT` is "the current active
   * recording" (twilio-oai UpdateCallRecording); without one, 404.
   */
  private updateRecording(res: http.ServerResponse, callSid: string, sid: string, form: URLSearchParams): void {
    for (const key of form.keys())
      if (key !== 'Status' && key !== 'PauseBehavior') return this.error(res, 400, 20001, `Unknown parameter ${key}`);
    const params = Object.fromEntries(form);
    if (!['stopped', 'paused', 'in-progress'].includes(params.Status ?? ''))
      return this.error(res, 400, 20001, 'Status must be stopped, paused or in-progress');
    if (params.PauseBehavior !== undefined && !['skip', 'silence'].includes(params.PauseBehavior))
      return this.error(res, 400, 20001, 'PauseBehavior must be skip or silence');
    // How many recordings one call may run at once is not documented: the stand-in allows several, and
    // Twilio.CURRENT is the latest live one. The recording is looked up before the call's state is checked
    // (404 before 21220): which Twilio checks first is not documented either.
    const live = (r: StandInRecording) => r.callSid === callSid && (r.status === 'in-progress' || r.status === 'paused');
    const recording =
      sid === 'Twilio.CURRENT' ? this.recordings.filter(live).at(-1) : this.recordings.find((r) => r.sid === sid && r.callSid === callSid);
    if (!recording) return this.error(res, 404, 20404, `The requested resource /Calls/${callSid}/Recordings/${sid}.json was not found`);
    const fault = this.updateFaults.shift();
    if (fault) {
      this.faulted.push({ kind: 'update', code: fault.code });
      return this.error(res, fault.status, fault.code, fault.message);
    }
    if (this.callStatus.get(callSid) !== 'in-progress') return this.error(res, 400, 21220, 'Call is not in-progress.');
    recording.status = params.Status as StandInRecording['status'];
    if (params.Status === 'paused') recording.pauseBehavior = params.PauseBehavior ?? 'silence';
    this.recordingChanges.push({ callSid, sid: recording.sid, params });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(this.recordingView(recording)));
  }

  private recordingView(r: StandInRecording) {
    return {
      sid: r.sid,
      account_sid: this.accountSid,
      call_sid: r.callSid,
      status: r.status,
      source: r.source,
      channels: r.params.RecordingChannels === 'dual' ? 2 : 1,
      duration: r.status === 'completed' ? '42' : '-1',
      start_time: 'Tue, 01 Dec 2026 18:00:00 +0000',
      uri: `/2010-04-01/Accounts/${this.accountSid}/Calls/${r.callSid}/Recordings/${r.sid}.json`,
    };
  }

  /** GET /Calls/{Sid}.json, as the Call resource describes a call. */
  private fetchCall(res: http.ServerResponse, callSid: string): void {
    const status = this.callStatus.get(callSid);
    if (!status) return this.error(res, 404, 20404, `The requested resource /Calls/${callSid}.json was not found`);
    const facts = this.callFacts.get(callSid);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        sid: callSid,
        account_sid: this.accountSid,
        status,
        direction: facts?.direction ?? 'outbound-api',
        from: facts?.from ?? '',
        to: facts?.to ?? '',
        duration: facts?.duration ?? null,
        answered_by: facts?.answeredBy ?? null,
        start_time: 'Tue, 01 Dec 2026 18:00:00 +0000',
        end_time: status === 'completed' ? 'Tue, 01 Dec 2026 18:02:05 +0000' : null,
      }),
    );
  }

  /**
   * IncomingPhoneNumbers, as twilio-oai spec/json/twilio_api_v2010.json has them:
   * GET IncomingPhoneNumbers.json (ListIncomingPhoneNumber) lists every
   * number on one page; GET and POST IncomingPhoneNumbers/{PN…}.json fetch and
   * update one (FetchIncomingPhoneNumber, UpdateIncomingPhoneNumber). A POST
   * to IncomingPhoneNumbers.json or its Local, Mobile and TollFree lists
   * (CreateIncomingPhoneNumber…) would buy a number: it is recorded in
   * `purchases` and refused, since nothing under test may ever buy one.
   */
  private incomingPhoneNumbers(req: http.IncomingMessage, res: http.ServerResponse, sub: string | undefined, body: string): void {
    const sid = sub?.startsWith('PN') ? sub : undefined;
    if (req.method === 'POST' && !sid) {
      this.purchases.push({ path: req.url ?? '', params: Object.fromEntries(new URLSearchParams(body)) });
      this.refused.push({ reason: 'purchase attempted' });
      return this.error(res, 400, 20001, 'The stand-in never sells phone numbers');
    }
    if (req.method === 'GET' && !sub) {
      const page = this.numbers.map((n, i) => numberView(this.accountSid, n, i));
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ incoming_phone_numbers: page, next_page_uri: null, page: 0, page_size: 1000, uri: req.url }));
    }
    if (!sid || (req.method !== 'GET' && req.method !== 'POST')) return this.error(res, 405, 20004, 'Method not allowed');
    const index = this.numbers.findIndex((n, i) => numberSid(n, i) === sid);
    if (index < 0)
      return this.error(
        res,
        404,
        20404,
        `The requested resource /2010-04-01/Accounts/${this.accountSid}/IncomingPhoneNumbers/${sid}.json was not found`,
      );
    if (req.method === 'POST') return this.updateNumber(req, res, index, body);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(numberView(this.accountSid, this.numbers[index]!, index)));
  }

  /** POST IncomingPhoneNumbers/{PN…}.json: the voice settings, checked as Twilio checks them (see `badNumberParams`). */
  private updateNumber(req: http.IncomingMessage, res: http.ServerResponse, index: number, body: string): void {
    const refuse = (status: number, code: number, message: string) => {
      this.refused.push({ reason: message });
      this.error(res, status, code, message);
    };
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
      return refuse(400, 20001, 'Expected a form body');
    const form = new URLSearchParams(body);
    const params: Record<string, string> = {};
    for (const key of new Set(form.keys())) {
      if (!NUMBER_UPDATE_PARAMS.includes(key)) return refuse(400, 20001, `Unknown parameter ${key}`);
      if (!(key in NUMBER_FIELDS))
        return refuse(400, 20001, `${key} is an UpdateIncomingPhoneNumber parameter the stand-in does not model`);
      if (form.getAll(key).length > 1) return refuse(400, 20001, `${key} was given more than once`);
      params[key] = form.get(key)!;
    }
    const bad = badNumberParams(params);
    if (bad) return refuse(400, bad.code, bad.message);
    const fault = this.numberFaults.shift();
    if (fault) return this.error(res, fault.status, fault.code, fault.message);
    const number = this.numbers[index]!;
    for (const [key, value] of Object.entries(params)) number[NUMBER_FIELDS[key]!] = value;
    // "Setting a voice_application_sid will automatically delete your trunk_sid and vice versa" (twilio-oai, UpdateIncomingPhoneNumber).
    if (params.VoiceApplicationSid) number.trunkSid = '';
    if (params.TrunkSid) number.voiceApplicationSid = '';
    this.numberUpdates.push({ sid: numberSid(number, index), phoneNumber: number.phoneNumber, params });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(numberView(this.accountSid, number, index)));
  }

  reset(): void {
    this.recordings.length = 0;
    this.recordingChanges.length = 0;
    this.onUpdate = undefined;
    this.callFacts.clear();
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
    this.numberUpdates.length = 0;
    this.purchases.length = 0;
    this.numberFaults = [];
  }

  private error(res: http.ServerResponse, status: number, code: number, message: string): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }));
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const expectedAuth = 'Basic ' + Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64');
    // The path alone: a list's query (PageSize=...) is no part of the resource's name.
    const sync = /^\/v1\/Services\/([^/]+)\/(.*)$/.exec((req.url ?? '').split('?')[0]!);
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
    const numbers =
      /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/IncomingPhoneNumbers(?:\/(Local|Mobile|TollFree|PN[0-9a-fA-F]{32}))?\.json(\?.*)?$/.exec(
        req.url ?? '',
      );
    if (numbers) {
      if (req.headers.authorization !== expectedAuth || numbers[1] !== this.accountSid) {
        this.refused.push({ reason: 'authentication' });
        return this.error(res, 401, 20003, 'Authenticate');
      }
      return this.incomingPhoneNumbers(req, res, numbers[2], Buffer.concat(chunks).toString('utf8'));
    }
    const read = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\.json(\?.*)?$/.exec(req.url ?? '');
    if (req.method === 'GET' && read) {
      if (req.headers.authorization !== expectedAuth || read[1] !== this.accountSid) {
        this.refused.push({ reason: 'authentication' });
        return this.error(res, 401, 20003, 'Authenticate');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ sid: this.accountSid, friendly_name: 'Stand-in account', status: 'active' }));
    }
    const recordings =
      /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Calls\/(CA[0-9a-f]{32})\/Recordings(?:\/(RE[0-9a-f]{32}|Twilio\.CURRENT))?\.json(\?.*)?$/.exec(
        req.url ?? '',
      );
    if (recordings) {
      if (req.headers.authorization !== expectedAuth || recordings[1] !== this.accountSid)
        return this.error(res, 401, 20003, 'Authenticate');
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const [, , callSid, sid] = recordings as unknown as [string, string, string, string | undefined];
      if (req.method === 'GET' && !sid) {
        res.writeHead(200, { 'content-type': 'application/json' });
        const page = this.recordings.filter((r) => r.callSid === callSid).map((r) => this.recordingView(r));
        return void res.end(JSON.stringify({ recordings: page, next_page_uri: null, page: 0, page_size: 50, uri: req.url }));
      }
      if (req.method === 'POST' && !sid) return this.createRecording(res, callSid, form);
      if (req.method === 'POST' && sid) return this.updateRecording(res, callSid, sid, form);
      return this.error(res, 405, 20004, 'Method not allowed');
    }
    const update = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Calls\/(CA[0-9a-f]{32})\.json$/.exec(req.url ?? '');
    if (update && req.method === 'GET') {
      if (req.headers.authorization !== expectedAuth || update[1] !== this.accountSid) return this.error(res, 401, 20003, 'Authenticate');
      return this.fetchCall(res, update[2]!);
    }
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
      params[key] = REPEATED.has(key) ? all : all[0]!;
    }
    const badValue = badRecordingValue(params);
    if (badValue) {
      this.refused.push({ reason: `bad ${badValue}` });
      return this.error(res, 400, 20001, `${badValue} is not valid`);
    }
    if (params.SendDigits !== undefined && !SEND_DIGITS.test(String(params.SendDigits))) {
      this.refused.push({ reason: 'bad SendDigits' });
      return this.error(res, 400, 21206, 'SendDigits may contain only 0123456789ABCD*#wW');
    }
    const sources = ['Url', 'Twiml', 'ApplicationSid'].filter((k) => k in params);
    if (!params.To || !params.From || sources.length !== 1) {
      this.refused.push({ reason: 'To, From and one of Url/Twiml/ApplicationSid required' });
      return this.error(res, 400, 21205, 'Url parameter is required');
    }
    if (typeof params.Twiml === 'string' && params.Twiml.length > MAX_TWIML) {
      this.refused.push({ reason: 'Twiml too long' });
      // 32018 "Twiml size exceeded maximum allowed value of 4000 characters" (https://www.twilio.com/docs/api/errors/32018).
      return this.error(res, 400, 32018, `Twiml is longer than ${MAX_TWIML} characters`);
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
    this.callFacts.set(sid, { direction: 'outbound-api', from: String(params.From), to: String(params.To) });
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

/** One of the account's phone numbers: `phoneNumber` and `voiceUrl`, the rest as a number Twilio just sold reads. */
export interface StandInNumber {
  phoneNumber: string;
  voiceUrl: string;
  voiceMethod?: string;
  voiceFallbackUrl?: string;
  voiceFallbackMethod?: string;
  statusCallback?: string;
  statusCallbackMethod?: string;
  /** A TwiML App (AP…) that answers its calls instead of the voice URLs. */
  voiceApplicationSid?: string;
  /** An Elastic SIP Trunk (TK…) that takes its calls instead of any URL or app. */
  trunkSid?: string;
  /** Its SID; without one, PN followed by its position in `numbers`. */
  sid?: string;
}

function numberSid(number: StandInNumber, index: number): string {
  return number.sid ?? 'PN' + index.toString(16).padStart(32, '0');
}

/**
 * A number as the IncomingPhoneNumber resource shows it (twilio-oai
 * api.v2010.account.incoming_phone_number, and its examples for what an
 * unset field reads as: voice_url, voice_fallback_url and trunk_sid null;
 * status_callback and voice_application_sid ""; methods POST).
 */
function numberView(accountSid: string, n: StandInNumber, index: number) {
  const sid = numberSid(n, index);
  return {
    sid,
    account_sid: accountSid,
    phone_number: n.phoneNumber,
    friendly_name: n.phoneNumber,
    api_version: '2010-04-01',
    capabilities: { voice: true, sms: true, mms: true, fax: false },
    status: 'in-use',
    voice_url: n.voiceUrl || null,
    voice_method: n.voiceMethod ?? 'POST',
    voice_fallback_url: n.voiceFallbackUrl || null,
    voice_fallback_method: n.voiceFallbackMethod ?? 'POST',
    status_callback: n.statusCallback ?? '',
    status_callback_method: n.statusCallbackMethod ?? 'POST',
    voice_application_sid: n.voiceApplicationSid ?? '',
    trunk_sid: n.trunkSid || null,
    voice_receive_mode: 'voice',
    uri: `/2010-04-01/Accounts/${accountSid}/IncomingPhoneNumbers/${sid}.json`,
  };
}

/** Every parameter UpdateIncomingPhoneNumber takes (twilio-oai twilio_api_v2010.json); anything else is 20001. */
const NUMBER_UPDATE_PARAMS = [
  'AccountSid',
  'ApiVersion',
  'FriendlyName',
  'SmsApplicationSid',
  'SmsFallbackMethod',
  'SmsFallbackUrl',
  'SmsMethod',
  'SmsUrl',
  'StatusCallback',
  'StatusCallbackMethod',
  'VoiceApplicationSid',
  'VoiceCallerIdLookup',
  'VoiceFallbackMethod',
  'VoiceFallbackUrl',
  'VoiceMethod',
  'VoiceUrl',
  'EmergencyStatus',
  'EmergencyAddressSid',
  'TrunkSid',
  'VoiceReceiveMode',
  'IdentitySid',
  'AddressSid',
  'BundleSid',
];

/** The ones the stand-in models, and the field each sets; the others are refused rather than ignored. */
const NUMBER_FIELDS: Record<string, Exclude<keyof StandInNumber, 'phoneNumber' | 'sid'>> = {
  VoiceUrl: 'voiceUrl',
  VoiceMethod: 'voiceMethod',
  VoiceFallbackUrl: 'voiceFallbackUrl',
  VoiceFallbackMethod: 'voiceFallbackMethod',
  StatusCallback: 'statusCallback',
  StatusCallbackMethod: 'statusCallbackMethod',
  VoiceApplicationSid: 'voiceApplicationSid',
  TrunkSid: 'trunkSid',
};

/** A host name Twilio would call: dot-separated labels of letters, digits and inner hyphens (or an IPv4 address). */
const HOST_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/i;

function isCallableUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname.split('.').every((label) => HOST_LABEL.test(label));
}

/**
 * What Twilio refuses in an IncomingPhoneNumber update:
 * - VoiceUrl, VoiceFallbackUrl, StatusCallback (format uri) that are not a
 *   fully qualified http(s) URL: 21402 "<Param> is not a valid URL: <value>"
 *   (https://www.twilio.com/docs/api/errors/21402, "You attempted to update
 *   the URL handler associated with a phone number, but the URL you specified
 *   was not valid"; the message as Twilio wrote it in
 *   github.com/nash-md/twilio-contact-center/issues/17, for a host ending in
 *   "-"). An empty value clears the field: it then reads back as an unset one.
 * - VoiceMethod, VoiceFallbackMethod, StatusCallbackMethod other than GET or
 *   POST (twilio-oai: format http-method, enum GET, POST). Twilio documents
 *   no code for it; 20001 (invalid parameter) stands in.
 * - VoiceApplicationSid other than "" or ^AP[0-9a-fA-F]{32}$, TrunkSid other
 *   than "" or ^TK[0-9a-fA-F]{32}$ (twilio-oai patterns); 20001 stands in.
 */
function badNumberParams(params: Record<string, string>): { code: number; message: string } | undefined {
  for (const key of ['VoiceUrl', 'VoiceFallbackUrl', 'StatusCallback']) {
    const value = params[key];
    if (value !== undefined && value !== '' && !isCallableUrl(value))
      return { code: 21402, message: `${key} is not a valid URL: ${value}` };
  }
  for (const key of ['VoiceMethod', 'VoiceFallbackMethod', 'StatusCallbackMethod']) {
    const value = params[key];
    if (value !== undefined && value !== 'GET' && value !== 'POST') return { code: 20001, message: `${key} must be GET or POST` };
  }
  const sids: [string, RegExp][] = [
    ['VoiceApplicationSid', /^AP[0-9a-fA-F]{32}$/],
    ['TrunkSid', /^TK[0-9a-fA-F]{32}$/],
  ];
  for (const [key, pattern] of sids) {
    const value = params[key];
    if (value !== undefined && value !== '' && !pattern.test(value)) return { code: 20001, message: `${key} is not a valid SID` };
  }
  return undefined;
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
