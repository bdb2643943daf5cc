/**
 * The call summary webhook, end to end in process: calls placed by outbound
 * and answered by incoming, the agent's actions through call-control, then
 * Twilio's final status and recording callbacks, against the LiveKit and
 * Twilio stand-ins and a loopback receiver. The signature is checked by an
 * implementation of the Standard Webhooks scheme that shares nothing with
 * the service's: a few lines of Python.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { handler as controlHandler } from '../../src/functions/call-control';
import { handler as incomingHandler } from '../../src/functions/incoming';
import { handler as recordingHandler } from '../../src/functions/recording-status.protected';
import { handler as statusHandler } from '../../src/functions/status.protected';
import { controlToken, inboundWebhook, liveKitEnv, postOutbound } from '../support/fixtures';
import { captureConsole, expectNoSecrets } from '../support/logs';
import { ACCOUNT_SID, callSid, invoke, localContext, signedCallback, signedEvent } from '../support/runtime';
import { useLiveKit, useTwilioApi } from '../support/stand-ins';
import { ReceivedRequest, useWebhookReceiver } from '../support/webhook-receiver';

const liveKit = useLiveKit();
const twilioApi = useTwilioApi();
const receiver = useWebhookReceiver();
const logs: string[] = [];
beforeEach(() => captureConsole(logs));
afterEach(() => jest.restoreAllMocks());

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const FROM = '+14155550100';
const TO = '+14155550123';
const FLOW_SID = 'FW' + 'cd'.repeat(16);

/** The summary's settings, pointing at the receiver (known once it listens). */
const summaryEnv = (extra: Record<string, string> = {}) => ({
  SUMMARY_WEBHOOK_URL: receiver.url,
  SUMMARY_WEBHOOK_SECRET: SECRET,
  ...extra,
});
/** The environment every function gets: what postOutbound gives outbound, plus the suite's. */
const env = (extra: Record<string, string> = {}) =>
  liveKitEnv(liveKit, { AGENT_NAMES: 'outbound-agent', OUTBOUND_CALLER_IDS: FROM, ...extra });
const contextFor = (path: string, extra: Record<string, string>) =>
  localContext(env(extra), path, 3000, (o) => twilioApi.client(o?.timeout));

/**
 * Standard Webhooks verification, written from the spec alone: the key is
 * the base64 after `whsec_`; the signature is base64 HMAC-SHA256 over
 * `{id}.{timestamp}.{body}`; the header holds space-separated `v1,<sig>`.
 */
const VERIFY_PY = `
import base64, hashlib, hmac, sys
secret, msg_id, timestamp, header = sys.argv[1:5]
if not secret.startswith("whsec_"):
    sys.exit("secret without whsec_")
key = base64.b64decode(secret[len("whsec_"):], validate=True)
body = sys.stdin.buffer.read()
signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
given = [part.split(",", 1)[1] for part in header.split(" ") if part.startswith("v1,")]
print("valid" if any(hmac.compare_digest(expected, sig) for sig in given) else "invalid")
`;

function pythonVerdict(secret: string, request: ReceivedRequest, body: Buffer = request.raw): string {
  const header = (name: string) => String(request.headers[name] ?? '');
  return execFileSync(
    'python3',
    ['-c', VERIFY_PY, secret, header('webhook-id'), header('webhook-timestamp'), header('webhook-signature')],
    {
      input: body,
    },
  )
    .toString('utf8')
    .trim();
}

interface OutboundCall {
  sid: string;
  room: string;
  identity: string;
  statusUrl: string;
  recordingUrl?: string;
}

/** A call outbound placed, summarised when `extra` says so. */
async function placeCall(extra: Record<string, string>, params: Record<string, string> = {}): Promise<OutboundCall> {
  const placed = await postOutbound({ liveKit, twilioApi }, { To: TO, ...params }, extra);
  expect(placed.status).toBe(200);
  const given = twilioApi.calls.at(-1)!.params;
  return {
    sid: placed.json.callSid,
    room: placed.json.roomName,
    identity: placed.json.participantIdentity,
    statusUrl: String(given.StatusCallback),
    ...(given.RecordingStatusCallback ? { recordingUrl: String(given.RecordingStatusCallback) } : {}),
  };
}

/** The agent hangs up through call-control, with a token for its room. */
async function hangUp(call: OutboundCall, extra: Record<string, string>): Promise<void> {
  const body = { action: 'hangup' };
  const token = await controlToken(call.room, body);
  const event = { ...body, request: { headers: { authorization: `Bearer ${token}` }, cookies: {} } };
  const reply = await invoke(controlHandler, contextFor('/call-control', extra), event);
  expect({ status: reply.status, body: JSON.parse(reply.body) as unknown }).toEqual({
    status: 200,
    body: { action: 'hangup', outcome: 'hung-up' },
  });
}

/** What Twilio's GET /Calls/{Sid}.json says once the call is over. */
function callIsOver(sid: string, direction = 'outbound-api', from = FROM, to = TO): void {
  twilioApi.setCallStatus(sid, 'completed');
  twilioApi.callFacts.set(sid, { direction, from, to, duration: '125' });
}

/** Twilio's final status callback, to the URL the call was given, signed over it. */
async function completedCallback(url: string, sid: string, extra: Record<string, string>, params: Record<string, string> = {}) {
  const form = {
    AccountSid: ACCOUNT_SID,
    CallSid: sid,
    CallStatus: 'completed',
    CallDuration: '125',
    Direction: 'outbound-api',
    From: FROM,
    To: TO,
    SequenceNumber: '4',
    ...params,
  };
  const started = Date.now();
  const reply = await invoke(statusHandler, contextFor('/status', extra), signedCallback(url, form));
  return { status: reply.status, ms: Date.now() - started };
}

/** The status function's log line for the call's final callback (the last one logged). */
function statusLine(sid: string): Record<string, unknown> {
  const lines = logs.filter((l) => l.includes('"fn":"status"') && l.includes(sid)).map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines.length).toBeGreaterThan(0);
  return lines.at(-1)!;
}

const journal = (sid: string) => twilioApi.sync.items(`call-${sid}`);

describe('an outbound call that ends sends one signed summary', () => {
  test('after a journaled hangup, the completed callback posts it, signed as Standard Webhooks says', async () => {
    const extra = summaryEnv();
    const call = await placeCall(extra);
    expect(journal(call.sid).connected).toEqual({ direction: 'outbound', route: 'default', room: call.room, identity: call.identity });
    await hangUp(call, extra);
    const actionKeys = Object.keys(journal(call.sid)).filter((k) => k.startsWith('action-'));
    expect(actionKeys).toEqual([expect.stringMatching(/^action-\d+-hangup$/)]);
    callIsOver(call.sid);

    const sentAt = Date.now();
    expect((await completedCallback(call.statusUrl, call.sid, extra)).status).toBe(200);
    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received as [ReceivedRequest];
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/hooks/summary');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['webhook-id']).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(request.headers['webhook-timestamp']).toMatch(/^\d+$/);
    expect(Math.abs(Number(request.headers['webhook-timestamp']) - sentAt / 1000)).toBeLessThan(30);
    expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);

    // Verified independently, and only for the body as sent.
    expect(pythonVerdict(SECRET, request)).toBe('valid');
    const tampered = Buffer.from(request.raw.toString('utf8').replace('"status":"completed"', '"status":"busy"'));
    expect(tampered.equals(request.raw)).toBe(false);
    expect(pythonVerdict(SECRET, request, tampered)).toBe('invalid');
    expect(pythonVerdict(`whsec_${randomBytes(32).toString('base64')}`, request)).toBe('invalid');

    const body = JSON.parse(request.raw.toString('utf8')) as Record<string, unknown>;
    expect(body).toEqual({
      id: request.headers['webhook-id'],
      type: 'call.summary',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      call: {
        sid: call.sid,
        direction: 'outbound',
        from: FROM,
        to: TO,
        status: 'completed',
        durationSeconds: 125,
        startedAt: '2026-12-01T18:00:00.000Z',
        endedAt: '2026-12-01T18:02:05.000Z',
      },
      route: 'default',
      room: call.room,
      participantIdentity: call.identity,
      recordings: [],
      actions: [{ action: 'hangup', outcome: 'hung-up', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }],
    });
    expect(statusLine(call.sid)).toMatchObject({ callStatus: 'completed', summary: 'delivered', summaryAttempts: 1 });
    expect(journal(call.sid).summary).toMatchObject({ outcome: 'delivered', status: 200, attempts: 1 });
    expectNoSecrets(logs.join('\n'));
    expect(logs.join('\n')).not.toContain(SECRET.slice('whsec_'.length));

    // Sent again (the journal lost its claim): the same event id, so the receiver counts it once.
    twilioApi.sync.maps.get(`call-${call.sid}`)!.delete('summary');
    expect((await completedCallback(call.statusUrl, call.sid, extra, { SequenceNumber: '5' })).status).toBe(200);
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]!.headers['webhook-id']).toBe(request.headers['webhook-id']);
    expect(receiver.bodies()[1]!.id).toBe(body.id);
    expect(pythonVerdict(SECRET, receiver.received[1]!)).toBe('valid');
  });

  test("two calls' summaries have different ids", async () => {
    const extra = summaryEnv();
    for (const n of [1, 2]) {
      const call = await placeCall(extra);
      callIsOver(call.sid);
      expect((await completedCallback(call.statusUrl, call.sid, extra)).status).toBe(200);
      expect(receiver.received).toHaveLength(n);
    }
    const [a, b] = receiver.bodies() as [Record<string, unknown>, Record<string, unknown>];
    expect(a.id).not.toBe(b.id);
  });
});

describe('one sender per call', () => {
  test('a repeated final callback sends nothing more', async () => {
    const extra = summaryEnv();
    const call = await placeCall(extra);
    callIsOver(call.sid);
    expect((await completedCallback(call.statusUrl, call.sid, extra)).status).toBe(200);
    expect(receiver.received).toHaveLength(1);
    expect((await completedCallback(call.statusUrl, call.sid, extra)).status).toBe(200);
    expect(receiver.received).toHaveLength(1);
    expect(statusLine(call.sid)).toMatchObject({ summary: 'already-sent' });
  });

  test('two final callbacks at once: one summary', async () => {
    const extra = summaryEnv();
    const call = await placeCall(extra);
    callIsOver(call.sid);
    // Sync answers slowly: both callbacks read the journal before either claims it, so both try to.
    twilioApi.sync.delayMs = 150;
    const replies = await Promise.all([
      completedCallback(call.statusUrl, call.sid, extra),
      completedCallback(call.statusUrl, call.sid, extra, { SequenceNumber: '5' }),
    ]);
    expect(replies.map((r) => r.status)).toEqual([200, 200]);
    expect(receiver.received).toHaveLength(1);
    expect(twilioApi.sync.creates.filter((c) => c.key === 'summary').map((c) => c.outcome)).toEqual([201, 54208]);
    const outcomes = logs
      .filter((l) => l.includes('"fn":"status"'))
      .map((l) => (JSON.parse(l) as { summary?: string }).summary)
      .sort();
    expect(outcomes).toEqual(['already-sent', 'delivered']);
  });
});

describe('a recording still in progress holds the summary back', () => {
  test("the call's completed callback waits; the recording's completed callback sends it, listing the recording", async () => {
    const extra = summaryEnv();
    const call = await placeCall(extra, { Record: 'true' });
    expect(call.recordingUrl).toBeDefined();
    const recording = twilioApi.addRecording(call.sid, 'OutboundAPI', 'in-progress');
    callIsOver(call.sid);

    expect((await completedCallback(call.statusUrl, call.sid, extra)).status).toBe(200);
    expect(receiver.received).toHaveLength(0);
    expect(statusLine(call.sid)).toMatchObject({ summary: 'recordings-pending' });
    expect(journal(call.sid).summary).toBeUndefined();

    recording.status = 'completed';
    const form = {
      AccountSid: ACCOUNT_SID,
      CallSid: call.sid,
      RecordingSid: recording.sid,
      RecordingStatus: 'completed',
      RecordingDuration: '42',
      RecordingChannels: '1',
      RecordingSource: 'OutboundAPI',
    };
    const reply = await invoke(recordingHandler, contextFor('/recording-status', extra), signedCallback(call.recordingUrl!, form));
    expect(reply.status).toBe(200);
    expect(receiver.received).toHaveLength(1);
    expect(pythonVerdict(SECRET, receiver.received[0]!)).toBe('valid');
    const body = receiver.bodies()[0]!;
    expect(body.call).toMatchObject({ sid: call.sid, status: 'completed' });
    expect(body.recordings).toEqual([
      {
        sid: recording.sid,
        status: 'completed',
        durationSeconds: 42,
        channels: 1,
        source: 'OutboundAPI',
        startedAt: '2026-12-01T18:00:00.000Z',
      },
    ]);
    const line = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.fn === 'recording-status');
    expect(line).toMatchObject({ recordingSid: recording.sid, summary: 'delivered' });
  });

  test("the final callback is believed when Twilio's record of the call is not final yet", async () => {
    const extra = summaryEnv();
    const call = await placeCall(extra);
    // The callback says completed; a read of the call a moment later may still say in-progress.
    twilioApi.setCallStatus(call.sid, 'in-progress');
    expect((await completedCallback(call.statusUrl, call.sid, extra)).status).toBe(200);
    expect(receiver.received).toHaveLength(1);
    expect((JSON.parse(receiver.received[0]!.raw.toString('utf8')) as { call: { status: string } }).call.status).toBe('completed');
  });

  test('a recording that ends while the call goes on sends nothing, and leaves no claim', async () => {
    const extra = summaryEnv();
    const call = await placeCall(extra);
    twilioApi.setCallStatus(call.sid, 'in-progress');
    const recording = twilioApi.addRecording(call.sid, 'StartCallRecordingAPI', 'completed');
    const url = String(twilioApi.calls[0]!.params.StatusCallback).replace('/status?', '/recording-status?');
    const event = signedCallback(url, {
      AccountSid: ACCOUNT_SID,
      CallSid: call.sid,
      RecordingSid: recording.sid,
      RecordingStatus: 'completed',
    });
    const reply = await invoke(recordingHandler, contextFor('/recording-status', extra), event);
    expect(reply.status).toBe(200);
    expect(receiver.received).toHaveLength(0);
    expect(journal(call.sid).summary).toBeUndefined();
    const line = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.fn === 'recording-status');
    expect(line).toMatchObject({ summary: 'call-live' });
  });
});

describe('delivery', () => {
  test('a receiver answering 500 once gets it again, with the same id', async () => {
    const extra = summaryEnv();
    const call = await placeCall(extra);
    callIsOver(call.sid);
    receiver.failNext(1, 500);
    expect((await completedCallback(call.statusUrl, call.sid, extra)).status).toBe(200);
    expect(receiver.received).toHaveLength(2);
    const [first, second] = receiver.received as [ReceivedRequest, ReceivedRequest];
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(second.raw.equals(first.raw)).toBe(true);
    expect(pythonVerdict(SECRET, first)).toBe('valid');
    expect(pythonVerdict(SECRET, second)).toBe('valid');
    expect(statusLine(call.sid)).toMatchObject({ summary: 'delivered', summaryAttempts: 2 });
    expect(journal(call.sid).summary).toMatchObject({ outcome: 'delivered', attempts: 2 });
  });

  test('a refusal (4xx other than 429) is final: one attempt, undelivered', async () => {
    const extra = summaryEnv();
    const call = await placeCall(extra);
    callIsOver(call.sid);
    receiver.status = 400;
    expect((await completedCallback(call.statusUrl, call.sid, extra)).status).toBe(200);
    expect(receiver.received).toHaveLength(1);
    expect(statusLine(call.sid)).toMatchObject({ summary: 'undelivered', summaryReason: 'HTTP 400', summaryAttempts: 1 });
  });

  test('a receiver that never answers: the callback is still answered 200 within 8 s, logged undelivered', async () => {
    const extra = summaryEnv();
    const call = await placeCall(extra);
    callIsOver(call.sid);
    receiver.hang = true;
    const reply = await completedCallback(call.statusUrl, call.sid, extra);
    expect(reply.status).toBe(200);
    expect(reply.ms).toBeLessThan(8000);
    expect(receiver.received.length).toBeGreaterThanOrEqual(2);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(statusLine(call.sid)).toMatchObject({ summary: 'undelivered', summaryReason: 'timeout' });
    expect(journal(call.sid).summary).toMatchObject({ outcome: 'undelivered', reason: 'timeout' });
  });
});

describe('phone numbers in the summary', () => {
  test.each([
    ['last4', { from: '********0100', to: '********0123' }],
    ['none', {}],
  ])('SUMMARY_PHONE_NUMBERS=%s', async (policy, shown) => {
    const extra = summaryEnv({ SUMMARY_PHONE_NUMBERS: policy });
    const call = await placeCall(extra);
    callIsOver(call.sid);
    expect((await completedCallback(call.statusUrl, call.sid, extra)).status).toBe(200);
    expect(receiver.received).toHaveLength(1);
    const summary = receiver.bodies()[0]!.call as Record<string, unknown>;
    expect({ from: summary.from, to: summary.to }).toEqual({ from: undefined, to: undefined, ...shown });
    expect(Object.keys(summary).filter((k) => k === 'from' || k === 'to')).toEqual(Object.keys(shown));
    const raw = receiver.received[0]!.raw.toString('utf8');
    expect(raw).not.toContain('5550100');
    expect(raw).not.toContain('5550123');
  });
});

describe('an inbound call from a Studio flow', () => {
  test('the connected fact keeps the flow; the summary says inbound and names it', async () => {
    const extra = summaryEnv();
    const sid = callSid(61);
    const context = contextFor('/incoming', extra);
    const reply = await invoke(incomingHandler, context, signedEvent(context, { ...inboundWebhook(61), FlowSid: FLOW_SID }));
    expect(reply.body).toContain('<Stream');
    const room = `call-${sid}`;
    expect(journal(sid).connected).toEqual({ direction: 'inbound', route: 'default', room, identity: FROM, flowSid: FLOW_SID });

    callIsOver(sid, 'inbound', FROM, '+14155550199');
    // The number's status callback: no query string; the room is worked out as incoming did.
    const form = { ...inboundWebhook(61), CallStatus: 'completed', CallDuration: '125' };
    const status = await invoke(statusHandler, contextFor('/status', extra), signedCallback('http://localhost:3000/status', form));
    expect(status.status).toBe(200);
    expect(receiver.received).toHaveLength(1);
    expect(pythonVerdict(SECRET, receiver.received[0]!)).toBe('valid');
    const body = receiver.bodies()[0]!;
    expect(body).toMatchObject({
      call: { sid, direction: 'inbound', from: FROM, to: '+14155550199', status: 'completed' },
      route: 'default',
      room,
      participantIdentity: FROM,
      studioFlowSid: FLOW_SID,
      actions: [],
      recordings: [],
    });
  });
});

describe('what the review of the summary found', () => {
  test("a claim whose create went through but whose answer was lost is the sender's own: the summary is sent once", async () => {
    const extra = summaryEnv();
    const call = await placeCall(extra);
    callIsOver(call.sid);
    // The summary claim's create: applied, then answered 503; the resend meets 54208 and reads its own owner.
    twilioApi.sync.fail('create', { status: 503, code: 20500, applied: true });
    expect((await completedCallback(call.statusUrl, call.sid, extra)).status).toBe(200);
    expect(receiver.received).toHaveLength(1);
    expect(statusLine(call.sid)).toMatchObject({ summary: 'delivered' });
  });

  test("a recording's final callback is believed when Twilio's list still says processing", async () => {
    const extra = summaryEnv();
    const call = await placeCall(extra, { Record: 'true' });
    const recording = twilioApi.addRecording(call.sid, 'OutboundAPI', 'processing');
    callIsOver(call.sid);
    await completedCallback(call.statusUrl, call.sid, extra);
    expect(receiver.received).toHaveLength(0);
    const form = { AccountSid: ACCOUNT_SID, CallSid: call.sid, RecordingSid: recording.sid, RecordingStatus: 'completed' };
    await invoke(recordingHandler, contextFor('/recording-status', extra), signedCallback(call.recordingUrl!, form));
    expect(receiver.received).toHaveLength(1);
    expect(receiver.bodies()[0]!.recordings).toEqual([expect.objectContaining({ sid: recording.sid, status: 'completed' })]);
  });

  test("an inbound caller's number as their identity is masked as the numbers are", async () => {
    const extra = summaryEnv({ SUMMARY_PHONE_NUMBERS: 'last4' });
    const sid = callSid(62);
    const context = contextFor('/incoming', extra);
    await invoke(incomingHandler, context, signedEvent(context, inboundWebhook(62)));
    callIsOver(sid, 'inbound', FROM, '+14155550199');
    const form = { ...inboundWebhook(62), CallStatus: 'completed', CallDuration: '125' };
    await invoke(statusHandler, contextFor('/status', extra), signedCallback('http://localhost:3000/status', form));
    const raw = receiver.received[0]!.raw.toString('utf8');
    expect(receiver.bodies()[0]!.participantIdentity).toBe('********0100');
    expect(raw).not.toContain(FROM);
  });
});

describe('without SUMMARY_WEBHOOK_URL', () => {
  test('no journal is made for the call and nothing is posted', async () => {
    const extra = { SUMMARY_WEBHOOK_SECRET: SECRET };
    const call = await placeCall(extra);
    await hangUp(call, extra);
    callIsOver(call.sid);
    expect((await completedCallback(call.statusUrl, call.sid, extra)).status).toBe(200);

    const context = contextFor('/incoming', extra);
    const reply = await invoke(incomingHandler, context, signedEvent(context, inboundWebhook(71)));
    expect(reply.body).toContain('<Stream');

    expect(twilioApi.sync.maps.has(`call-${call.sid}`)).toBe(false);
    expect(twilioApi.sync.maps.has(`call-${callSid(71)}`)).toBe(false);
    expect([...twilioApi.sync.maps.keys()].filter((name) => name.startsWith('call-'))).toEqual([]);
    expect(receiver.received).toHaveLength(0);
    expect(statusLine(call.sid).summary).toBeUndefined();
  });
});
