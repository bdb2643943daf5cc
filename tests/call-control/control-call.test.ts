/**
 * call-control against the LiveKit and Twilio REST stand-ins: each action's
 * exact Twilio request, the room-to-call binding, the token rules, targets
 * and their toll-fraud checks, and failures of either service.
 */
import type { ConnectTwilioCallRequest } from '@livekit/protocol';
import { handler as controlHandler } from '../../src/functions/call-control';
import { handler as incomingHandler } from '../../src/functions/incoming';
import { controlCall } from '../../src/call-control/control-call';
import { controlDependencies } from '../../src/call-control/dependencies';
import { loadRoutes } from '../../src/config/routes';
import { answerIncomingCall } from '../../src/incoming/answer-call';
import { liveKitConnector } from '../../src/livekit/connector';
import { controlToken, inboundWebhook, liveKitEnv } from '../support/fixtures';
import { captureConsole, expectNoSecrets } from '../support/logs';
import { ACCOUNT_SID, ApiBody, callSid, invoke, localContext, signedEvent } from '../support/runtime';
import { useLiveKit, useTwilioApi } from '../support/stand-ins';
import { find, parseTwiml } from '../support/twiml';

const liveKit = useLiveKit();
const twilioApi = useTwilioApi();
const logs: string[] = [];
beforeEach(() => captureConsole(logs));
afterEach(() => jest.restoreAllMocks());

const FLOW_SID = 'FW' + 'cd'.repeat(16);
const env = (extra: Record<string, string> = {}) =>
  liveKitEnv(liveKit, {
    AGENT_NAMES: 'support-agent',
    OUTBOUND_CALLER_IDS: '+14155550100',
    TRANSFER_TARGETS: 'billing=+14155550111,desk=sip:desk@pbx.example.com,premium=+19006299170',
    OUTBOUND_ALLOW_ADDRESSES: 'true',
    OUTBOUND_SIP_DOMAINS: 'pbx.example.com',
    ...extra,
  });

/** An inbound call connected by incoming, live at Twilio: its room and call SID. */
async function inboundCall(n: number, extra: Record<string, string> = {}): Promise<{ room: string; callSid: string }> {
  const context = localContext(env(), '/incoming');
  const reply = await invoke(incomingHandler, context, signedEvent(context, inboundWebhook(n, extra)));
  expect(reply.body).toContain('<Stream');
  twilioApi.setCallStatus(callSid(n), 'in-progress');
  return { room: `call-${callSid(n)}`, callSid: callSid(n) };
}

async function control(
  room: string,
  body: Record<string, unknown>,
  options: { extraEnv?: Record<string, string>; token?: string } = {},
): Promise<{ status: number; json: ApiBody & Record<string, unknown> }> {
  const token = options.token ?? (await controlToken(room, body));
  const context = localContext(env(options.extraEnv), '/call-control', 3000, (o) => twilioApi.client(o?.timeout));
  const event = { ...body, request: { headers: token ? { authorization: `Bearer ${token}` } : {}, cookies: {} } };
  const reply = await invoke(controlHandler, context, event);
  return { status: reply.status, json: JSON.parse(reply.body) };
}

const updates = (sid: string) => twilioApi.updates.filter((u) => u.callSid === sid).map((u) => u.params);

describe('call-control: hang up', () => {
  test("ends the room's own call with Status=completed, and logs one line without the token", async () => {
    const { room, callSid: sid } = await inboundCall(1);
    const reply = await control(room, { action: 'hangup' });
    expect(reply).toEqual({ status: 200, json: { action: 'hangup', outcome: 'hung-up' } });
    expect(updates(sid)).toEqual([{ Status: 'completed' }]);
    const line = JSON.parse(logs.find((l) => l.includes('"fn":"call-control"'))!);
    expect(line).toMatchObject({ fn: 'call-control', room, callSid: sid, action: 'hangup', outcome: 'hung-up', status: 200 });
    expectNoSecrets(logs.join('\n'));
  });

  test('a call that already ended is not an error', async () => {
    const { room, callSid: sid } = await inboundCall(2);
    twilioApi.setCallStatus(sid, 'completed');
    expect(await control(room, { action: 'hangup' })).toEqual({ status: 200, json: { action: 'hangup', outcome: 'already-ended' } });
  });
});

describe('call-control: transfer', () => {
  test('to a configured number: the message, then <Dial><Number>', async () => {
    const { room, callSid: sid } = await inboundCall(3);
    const reply = await control(room, { action: 'transfer', target: 'billing', message: 'Connecting you to billing.' });
    expect(reply).toEqual({ status: 200, json: { action: 'transfer', outcome: 'transferred', target: 'billing' } });
    const twiml = parseTwiml(updates(sid)[0]!.Twiml!);
    expect(find(twiml, 'Say')!.text).toBe('Connecting you to billing.');
    expect(find(twiml, 'Number')!.text).toBe('+14155550111');
  });

  test('to a SIP address on an allowed domain: <Dial><Sip>', async () => {
    const { room, callSid: sid } = await inboundCall(4);
    expect((await control(room, { action: 'transfer', target: 'desk' })).status).toBe(200);
    expect(find(parseTwiml(updates(sid)[0]!.Twiml!), 'Sip')!.text).toBe('sip:desk@pbx.example.com');
  });

  test("a route's own targets come first, for that route's calls only", async () => {
    const routes = () =>
      loadRoutes(() =>
        JSON.stringify({ routes: [{ name: 'vip', numbers: ['+14155550199'], transferTargets: { billing: '+14155550122' } }] }),
      );
    const context = localContext(env(), '/incoming');
    const incomingDeps = { connector: liveKitConnector, log: () => undefined, routes };
    await answerIncomingCall(context, signedEvent(context, inboundWebhook(5)), incomingDeps);
    twilioApi.setCallStatus(callSid(5), 'in-progress');
    const body = { action: 'transfer', target: 'billing' };
    const token = await controlToken(`call-${callSid(5)}`, body);
    const deps = { ...controlDependencies((t) => twilioApi.client(t) as never), log: () => undefined, routes };
    const controlContext = localContext(env(), '/call-control');
    const reply = await controlCall(
      controlContext,
      { ...body, request: { headers: { authorization: `Bearer ${token}` }, cookies: {} } },
      deps,
    );
    expect(reply.status).toBe(200);
    expect(find(parseTwiml(updates(callSid(5))[0]!.Twiml!), 'Number')!.text).toBe('+14155550122');
  });

  test.each([
    ['a target nobody configured', 'sales', 404, 'target-unknown'],
    ['a premium-rate target, configured or not', 'premium', 403, 'destination-blocked'],
  ])('%s is refused and the call is untouched', async (_, target, status, code) => {
    const { room, callSid: sid } = await inboundCall(6);
    const reply = await control(room, { action: 'transfer', target });
    expect(reply.status).toBe(status);
    expect(reply.json.error).toMatchObject({ code, field: 'target' });
    expect(updates(sid)).toEqual([]);
  });

  test('a call that ended meanwhile: 409 call-over', async () => {
    const { room, callSid: sid } = await inboundCall(7);
    twilioApi.setCallStatus(sid, 'completed');
    const reply = await control(room, { action: 'transfer', target: 'billing' });
    expect(reply.status).toBe(409);
    expect(reply.json.error.code).toBe('call-over');
  });
});

describe('call-control: hand back to Studio', () => {
  test('a call a flow sent here goes back to it with the result and fields as query parameters', async () => {
    const context = localContext(env(), '/incoming');
    const params = inboundWebhook(8);
    const reply = await invoke(incomingHandler, context, signedEvent(context, { ...params, FlowSid: FLOW_SID }));
    expect(reply.status).toBe(200);
    twilioApi.setCallStatus(callSid(8), 'in-progress');
    const back = await control(`call-${callSid(8)}`, {
      action: 'return-to-flow',
      result: 'resolved',
      fields: { orderId: 'A-17', intent: 'refund' },
    });
    expect(back).toEqual({ status: 200, json: { action: 'return-to-flow', outcome: 'returned' } });
    const redirect = find(parseTwiml(updates(callSid(8))[0]!.Twiml!), 'Redirect')!;
    const url = new URL(redirect.text);
    expect(`${url.origin}${url.pathname}`).toBe(`https://webhooks.twilio.com/v1/Accounts/${ACCOUNT_SID}/Flows/${FLOW_SID}`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      FlowEvent: 'return',
      ConnectorResult: 'resolved',
      orderId: 'A-17',
      intent: 'refund',
    });
  });

  test('a call not from Studio gets a clear refusal', async () => {
    const { room, callSid: sid } = await inboundCall(9);
    const reply = await control(room, { action: 'return-to-flow' });
    expect(reply.status).toBe(409);
    expect(reply.json.error.code).toBe('not-from-studio');
    expect(updates(sid)).toEqual([]);
  });

  test.each([
    [{ FlowEvent: 'x' }],
    [{ 'bad name': 'x' }],
    [Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`f${i}`, 'x']))],
    [{ note: 'x'.repeat(257) }],
    [{ note: 'bell\u0007' }],
  ])('fields %j are refused, naming fields', async (fields) => {
    const { room } = await inboundCall(10);
    const reply = await control(room, { action: 'return-to-flow', fields });
    expect(reply.status).toBe(400);
    expect(reply.json.error.field).toBe('fields');
  });
});

describe('call-control: bring in a human', () => {
  test('calls the target (no session until they answer); a repeat rings nobody twice; cancel ends the ringing call', async () => {
    const { room } = await inboundCall(11);
    const first = await control(room, { action: 'add-human', target: 'billing' });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      action: 'add-human',
      outcome: 'calling',
      consultRoom: `${room}-consult`,
      participantIdentity: 'human-billing',
    });
    expect(
      liveKit.calls('Connector.ConnectTwilioCall').filter((r) => (r.body as ConnectTwilioCallRequest).roomName === `${room}-consult`),
    ).toEqual([]);
    expect(twilioApi.calls).toHaveLength(1);
    expect(twilioApi.calls[0]!.params.To).toBe('+14155550111');
    const humanSid = first.json.callSid as string;

    const again = await control(room, { action: 'add-human', target: 'billing' });
    expect(again.json).toMatchObject({ callSid: humanSid });
    expect(twilioApi.calls).toHaveLength(1);

    twilioApi.setCallStatus(humanSid, 'ringing');
    const cancel = await control(room, { action: 'cancel-human' });
    expect(cancel).toEqual({ status: 200, json: { action: 'cancel-human', outcome: 'cancelled', callSid: humanSid } });
    expect(updates(humanSid)).toEqual([{ Status: 'completed' }]);
  });

  test('a premium target is refused through the same guards as outbound', async () => {
    const { room } = await inboundCall(12);
    const reply = await control(room, { action: 'add-human', target: 'premium' });
    expect(reply.status).toBe(403);
    expect(twilioApi.calls).toHaveLength(0);
  });
});

describe('call-control: only the room of the token, only the call bound to it', () => {
  test("a token for room A hangs up A's call and never B's", async () => {
    const a = await inboundCall(13);
    const b = await inboundCall(14);
    expect((await control(a.room, { action: 'hangup' })).status).toBe(200);
    expect(updates(a.callSid)).toHaveLength(1);
    expect(updates(b.callSid)).toHaveLength(0);
  });

  test("another call's SID written into a room (as its admin could) is not trusted: no binding, no call", async () => {
    const b = await inboundCall(15);
    liveKit.addParticipant('room-c', 'forged');
    liveKit.rooms.get('room-c')!.get('forged')!.attributes = {
      'twilio.callSid': b.callSid,
      'twilio.accountSid': ACCOUNT_SID,
      'twilio.route': 'default',
      'twilio.callBinding': 'not-a-binding',
    };
    const reply = await control('room-c', { action: 'hangup' });
    expect(reply.status).toBe(404);
    expect(reply.json.error.code).toBe('no-call');
    expect(updates(b.callSid)).toHaveLength(0);
  });

  test('a room with no call, or that does not exist, gets the same answer', async () => {
    liveKit.addParticipant('empty-room', 'someone');
    const empty = await control('empty-room', { action: 'hangup' });
    const missing = await control('no-such-room', { action: 'hangup' });
    expect(empty).toEqual(missing);
    expect(missing.json.error.code).toBe('no-call');
  });
});

describe('call-control: the token', () => {
  const body = { action: 'hangup' };
  test.each([
    ['no token', async () => '', 401, 'token-required'],
    ['signed with another secret', (room: string) => controlToken(room, body, { secret: 'x'.repeat(48) }), 401, 'token-invalid'],
    ['valid for an hour', (room: string) => controlToken(room, body, { ttlSeconds: 3600 }), 401, 'token-too-long-lived'],
    ['without roomAdmin', (room: string) => controlToken(room, body, { grant: { roomList: true, room } }), 403, 'token-grant'],
    ['roomAdmin for no room', (room: string) => controlToken(room, body, { grant: { roomAdmin: true } }), 403, 'token-grant'],
    [
      'for another request (sha256 of a transfer)',
      (room: string) => controlToken(room, { action: 'transfer', target: 'billing' }),
      403,
      'request-not-signed',
    ],
    ['without sha256', (room: string) => controlToken(room, body, { sha256: '' }), 403, 'request-not-signed'],
  ])('%s: refused, and Twilio never hears of it', async (_, mint, status, code) => {
    const { room, callSid: sid } = await inboundCall(16);
    const reply = await control(room, body, { token: await mint(room) });
    expect(reply.status).toBe(status);
    expect(reply.json.error.code).toBe(code);
    expect(updates(sid)).toEqual([]);
    expectNoSecrets(logs.join('\n'));
  });

  test('an expired token is refused', async () => {
    const { room } = await inboundCall(17);
    const token = await controlToken(room, body, { ttlSeconds: 1 });
    await new Promise((r) => setTimeout(r, 7000));
    expect((await control(room, body, { token })).json.error.code).toBe('token-invalid');
  }, 15_000);
});

describe('call-control: when Twilio or LiveKit fail', () => {
  test('Twilio hanging: 504 inside 8 s', async () => {
    const { room } = await inboundCall(18);
    twilioApi.updateBehaviour = { kind: 'hang' };
    const started = Date.now();
    const reply = await control(room, { action: 'hangup' });
    expect(Date.now() - started).toBeLessThan(8000);
    expect(reply.status).toBe(504);
    expect(reply.json.error.code).toBe('twilio-timeout');
  }, 15_000);

  test('LiveKit hanging: 502 inside 8 s, nothing changed at Twilio', async () => {
    const { room, callSid: sid } = await inboundCall(19);
    liveKit.methodBehaviour['RoomService.ListParticipants'] = { kind: 'hang' };
    const started = Date.now();
    const reply = await control(room, { action: 'hangup' });
    expect(Date.now() - started).toBeLessThan(8000);
    expect(reply.status).toBe(502);
    expect(updates(sid)).toEqual([]);
  }, 15_000);

  test.each([
    [{ action: 'dance' }, 'action'],
    [{}, 'action'],
    [{ action: 'transfer' }, 'target'],
    [{ action: 'transfer', target: '+19005550100' }, 'target'],
    [{ action: 'transfer', target: 'billing', message: 'hi\u0000' }, 'message'],
    [{ action: 'transfer', target: 'billing', message: 'x'.repeat(1001) }, 'message'],
    [{ action: 'hangup', callSid: 'CA00000000000000000000000000000001' }, 'callSid'],
    [{ action: 'return-to-flow', result: '"/><Hangup/>' }, 'result'],
    [{ action: 'hangup', target: { nested: 1 } }, 'target'],
  ])('hostile or wrong input %j: 400 naming %s, nothing done', async (body, field) => {
    const { room, callSid: sid } = await inboundCall(20);
    const reply = await control(room, body);
    expect(reply.status).toBe(400);
    expect(reply.json.error.field).toBe(field);
    expect(updates(sid)).toEqual([]);
  });
});

describe('call-control: checks in order (size, token, shape, signature)', () => {
  /** A value nested `depth` arrays deep, built without recursion. */
  const nested = (depth: number): unknown => {
    let value: unknown = 'x';
    for (let i = 0; i < depth; i += 1) value = [value];
    return value;
  };

  test.each([
    ['without a token', false],
    ['with a valid token', true],
  ])('a body nested 10,000 levels deep is refused with 400 %s, never a crash', async (_, withToken) => {
    const { room, callSid: sid } = await inboundCall(30);
    const body = { action: 'hangup', fields: nested(10_000) };
    const token = withToken ? await controlToken(room, { action: 'hangup' }) : '';
    const reply = await control(room, body, { token });
    expect(reply.status).toBe(400);
    expect(reply.json.error.code).toBe('request-too-large');
    expect(updates(sid)).toEqual([]);
  });

  test('a body of a megabyte is refused before the token is looked at', async () => {
    const { room } = await inboundCall(31);
    const reply = await control(room, { action: 'transfer', target: 'billing', message: 'x'.repeat(1_000_000) }, { token: '' });
    expect(reply.status).toBe(400);
    expect(reply.json.error.code).toBe('request-too-large');
  });

  test("without a token, a request of the wrong shape learns nothing of the API's shape: 401", async () => {
    const { room } = await inboundCall(32);
    const reply = await control(room, { action: 'dance', message: 5 }, { token: '' });
    expect(reply.status).toBe(401);
    expect(reply.json.error.code).toBe('token-required');
  });

  test.each([
    [{ action: 'transfer', target: 'billing', message: 5 }, 'message'],
    [{ action: 'transfer', target: 'billing', message: true }, 'message'],
    [{ action: 'transfer', target: ['billing'] }, 'target'],
    [{ action: 'hangup', message: 'Goodbye.' }, 'message'],
  ])('with a valid token, a value of the wrong type or a parameter the action does not take: 400 naming it (%j)', async (body, field) => {
    const { room, callSid: sid } = await inboundCall(33);
    // The token signs what the client meant to send; the server must report the shape, not the digest.
    const reply = await control(room, body, { token: await controlToken(room, { action: 'transfer', target: 'billing' }) });
    expect(reply.status).toBe(400);
    expect(reply.json.error.field).toBe(field);
    expect(updates(sid)).toEqual([]);
  });

  test('null means "not given", as models send under strict tool schemas', async () => {
    const { room, callSid: sid } = await inboundCall(34);
    const reply = await control(room, { action: 'transfer', target: 'billing', message: null });
    expect(reply.status).toBe(200);
    const twiml = parseTwiml(updates(sid)[0]!.Twiml!);
    expect(find(twiml, 'Say')).toBeUndefined();
    expect(find(twiml, 'Number')!.text).toBe('+14155550111');
  });

  test('line breaks, tabs and runs of spaces in a message are spoken as single spaces', async () => {
    const { room, callSid: sid } = await inboundCall(35);
    const message = 'One moment.\nI am connecting you\tto billing.\r\n\r\n  Thank you\u2028for waiting.';
    expect((await control(room, { action: 'transfer', target: 'billing', message })).status).toBe(200);
    expect(find(parseTwiml(updates(sid)[0]!.Twiml!), 'Say')!.text).toBe(
      'One moment. I am connecting you to billing. Thank you for waiting.',
    );
  });

  test.each([['bell\u0007'], ['nul\u0000'], ['escape\u001b[0m'], ['lone \ud800 surrogate']])(
    'other control characters in a message are still refused (%j)',
    async (message) => {
      const { room, callSid: sid } = await inboundCall(36);
      const reply = await control(room, { action: 'transfer', target: 'billing', message });
      expect(reply.status).toBe(400);
      expect(reply.json.error.field).toBe('message');
      expect(updates(sid)).toEqual([]);
    },
  );
});

describe('call-control: names from a request never reach Object.prototype', () => {
  const routes = () =>
    loadRoutes(() =>
      JSON.stringify({ routes: [{ name: 'vip', numbers: ['+14155550199'], transferTargets: { vipdesk: '+14155550122' } }] }),
    );

  /** A call that came in on the routed number, controlled with the routes file loaded. */
  async function routedControl(n: number, body: Record<string, unknown>) {
    const context = localContext(env(), '/incoming');
    await answerIncomingCall(context, signedEvent(context, inboundWebhook(n)), {
      connector: liveKitConnector,
      log: () => undefined,
      routes,
    });
    twilioApi.setCallStatus(callSid(n), 'in-progress');
    const token = await controlToken(`call-${callSid(n)}`, body);
    const deps = { ...controlDependencies((t) => twilioApi.client(t) as never), log: () => undefined, routes };
    const reply = await controlCall(
      localContext(env(), '/call-control'),
      { ...body, request: { headers: { authorization: `Bearer ${token}` }, cookies: {} } },
      deps,
    );
    return { status: reply.status, json: reply.body as ApiBody & { error: { targets?: string[] } } };
  }

  test.each(['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf'])(
    'target %s on a routed call: 404 target-unknown listing the real targets, for transfer and add-human',
    async (target) => {
      for (const action of ['transfer', 'add-human']) {
        const reply = await routedControl(40, { action, target });
        expect(reply.status).toBe(404);
        expect(reply.json.error).toMatchObject({
          code: 'target-unknown',
          field: 'target',
          targets: ['billing', 'desk', 'premium', 'vipdesk'],
        });
      }
      expect(updates(callSid(40))).toEqual([]);
      expect(twilioApi.calls).toHaveLength(0);
    },
  );

  test.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('action %s: 400 naming action', async (action) => {
    const { room } = await inboundCall(41);
    const reply = await control(room, { action });
    expect(reply.status).toBe(400);
    expect(reply.json.error.field).toBe('action');
  });

  test('an unknown target is answered with the names that exist, in the message too', async () => {
    const { room } = await inboundCall(42);
    const reply = await control(room, { action: 'transfer', target: 'sales' });
    expect(reply.json.error).toEqual({
      code: 'target-unknown',
      field: 'target',
      targets: ['billing', 'desk', 'premium'],
      message: 'No transfer target named sales is configured for this call; the targets are: billing, desk, premium',
    });
  });
});
