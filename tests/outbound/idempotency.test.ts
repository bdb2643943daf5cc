/**
 * IdempotencyKey: one call per key, kept in Twilio Sync (the Twilio stand-in
 * serves Sync Maps with Twilio's 54208 on a key that exists), and what a
 * request that timed out at Twilio says and leaves behind.
 */
import { postOutbound } from '../support/fixtures';
import { captureConsole } from '../support/logs';
import { useLiveKit, useTwilioApi } from '../support/stand-ins';

const liveKit = useLiveKit();
const twilioApi = useTwilioApi();
const logs: string[] = [];
beforeEach(() => captureConsole(logs));
afterEach(() => jest.restoreAllMocks());

const post = (params: Record<string, string>, extra: Record<string, string> = {}) => postOutbound({ liveKit, twilioApi }, params, extra);

describe('outbound with an IdempotencyKey', () => {
  test('a retry gets the first answer, marked replayed, and places no second call', async () => {
    const first = await post({ To: '+14155550123', IdempotencyKey: 'order-1' });
    expect(first.status).toBe(200);
    const second = await post({ To: '+14155550123', IdempotencyKey: 'order-1' });
    expect(second.status).toBe(200);
    expect(second.json).toEqual({ ...first.json, replayed: true });
    expect(twilioApi.calls).toHaveLength(1);
    expect(liveKit.calls('Connector.ConnectTwilioCall')).toHaveLength(1);
    expect(twilioApi.sync.creates.map((c) => c.outcome)).toEqual([201, 54208]);
  });

  test('two requests at once with one key: exactly one call', async () => {
    const replies = await Promise.all([1, 2, 3].map(() => post({ To: '+14155550123', IdempotencyKey: 'burst' })));
    expect(twilioApi.calls).toHaveLength(1);
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    for (const reply of replies.filter((r) => r.status !== 200)) expect(reply.json.error.code).toBe('request-in-progress');
  });

  test('different keys, and no key, are separate calls', async () => {
    await post({ To: '+14155550123', IdempotencyKey: 'a' });
    await post({ To: '+14155550123', IdempotencyKey: 'b' });
    await post({ To: '+14155550123' });
    expect(twilioApi.calls).toHaveLength(3);
    expect(twilioApi.sync.creates).toHaveLength(2);
  });

  test('when nothing was placed (LiveKit refused) the key is freed and a retry places the call', async () => {
    liveKit.methodBehaviour['Connector.ConnectTwilioCall'] = { kind: 'status', status: 503, code: 'unavailable', msg: 'down' };
    expect((await post({ To: '+14155550123', IdempotencyKey: 'retry-me' })).status).toBe(502);
    liveKit.methodBehaviour = {};
    expect((await post({ To: '+14155550123', IdempotencyKey: 'retry-me' })).status).toBe(200);
    expect(twilioApi.calls).toHaveLength(1);
  });

  test('Twilio timing out: the answer says the call may exist; a retry with the key is refused, not placed again', async () => {
    twilioApi.behaviour = { kind: 'hang' };
    const first = await post({ To: '+14155550123', IdempotencyKey: 'slow' }, { TWILIO_TIMEOUT_MS: '800' });
    expect(first.status).toBe(504);
    expect(first.json.error).toMatchObject({ code: 'twilio-timeout', callMayExist: true });
    expect(first.json.error.message).toContain('its LiveKit session was closed, so it cannot reach an agent');
    twilioApi.behaviour = { kind: 'ok' };
    const retry = await post({ To: '+14155550123', IdempotencyKey: 'slow' });
    expect(retry.status).toBe(409);
    expect(retry.json.error).toMatchObject({ code: 'call-may-exist', field: 'IdempotencyKey', callMayExist: true });
    // The one create that hung; none after it.
    expect(twilioApi.calls).toHaveLength(1);
  });

  test('Sync not answering: 503 naming the field, nothing created anywhere', async () => {
    twilioApi.sync.hang = true;
    const started = Date.now();
    const reply = await post({ To: '+14155550123', IdempotencyKey: 'no-sync' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(reply.status).toBe(503);
    expect(reply.json.error).toMatchObject({ code: 'idempotency-unavailable', field: 'IdempotencyKey' });
    expect(liveKit.requests).toHaveLength(0);
    expect(twilioApi.calls).toHaveLength(0);
  });

  test('a key that is not a name is refused before anything happens', async () => {
    const reply = await post({ To: '+14155550123', IdempotencyKey: 'has spaces' });
    expect(reply.status).toBe(400);
    expect(reply.json.error.field).toBe('IdempotencyKey');
    expect(twilioApi.sync.creates).toHaveLength(0);
  });
});

describe('outbound after Twilio timed out, without a key', () => {
  test('the session could not be closed: the answer says the call may still connect', async () => {
    twilioApi.behaviour = { kind: 'hang' };
    liveKit.methodBehaviour['RoomService.RemoveParticipant'] = { kind: 'status', status: 500, code: 'internal', msg: 'x' };
    const reply = await post({ To: '+14155550123' }, { TWILIO_TIMEOUT_MS: '800' });
    expect(reply.status).toBe(504);
    expect(reply.json.error).toMatchObject({ code: 'twilio-timeout', callMayExist: true });
    expect(reply.json.error.message).toContain('could not be closed, so it may still connect to the agent');
  });
});
