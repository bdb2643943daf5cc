import twilio from 'twilio';
import { handler as incomingHandler } from '../../src/functions/incoming';
import { handler as outboundHandler } from '../../src/functions/outbound.protected';
import { handler as statusHandler } from '../../src/functions/status.protected';
import { API_KEY, API_SECRET } from '../support/livekit-stand-in';
import { useLiveKit, useTwilioApi } from '../support/stand-ins';
import { captureConsole } from '../support/logs';
import { ACCOUNT_SID, AUTH_TOKEN, callSid, invoke, localContext, signedEvent } from '../support/runtime';

const liveKit = useLiveKit();
const twilioApi = useTwilioApi();
const logs: string[] = [];

beforeEach(() => captureConsole(logs));
afterEach(() => jest.restoreAllMocks());

const env = {
  LIVEKIT_URL: '',
  LIVEKIT_API_KEY: API_KEY,
  LIVEKIT_API_SECRET: API_SECRET,
  OUTBOUND_CALLER_IDS: '+14155550100',
  AGENT_NAMES: 'agent',
};
const ctx = (path: string) => localContext({ ...env, LIVEKIT_URL: liveKit.url }, path, 3000, (o) => twilioApi.client(o?.timeout));

/** Places an outbound call and returns where Twilio was told to send status callbacks. */
async function placeCall(extra: Record<string, string> = {}) {
  const context = ctx('/outbound');
  const reply = await invoke(outboundHandler, context, signedEvent(context, { To: '+14155550123', ...extra }));
  expect(reply.status).toBe(200);
  const body = JSON.parse(reply.body) as { callSid: string; roomName: string; participantIdentity: string };
  return { ...body, params: twilioApi.calls[0]!.params };
}

/** A callback as Twilio sends it: POST to the URL it was given, signed over that URL (query included). */
async function callback(url: string, params: Record<string, string>, sign = true) {
  const parsed = new URL(url);
  const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);
  const event = {
    ...Object.fromEntries(parsed.searchParams),
    ...params,
    request: { headers: sign ? { 'x-twilio-signature': signature } : {}, cookies: {} },
  };
  const reply = await invoke(statusHandler, ctx('/status'), event);
  return { status: reply.status, outcome: (JSON.parse(reply.body) as { outcome?: string; error?: unknown }).outcome };
}

const participant = (room: string, identity: string) => liveKit.rooms.get(room)?.get(identity);
const messages = (room: string) =>
  liveKit.dataMessages.filter((m) => m.room === room && m.topic === 'twilio.call-status').map((m) => JSON.parse(m.payload));

describe('outbound points Twilio at the status function', () => {
  test('status callback with every event, naming room, identity and route', async () => {
    const call = await placeCall();
    const url = new URL(String(call.params.StatusCallback));
    expect(`${url.origin}${url.pathname}`).toBe('http://localhost:3000/status');
    expect(Object.fromEntries(url.searchParams)).toEqual({ room: call.roomName, identity: call.participantIdentity, route: 'default' });
    expect(call.params.StatusCallbackEvent).toEqual(['initiated', 'ringing', 'answered', 'completed']);
    expect(call.params.StatusCallbackMethod).toBe('POST');
    expect(call.params.AsyncAmd).toBeUndefined();
  });

  test('machine detection is made asynchronous with its result sent to status', async () => {
    const call = await placeCall({ MachineDetection: 'DetectMessageEnd' });
    expect(call.params.AsyncAmd).toBe('true');
    expect(call.params.AsyncAmdStatusCallback).toBe(call.params.StatusCallback);
  });

  test("a request's own StatusCallback wins", async () => {
    const call = await placeCall({ StatusCallback: 'https://example.com/mine' });
    expect(call.params.StatusCallback).toBe('https://example.com/mine');
  });
});

describe('status sequences reach the room', () => {
  test('a normal answer: dialing, ringing, active, hangup, one data message per change, participant left alone', async () => {
    const call = await placeCall();
    const url = String(call.params.StatusCallback);
    const base = { CallSid: call.callSid, AccountSid: ACCOUNT_SID };
    const seen: string[] = [];
    for (const status of ['initiated', 'ringing', 'in-progress', 'completed']) {
      expect(await callback(url, { ...base, CallStatus: status })).toEqual({ status: 200, outcome: 'updated' });
      seen.push(participant(call.roomName, call.participantIdentity)!.attributes['twilio.callStatus']!);
      // Answered: Twilio fetches the TwiML and the stream connects.
      if (status === 'in-progress') liveKit.startStream(call.roomName, call.participantIdentity);
    }
    expect(seen).toEqual(['dialing', 'ringing', 'active', 'hangup']);
    expect(participant(call.roomName, call.participantIdentity)!.attributes).toMatchObject({
      'twilio.callStatusDetail': 'completed',
      'twilio.callSid': call.callSid,
    });
    expect(messages(call.roomName).map((m) => [m.status, m.detail])).toEqual([
      ['dialing', 'initiated'],
      ['ringing', 'ringing'],
      ['active', 'in-progress'],
      ['hangup', 'completed'],
    ]);
    expect(liveKit.calls('RoomService.RemoveParticipant')).toHaveLength(0);
  });

  test.each(['busy', 'no-answer', 'failed', 'canceled'])('a call that ends %s removes the hidden participant at once', async (ending) => {
    const call = await placeCall();
    const url = String(call.params.StatusCallback);
    await callback(url, { CallSid: call.callSid, CallStatus: 'ringing' });
    expect(await callback(url, { CallSid: call.callSid, CallStatus: ending, SipResponseCode: '486' })).toEqual({
      status: 200,
      outcome: 'updated',
    });
    expect(participant(call.roomName, call.participantIdentity)).toBeUndefined();
    expect(messages(call.roomName).at(-1)).toEqual({ callSid: call.callSid, status: 'hangup', detail: ending, sipResponseCode: '486' });
    // Anything later finds nobody, and is still answered 200.
    expect(await callback(url, { CallSid: call.callSid, CallStatus: 'ringing' })).toEqual({ status: 200, outcome: 'unknown-participant' });
  });

  test('a participant removed on its final status is not written first; one that could not be removed is', async () => {
    const call = await placeCall();
    const url = String(call.params.StatusCallback);
    await callback(url, { CallSid: call.callSid, CallStatus: 'ringing' });
    liveKit.methodBehaviour['RoomService.RemoveParticipant'] = { kind: 'status', status: 500, code: 'internal', msg: 'x' };
    const before = liveKit.requests.length;
    expect(await callback(url, { CallSid: call.callSid, CallStatus: 'busy' })).toEqual({ status: 200, outcome: 'updated' });
    expect(liveKit.requests.slice(before).map((r) => r.method)).toEqual([
      'RoomService.GetParticipant',
      'RoomService.SendData',
      'RoomService.RemoveParticipant',
      'RoomService.UpdateParticipant',
    ]);
    expect(participant(call.roomName, call.participantIdentity)!.attributes).toMatchObject({
      'twilio.callStatus': 'hangup',
      'twilio.callStatusDetail': 'busy',
      'twilio.stage.hangup': 'busy',
    });
    const line = JSON.parse(logs.filter((l) => l.includes('"fn":"status"')).at(-1)!) as Record<string, unknown>;
    expect(line).toMatchObject({ outcome: 'updated', dataMessage: 'done', removed: 'failed', attributes: 'done' });
  });

  test('an answering machine: answeredBy attribute and data message', async () => {
    const call = await placeCall({ MachineDetection: 'Enable' });
    const url = String(call.params.AsyncAmdStatusCallback);
    await callback(url, { CallSid: call.callSid, CallStatus: 'in-progress' });
    expect(await callback(url, { CallSid: call.callSid, AnsweredBy: 'machine_end_beep', MachineDetectionDuration: '4200' })).toEqual({
      status: 200,
      outcome: 'updated',
    });
    expect(participant(call.roomName, call.participantIdentity)!.attributes).toMatchObject({
      'twilio.callStatus': 'active',
      'twilio.answeredBy': 'machine_end_beep',
    });
    expect(messages(call.roomName).at(-1)).toMatchObject({ answeredBy: 'machine_end_beep', status: 'active' });
  });

  test('a completed call whose stream never started: the connector participant is removed (an orphaned session)', async () => {
    const call = await placeCall();
    const url = String(call.params.StatusCallback);
    await callback(url, { CallSid: call.callSid, CallStatus: 'in-progress', SequenceNumber: '2' });
    expect(await callback(url, { CallSid: call.callSid, CallStatus: 'completed', SequenceNumber: '3' })).toEqual({
      status: 200,
      outcome: 'updated',
    });
    expect(participant(call.roomName, call.participantIdentity)).toBeUndefined();
    expect(messages(call.roomName).map((m) => [m.status, m.sequenceNumber])).toEqual([
      ['active', 2],
      ['hangup', 3],
    ]);
  });

  test('each stage reached is kept in its own attribute', async () => {
    const call = await placeCall();
    const url = String(call.params.StatusCallback);
    await callback(url, { CallSid: call.callSid, CallStatus: 'ringing' });
    await callback(url, { CallSid: call.callSid, CallStatus: 'in-progress' });
    expect(participant(call.roomName, call.participantIdentity)!.attributes).toMatchObject({
      'twilio.stage.ringing': 'ringing',
      'twilio.stage.active': 'in-progress',
      'twilio.callStatus': 'active',
    });
  });

  test('duplicates change nothing and send nothing', async () => {
    const call = await placeCall();
    const url = String(call.params.StatusCallback);
    await callback(url, { CallSid: call.callSid, CallStatus: 'ringing' });
    expect(await callback(url, { CallSid: call.callSid, CallStatus: 'ringing' })).toEqual({ status: 200, outcome: 'unchanged' });
    expect(messages(call.roomName)).toHaveLength(1);
  });

  test('a late ringing never overwrites a later status', async () => {
    const call = await placeCall();
    const url = String(call.params.StatusCallback);
    await callback(url, { CallSid: call.callSid, CallStatus: 'in-progress' });
    expect(await callback(url, { CallSid: call.callSid, CallStatus: 'ringing' })).toEqual({ status: 200, outcome: 'unchanged' });
    expect(await callback(url, { CallSid: call.callSid, CallStatus: 'initiated' })).toEqual({ status: 200, outcome: 'unchanged' });
    expect(participant(call.roomName, call.participantIdentity)!.attributes['twilio.callStatus']).toBe('active');
  });

  test('an unknown room is answered 200 and logged', async () => {
    const reply = await callback('http://localhost:3000/status?room=nowhere&identity=nobody', {
      CallSid: callSid(5),
      CallStatus: 'ringing',
    });
    expect(reply).toEqual({ status: 200, outcome: 'unknown-participant' });
    expect(logs.join('\n')).toContain('"outcome":"unknown-participant"');
  });

  test("an inbound call's status callback (no query string) finds the caller as incoming named them", async () => {
    const context = localContext({ ...env, LIVEKIT_URL: liveKit.url }, '/incoming');
    const params = { CallSid: callSid(9), AccountSid: ACCOUNT_SID, From: '+12125550123', To: '+14155550100', Direction: 'inbound' };
    expect((await invoke(incomingHandler, context, signedEvent(context, params))).status).toBe(200);
    expect(await callback('http://localhost:3000/status', { ...params, CallStatus: 'in-progress' })).toEqual({
      status: 200,
      outcome: 'updated',
    });
    expect(participant(`call-${callSid(9)}`, '+12125550123')!.attributes['twilio.callStatus']).toBe('active');
  });

  test("a session LiveKit made after incoming gave up is removed by the call's completed callback", async () => {
    // LiveKit serves ConnectTwilioCall at 600 ms; incoming stops waiting at 300 ms and plays the fallback.
    liveKit.methodBehaviour['Connector.ConnectTwilioCall'] = { kind: 'delay', ms: 600 };
    const context = localContext({ ...env, LIVEKIT_URL: liveKit.url, LIVEKIT_TIMEOUT_MS: '300' }, '/incoming');
    const params = { CallSid: callSid(11), AccountSid: ACCOUNT_SID, From: '+12125550123', To: '+14155550100', Direction: 'inbound' };
    const reply = await invoke(incomingHandler, context, signedEvent(context, params));
    expect(reply.body).not.toContain('<Stream');
    const room = `call-${callSid(11)}`;
    for (let i = 0; i < 50 && !participant(room, '+12125550123'); i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(participant(room, '+12125550123')).toBeDefined();
    // The fallback ends the call; the number's status callback reports it.
    expect(await callback('http://localhost:3000/status', { ...params, CallStatus: 'completed' })).toEqual({
      status: 200,
      outcome: 'updated',
    });
    expect(participant(room, '+12125550123')).toBeUndefined();
  });

  test('LiveKit not answering: 503 livekit-failed, never "updated", inside 5 s', async () => {
    const call = await placeCall();
    liveKit.methodBehaviour['RoomService.GetParticipant'] = { kind: 'hang' };
    const started = Date.now();
    expect(await callback(String(call.params.StatusCallback), { CallSid: call.callSid, CallStatus: 'ringing' })).toEqual({
      status: 503,
      outcome: 'livekit-failed',
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('status: only Twilio may report', () => {
  test('unsigned: 401, nothing touched', async () => {
    const call = await placeCall();
    liveKit.reset();
    expect((await callback(String(call.params.StatusCallback), { CallSid: call.callSid, CallStatus: 'busy' }, false)).status).toBe(401);
    expect(liveKit.requests).toHaveLength(0);
  });

  test('a query string changed after signing: 403', async () => {
    const call = await placeCall();
    const url = String(call.params.StatusCallback);
    const params = { CallSid: call.callSid, CallStatus: 'busy' };
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);
    const event = {
      room: 'someone-elses-room',
      identity: call.participantIdentity,
      ...params,
      request: { headers: { 'x-twilio-signature': signature }, cookies: {} },
    };
    expect((await invoke(statusHandler, ctx('/status'), event)).status).toBe(403);
    expect(participant(call.roomName, call.participantIdentity)).toBeDefined();
  });
});

describe('names from a callback never reach Object.prototype', () => {
  test.each(['constructor', 'toString', '__proto__', 'valueOf'])('CallStatus=%s is ignored, never a crash', async (status) => {
    const call = await placeCall();
    const url = String(call.params.StatusCallback);
    const reply = await callback(url, { CallSid: call.callSid, CallStatus: status });
    expect(reply.status).toBe(200);
    expect(participant(call.roomName, call.participantIdentity)?.attributes['twilio.callStatus']).toBeUndefined();
  });
});
