/**
 * A passing 429 or 503 from LiveKit or Twilio, injected once, twice or for
 * good, against each outgoing request: what is resent (only what cannot act
 * twice), what the caller, the API caller and the room see, and how long it
 * takes. The stand-ins answer each fault as the real service does
 * (../support/livekit-stand-in Fault, ../support/twilio-stand-in TOO_MANY_REQUESTS).
 */
import type { ConnectTwilioCallRequest } from '@livekit/protocol';
import twilio from 'twilio';
import { handler as controlHandler } from '../../src/functions/call-control';
import { handler as incomingHandler } from '../../src/functions/incoming';
import { handler as outboundHandler } from '../../src/functions/outbound.protected';
import { handler as statusHandler } from '../../src/functions/status.protected';
import { controlToken, inboundWebhook, liveKitEnv } from '../support/fixtures';
import { Fault, RESOURCE_EXHAUSTED, UNAVAILABLE } from '../support/livekit-stand-in';
import { captureConsole } from '../support/logs';
import { AUTH_TOKEN, callSid, invoke, localContext, signedEvent } from '../support/runtime';
import { useLiveKit, useTwilioApi } from '../support/stand-ins';
import { TOO_MANY_REQUESTS } from '../support/twilio-stand-in';
import { find, parseTwiml, streamUrl } from '../support/twiml';

const liveKit = useLiveKit();
const twilioApi = useTwilioApi();
const logs: string[] = [];
beforeEach(() => captureConsole(logs));
afterEach(() => jest.restoreAllMocks());

const env = (extra: Record<string, string> = {}) =>
  liveKitEnv(liveKit, { AGENT_NAMES: 'agent', OUTBOUND_CALLER_IDS: '+14155550100', TRANSFER_TARGETS: 'billing=+14155550111', ...extra });
const context = (path: string, extra: Record<string, string> = {}) =>
  localContext(env(extra), path, 3000, (o) => twilioApi.client(o?.timeout));
const connects = () => liveKit.calls('Connector.ConnectTwilioCall').map((r) => r.body as ConnectTwilioCallRequest);
const logLine = (fn: string) => JSON.parse(logs.filter((l) => l.includes(`"fn":"${fn}"`)).at(-1)!) as Record<string, unknown>;

async function ring(n: number, extra: Record<string, string> = {}) {
  const ctx = context('/incoming', extra);
  const started = Date.now();
  const reply = await invoke(incomingHandler, ctx, signedEvent(ctx, inboundWebhook(n)));
  return { ...reply, ms: Date.now() - started };
}

async function place(params: Record<string, string>, extra: Record<string, string> = {}) {
  const ctx = context('/outbound', extra);
  const started = Date.now();
  const reply = await invoke(outboundHandler, ctx, signedEvent(ctx, params));
  return { status: reply.status, retryAfter: reply.retryAfter, json: JSON.parse(reply.body), ms: Date.now() - started };
}

async function control(room: string, body: Record<string, unknown>) {
  const token = await controlToken(room, body);
  const event = { ...body, request: { headers: { authorization: `Bearer ${token}` }, cookies: {} } };
  const reply = await invoke(controlHandler, context('/call-control'), event);
  return { status: reply.status, retryAfter: reply.retryAfter, json: JSON.parse(reply.body) };
}

async function statusCallback(url: string, params: Record<string, string>) {
  const parsed = new URL(url);
  const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);
  const event = {
    ...Object.fromEntries(parsed.searchParams),
    ...params,
    request: { headers: { 'x-twilio-signature': signature }, cookies: {} },
  };
  const reply = await invoke(statusHandler, context('/status'), event);
  return { status: reply.status, json: JSON.parse(reply.body) as { outcome: string } };
}

const expectStream = (body: string) => expect(find(parseTwiml(body), 'Stream')).toBeDefined();
const expectFallback = (body: string) => expect(find(parseTwiml(body), 'Stream')).toBeUndefined();

describe('incoming: the caller is connected through a passing refusal', () => {
  test.each<[string, Fault, number]>([
    ['one 503', UNAVAILABLE, 1],
    ['two 503s', UNAVAILABLE, 2],
    ['one 429 (resource_exhausted)', RESOURCE_EXHAUSTED, 1],
    ['a 502 from a proxy', { status: 502, code: 'unavailable' }, 1],
  ])('%s: resent, and the caller streams into the room', async (_, fault, times) => {
    liveKit.failNext('Connector.ConnectTwilioCall', fault, times);
    const reply = await ring(1);
    expectStream(reply.body);
    expect(connects()).toHaveLength(times + 1);
    expect(reply.ms).toBeLessThan(3000);
  });

  test('a 503 after LiveKit made the session (INBOUND): resent, the stream goes to the session Twilio is given', async () => {
    liveKit.failNext('Connector.ConnectTwilioCall', { ...UNAVAILABLE, applied: true });
    const reply = await ring(2);
    expect(connects()).toHaveLength(2);
    expect(streamUrl(reply.body)).toBe(liveKit.connectUrls.get(`call-${callSid(2)}`));
  });

  test('a Retry-After is honoured when it leaves time', async () => {
    liveKit.failNext('Connector.ConnectTwilioCall', { ...RESOURCE_EXHAUSTED, retryAfter: '1' });
    const reply = await ring(3);
    expectStream(reply.body);
    expect(reply.ms).toBeGreaterThanOrEqual(950);
  });

  test('a Retry-After longer than the caller can wait: the fallback at once, not after the wait', async () => {
    liveKit.failNext('Connector.ConnectTwilioCall', { ...RESOURCE_EXHAUSTED, retryAfter: '30' });
    const reply = await ring(4);
    expectFallback(reply.body);
    expect(reply.ms).toBeLessThan(500);
    expect(logLine('incoming').reason).toMatch(/^livekit rate-limited/);
  });

  test('503 for good: the fallback within LIVEKIT_TIMEOUT_MS, after a few attempts', async () => {
    liveKit.failNext('Connector.ConnectTwilioCall', UNAVAILABLE, 100);
    const reply = await ring(5, { LIVEKIT_TIMEOUT_MS: '1000' });
    expectFallback(reply.body);
    expect(reply.ms).toBeLessThan(1100);
    expect(connects().length).toBeGreaterThanOrEqual(2);
    expect(connects().length).toBeLessThanOrEqual(5);
  });

  test('a permanent refusal (401) is not resent', async () => {
    liveKit.behaviour = { kind: 'status', status: 401, code: 'unauthenticated', msg: 'no' };
    expectFallback((await ring(6)).body);
    expect(connects()).toHaveLength(1);
  });
});

describe('outbound: a passing refusal costs no call, and one that lasts says so', () => {
  test('one LiveKit 429: resent as it was, one call placed', async () => {
    liveKit.failNext('Connector.ConnectTwilioCall', RESOURCE_EXHAUSTED);
    const reply = await place({ To: '+14155550123' });
    expect(reply.status).toBe(200);
    expect(connects()).toHaveLength(2);
    expect(new Set(connects().map((c) => c.participantIdentity)).size).toBe(1);
    expect(twilioApi.calls).toHaveLength(1);
  });

  test('LiveKit 429 for good: 429 livekit-rate-limited with Retry-After, distinct from a refusal, no call', async () => {
    liveKit.failNext('Connector.ConnectTwilioCall', { ...RESOURCE_EXHAUSTED, retryAfter: '7' }, 100);
    const reply = await place({ To: '+14155550123' });
    expect(reply.status).toBe(429);
    expect(reply.retryAfter).toBe('7');
    expect(reply.json.error.code).toBe('livekit-rate-limited');
    expect(twilioApi.calls).toHaveLength(0);
    expect(reply.ms).toBeLessThan(8000);
  });

  test('a 503 after LiveKit made the session (OUTBOUND): resent under a derived identity, nothing evicted, the stray removed', async () => {
    liveKit.failNext('Connector.ConnectTwilioCall', { ...UNAVAILABLE, applied: true });
    const reply = await place({ To: '+14155550123' });
    expect(reply.status).toBe(200);
    const [first, second] = connects();
    expect(second!.participantIdentity).toBe(`${first!.participantIdentity}-r`);
    expect(reply.json.participantIdentity).toBe(second!.participantIdentity);
    expect(liveKit.evicted).toEqual([]);
    const room = liveKit.rooms.get(reply.json.roomName)!;
    expect([...room.keys()]).toEqual([second!.participantIdentity]);
    // Twilio streams into the session that exists, and status callbacks name it.
    const statusUrl = new URL(String(twilioApi.calls[0]!.params.StatusCallback));
    expect(statusUrl.searchParams.get('identity')).toBe(second!.participantIdentity);
    expect(room.get(second!.participantIdentity)!.attributes['twilio.callSid']).toBe(reply.json.callSid);
  });

  test('a 503 when the request named its participant: not resent (it could evict), 503 livekit-unavailable with Retry-After', async () => {
    liveKit.failNext('Connector.ConnectTwilioCall', UNAVAILABLE);
    const reply = await place({ To: '+14155550123', ParticipantIdentity: 'alice' });
    expect(reply.status).toBe(503);
    expect(reply.retryAfter).toBe('1');
    expect(reply.json.error.code).toBe('livekit-unavailable');
    expect(connects()).toHaveLength(1);
    expect(twilioApi.calls).toHaveLength(0);
  });

  test('one Twilio 20429: resent, one call placed', async () => {
    twilioApi.createFaults.push(TOO_MANY_REQUESTS);
    const reply = await place({ To: '+14155550123' });
    expect(reply.status).toBe(200);
    expect(twilioApi.faulted).toEqual([{ kind: 'create', code: 20429 }]);
    expect(twilioApi.calls).toHaveLength(1);
  });

  test('Twilio 20429 for good: 429 twilio-rate-limited with Retry-After, the session closed', async () => {
    for (let i = 0; i < 10; i += 1) twilioApi.createFaults.push(TOO_MANY_REQUESTS);
    const reply = await place({ To: '+14155550123' });
    expect(reply.status).toBe(429);
    expect(reply.retryAfter).toBe('1');
    expect(reply.json.error).toMatchObject({ code: 'twilio-rate-limited', twilioCode: 20429 });
    expect(twilioApi.calls).toHaveLength(0);
    expect(liveKit.rooms.get(connects()[0]!.roomName)?.size ?? 0).toBe(0);
    expect(reply.ms).toBeLessThan(8000);
  });

  test('a Twilio 500 on calls.create is never resent and never called certain: the call may exist, the key stays taken', async () => {
    twilioApi.createFaults.push({ status: 500, code: 20500, message: 'Internal Server Error' });
    const reply = await place({ To: '+14155550123', IdempotencyKey: 'five-hundred' });
    expect(reply.status).toBe(502);
    expect(reply.json.error).toMatchObject({ code: 'twilio-error', callMayExist: true });
    expect(twilioApi.faulted).toHaveLength(1);
    const retry = await place({ To: '+14155550123', IdempotencyKey: 'five-hundred' });
    expect(retry.json.error).toMatchObject({ code: 'call-may-exist' });
    expect(twilioApi.faulted).toHaveLength(1);
    expect(twilioApi.calls).toHaveLength(0);
  });
});

describe('a placed call is always controllable', () => {
  test.each<[string, Fault]>([
    ['a 429', RESOURCE_EXHAUSTED],
    ['a 503', UNAVAILABLE],
  ])('%s on the UpdateParticipant that binds the call: resent, and call-control reaches the call', async (_, fault) => {
    liveKit.failNext('RoomService.UpdateParticipant', fault);
    const placed = await place({ To: '+14155550123' });
    expect(placed.status).toBe(200);
    expect(logLine('outbound').callSidAttribute).toBe('done');
    twilioApi.setCallStatus(placed.json.callSid, 'in-progress');
    expect((await control(placed.json.roomName, { action: 'hangup' })).json).toEqual({ action: 'hangup', outcome: 'hung-up' });
  });

  test("the binding write failing for good: the call's first status callback binds it, and call-control reaches it", async () => {
    liveKit.failNext('RoomService.UpdateParticipant', UNAVAILABLE, 3);
    const placed = await place({ To: '+14155550123' });
    expect(placed.status).toBe(200);
    expect(logLine('outbound').callSidAttribute).toBe('failed');
    expect((await control(placed.json.roomName, { action: 'hangup' })).status).toBe(404);

    const url = String(twilioApi.calls[0]!.params.StatusCallback);
    const reply = await statusCallback(url, { CallSid: placed.json.callSid, CallStatus: 'initiated', AccountSid: twilioApi.accountSid });
    expect(reply).toEqual({ status: 200, json: { outcome: 'updated' } });
    twilioApi.setCallStatus(placed.json.callSid, 'in-progress');
    expect((await control(placed.json.roomName, { action: 'hangup' })).json).toEqual({ action: 'hangup', outcome: 'hung-up' });
  });

  test('a status callback never binds a participant that carries another call', async () => {
    const placed = await place({ To: '+14155550123' });
    const participant = liveKit.rooms.get(placed.json.roomName)!.get(placed.json.participantIdentity)!;
    delete participant.attributes['twilio.callBinding'];
    const url = String(twilioApi.calls[0]!.params.StatusCallback);
    await statusCallback(url, { CallSid: callSid(99), CallStatus: 'ringing' });
    expect(participant.attributes['twilio.callBinding']).toBeUndefined();
  });
});

describe('status never claims an update it did not make', () => {
  test('a 503 on the attribute write: resent, updated', async () => {
    const placed = await place({ To: '+14155550123' });
    liveKit.failNext('RoomService.UpdateParticipant', UNAVAILABLE);
    const url = String(twilioApi.calls[0]!.params.StatusCallback);
    expect(await statusCallback(url, { CallSid: placed.json.callSid, CallStatus: 'ringing' })).toEqual({
      status: 200,
      json: { outcome: 'updated' },
    });
    expect(liveKit.rooms.get(placed.json.roomName)!.get(placed.json.participantIdentity)!.attributes['twilio.callStatus']).toBe('ringing');
  });

  test('the attribute write failing for good: said so (attributes-failed), the data message still sent', async () => {
    const placed = await place({ To: '+14155550123' });
    liveKit.failNext('RoomService.UpdateParticipant', UNAVAILABLE, 10);
    const url = String(twilioApi.calls[0]!.params.StatusCallback);
    expect(await statusCallback(url, { CallSid: placed.json.callSid, CallStatus: 'ringing' })).toEqual({
      status: 200,
      json: { outcome: 'attributes-failed' },
    });
    expect(logLine('status')).toMatchObject({ outcome: 'attributes-failed', attributes: 'failed', dataMessage: 'done' });
    expect(liveKit.dataMessages.map((m) => JSON.parse(m.payload).status)).toEqual(['ringing']);
  });

  test('nothing reaching LiveKit at all: 503 livekit-failed, never "updated"', async () => {
    const placed = await place({ To: '+14155550123' });
    liveKit.failNext('RoomService.UpdateParticipant', UNAVAILABLE, 10);
    liveKit.failNext('RoomService.SendData', RESOURCE_EXHAUSTED, 10);
    const url = String(twilioApi.calls[0]!.params.StatusCallback);
    expect(await statusCallback(url, { CallSid: placed.json.callSid, CallStatus: 'ringing' })).toEqual({
      status: 503,
      json: { outcome: 'livekit-failed' },
    });
    expect(logLine('status')).toMatchObject({ outcome: 'livekit-failed', attributes: 'failed', dataMessage: 'failed' });
  });

  test('a data message is resent on a 429 only, never on a 503 (it would reach the room twice)', async () => {
    const placed = await place({ To: '+14155550123' });
    const url = String(twilioApi.calls[0]!.params.StatusCallback);
    liveKit.failNext('RoomService.SendData', RESOURCE_EXHAUSTED);
    await statusCallback(url, { CallSid: placed.json.callSid, CallStatus: 'ringing' });
    expect(liveKit.calls('RoomService.SendData')).toHaveLength(2);
    liveKit.failNext('RoomService.SendData', { ...UNAVAILABLE, applied: true });
    await statusCallback(url, { CallSid: placed.json.callSid, CallStatus: 'in-progress' });
    expect(liveKit.calls('RoomService.SendData')).toHaveLength(3);
    expect(liveKit.dataMessages.map((m) => JSON.parse(m.payload).status)).toEqual(['ringing', 'active']);
  });
});

describe('call-control through a passing refusal', () => {
  async function liveCall(n: number) {
    expectStream((await ring(n)).body);
    twilioApi.setCallStatus(callSid(n), 'in-progress');
    return `call-${callSid(n)}`;
  }

  test('one Twilio 20429 on the update: resent, transferred once', async () => {
    const room = await liveCall(20);
    twilioApi.updateFaults.push(TOO_MANY_REQUESTS);
    expect((await control(room, { action: 'transfer', target: 'billing' })).status).toBe(200);
    expect(twilioApi.updates.filter((u) => u.callSid === callSid(20))).toHaveLength(1);
  });

  test('Twilio 20429 for good: 429 with Retry-After, the call untouched', async () => {
    const room = await liveCall(21);
    for (let i = 0; i < 10; i += 1) twilioApi.updateFaults.push(TOO_MANY_REQUESTS);
    const reply = await control(room, { action: 'hangup' });
    expect(reply.status).toBe(429);
    expect(reply.retryAfter).toBe('1');
    expect(reply.json.error.code).toBe('twilio-rate-limited');
  });

  test('a Twilio 503: a hang-up is resent (ending twice is harmless), a transfer is not (it would restart)', async () => {
    const room = await liveCall(22);
    const unavailable = { status: 503, code: 20503, message: 'Service Unavailable' };
    twilioApi.updateFaults.push(unavailable);
    expect((await control(room, { action: 'transfer', target: 'billing' })).status).toBe(502);
    expect(twilioApi.updates).toHaveLength(0);
    twilioApi.updateFaults.push(unavailable);
    expect((await control(room, { action: 'hangup' })).json).toEqual({ action: 'hangup', outcome: 'hung-up' });
  });

  test('a LiveKit 503 on finding the call: resent (a read), the action done', async () => {
    const room = await liveCall(23);
    liveKit.failNext('RoomService.ListParticipants', UNAVAILABLE);
    expect((await control(room, { action: 'hangup' })).status).toBe(200);
  });
});
