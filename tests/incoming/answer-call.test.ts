import type { ConnectTwilioCallRequest } from '@livekit/protocol';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { handler } from '../../src/functions/incoming';
import { loadRoutes } from '../../src/config/routes';
import { answerIncomingCall } from '../../src/incoming/answer-call';
import { liveKitConnector } from '../../src/livekit/connector';
import { callBinding } from '../../src/twilio/call-binding';
import { API_KEY } from '../support/livekit-stand-in';
import { inboundWebhook, liveKitEnv } from '../support/fixtures';
import { useLiveKit } from '../support/stand-ins';
import { captureConsole, expectNoSecrets } from '../support/logs';
import { ACCOUNT_SID, AUTH_TOKEN, callSid, invoke, localContext, signedEvent } from '../support/runtime';
import { find, parseTwiml, streamUrl } from '../support/twiml';

const stand = useLiveKit();
const logs: string[] = [];

beforeEach(() => captureConsole(logs));
afterEach(() => jest.restoreAllMocks());

const env = (extra: Record<string, string> = {}) =>
  liveKitEnv(stand, { LIVEKIT_TIMEOUT_MS: '1000', AGENT_NAMES: 'support-agent', ...extra });
const webhook = (extra: Record<string, string> = {}) => inboundWebhook(7, extra);

async function call(envExtra: Record<string, string> = {}, params: Record<string, string> = webhook()) {
  const context = localContext(env(envExtra), '/incoming');
  return invoke(handler, context, signedEvent(context, params));
}

function lastConnect(): ConnectTwilioCallRequest {
  const calls = stand.calls('Connector.ConnectTwilioCall');
  expect(calls).toHaveLength(1);
  return calls[0]!.body as ConnectTwilioCallRequest;
}

function expectFallback(body: string, message = "Sorry, we can't connect your call right now. Please try again later.") {
  const root = parseTwiml(body);
  expect(find(root, 'Stream')).toBeUndefined();
  expect(find(root, 'Say')?.text).toBe(message);
  expect(root.children.map((c) => c.name)).toEqual(['Say', 'Hangup']);
}

const expectNoLeaks = () => expectNoSecrets(logs.join('\n'));

describe('incoming: a call is connected to LiveKit', () => {
  test('answers TwiML that streams to the URL LiveKit issued for this call', async () => {
    const reply = await call();
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('text/xml');
    const request = lastConnect();
    expect(streamUrl(reply.body)).toBe(stand.connectUrls.get(request.roomName));
    const root = parseTwiml(reply.body);
    expect(root.children.map((c) => c.name)).toEqual(['Connect']);
    expect(find(root, 'Connect')!.children.map((c) => c.name)).toEqual(['Stream']);
    expectNoLeaks();
  });

  test('signs the LiveKit request with a JWT from the API key holding roomCreate', async () => {
    await call();
    const [recorded] = stand.calls('Connector.ConnectTwilioCall');
    expect(recorded!.claims.iss).toBe(API_KEY);
    expect(recorded!.claims.video?.roomCreate).toBe(true);
    expect(stand.refused).toEqual([]);
  });

  test('asks for an inbound session in a room named after the call', async () => {
    await call();
    const request = lastConnect();
    expect(request.twilioCallDirection).toBe(0);
    expect(request.roomName).toBe(`call-${callSid(7)}`);
    expect(request.participantIdentity).toBe('+14155550100');
    expect(request.participantName).toBe('+14155550100');
  });

  test('describes the call in participant attributes and leaves empty ones out', async () => {
    await call({}, webhook({ CallerName: 'ACME CORP', FromCountry: '' }));
    expect(lastConnect().participantAttributes).toEqual({
      'twilio.route': 'default',
      'twilio.callSid': callSid(7),
      'twilio.accountSid': ACCOUNT_SID,
      'twilio.direction': 'inbound',
      'twilio.from': '+14155550100',
      'twilio.to': '+14155550199',
      'twilio.phoneNumber': '+14155550100',
      'twilio.callerName': 'ACME CORP',
      'twilio.toCountry': 'US',
      // Keyed with the auth token: only this service can bind a call to a room.
      'twilio.callBinding': callBinding(AUTH_TOKEN, {
        room: `call-${callSid(7)}`,
        identity: '+14155550100',
        callSid: callSid(7),
        accountSid: ACCOUNT_SID,
        flowSid: '',
        route: 'default',
      }),
    });
  });

  test('dispatches every configured agent with the call as JSON metadata', async () => {
    await call({ AGENT_NAMES: 'support-agent, billing-agent' });
    const agents = lastConnect().agents;
    expect(agents.map((a) => a.agentName)).toEqual(['support-agent', 'billing-agent']);
    for (const agent of agents) {
      expect(JSON.parse(agent.metadata)).toEqual({
        callSid: callSid(7),
        from: '+14155550100',
        to: '+14155550199',
        direction: 'inbound',
      });
    }
  });

  test('uses fixed agent metadata when configured, and no dispatch without agent names', async () => {
    await call({ AGENT_METADATA: '{"queue":"vip"}' });
    expect(lastConnect().agents[0]!.metadata).toBe('{"queue":"vip"}');
    stand.reset();
    await call({ AGENT_NAMES: '' });
    expect(lastConnect().agents).toEqual([]);
  });

  test('honours the room prefix and the identity and name policies', async () => {
    await call({ ROOM_PREFIX: 'support-', PARTICIPANT_IDENTITY: 'call', PARTICIPANT_NAME: 'caller-name' }, webhook({ CallerName: 'Ada' }));
    const request = lastConnect();
    expect(request.roomName).toBe(`support-${callSid(7)}`);
    expect(request.participantIdentity).toBe(`caller-${callSid(7)}`);
    expect(request.participantName).toBe('Ada');
    stand.reset();
    await call({ PARTICIPANT_NAME: 'none' });
    expect(lastConnect().participantName).toBe('');
  });

  test.each([
    ['anonymous', '+266696687'],
    ['the word anonymous', 'anonymous'],
    ['restricted', '+7378742833'],
    ['a client', 'client:alice'],
    ['a SIP address', 'sip:alice@example.com'],
    ['missing', ''],
  ])('gives a caller who is %s a safe identity', async (_, from) => {
    await call({}, webhook({ From: from }));
    const request = lastConnect();
    expect(request.participantIdentity).toBe(`caller-${callSid(7)}`);
    expect(request.participantName).toBe('Caller');
  });

  test('speaks the greeting with its voice and language before connecting, and sets the action', async () => {
    const reply = await call({
      GREETING: 'Connecting you to support.',
      GREETING_VOICE: 'Polly.Joanna',
      GREETING_LANGUAGE: 'en-US',
      CONNECT_ACTION_URL: 'https://webhooks.twilio.com/v1/Accounts/AC1/Flows/FW1?FlowEvent=return',
    });
    const root = parseTwiml(reply.body);
    expect(root.children.map((c) => c.name)).toEqual(['Say', 'Connect']);
    expect(root.children[0]!.attributes).toEqual({ voice: 'Polly.Joanna', language: 'en-US' });
    expect(root.children[0]!.text).toBe('Connecting you to support.');
    expect(root.children[1]!.attributes.action).toBe('https://webhooks.twilio.com/v1/Accounts/AC1/Flows/FW1?FlowEvent=return');
  });

  test('accepts LIVEKIT_URL in its wss:// form (loopback ws:// here)', async () => {
    const reply = await call({ LIVEKIT_URL: stand.url.replace('http://', 'ws://') });
    expect(streamUrl(reply.body)).toMatch(/^wss:\/\/connector\.livekit\.test\//);
  });

  test('logs one line with the CallSid and outcome, and nothing secret', async () => {
    await call();
    const lines = logs.filter((l) => l.startsWith('{'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ fn: 'incoming', callSid: callSid(7), outcome: 'connected', room: `call-${callSid(7)}` });
    expectNoLeaks();
  });
});

describe('incoming: whatever goes wrong, the caller hears the fallback', () => {
  test('LiveKit refusing connections', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const reply = await call({ LIVEKIT_URL: `http://127.0.0.1:${port}` });
    expect(reply.status).toBe(200);
    expectFallback(reply.body);
    expect(JSON.parse(logs.find((l) => l.includes('"fallback"'))!)).toMatchObject({
      reason: expect.stringContaining('livekit unreachable'),
    });
  });

  test('locally, the fallback says why in X-Connector-Reason (for npm run ring); deployed, only the log does', async () => {
    stand.behaviour = { kind: 'status', status: 401, code: 'unauthenticated', msg: 'invalid token' };
    const local = localContext(env(), '/incoming');
    const reply = await answerIncomingCall(local, signedEvent(local, webhook()), {
      connector: liveKitConnector,
      log: () => undefined,
      routes: () => loadRoutes(() => undefined),
    });
    expectFallback(String(reply.body));
    expect(decodeURIComponent(reply.headers!['X-Connector-Reason']!)).toContain('livekit rejected');
    const deployed = { ...local, SERVICE_SID: 'ZS' + '0'.repeat(32), DOMAIN_NAME: 'svc-1234-dev.twil.io' };
    const signed = {
      ...webhook(),
      request: {
        headers: {
          'x-twilio-signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, 'https://svc-1234-dev.twil.io/incoming', webhook()),
        },
        cookies: {},
      },
    };
    const quiet = await answerIncomingCall(deployed, signed, {
      connector: liveKitConnector,
      log: () => undefined,
      routes: () => loadRoutes(() => undefined),
    });
    expectFallback(String(quiet.body));
    expect(quiet.headers).toBeUndefined();
  });

  test('LiveKit never answering: the fallback comes inside the deadline', async () => {
    stand.behaviour = { kind: 'hang' };
    const started = Date.now();
    const reply = await call({ LIVEKIT_TIMEOUT_MS: '800' });
    const elapsed = Date.now() - started;
    expectFallback(reply.body);
    expect(elapsed).toBeGreaterThanOrEqual(750);
    expect(elapsed).toBeLessThan(2000);
    expect(logs.join('\n')).toContain('livekit timeout');
  });

  test('LiveKit never answering with the default deadline still answers inside 5 s', async () => {
    stand.behaviour = { kind: 'hang' };
    const started = Date.now();
    const reply = await call({ LIVEKIT_TIMEOUT_MS: '' });
    const elapsed = Date.now() - started;
    expectFallback(reply.body);
    expect(elapsed).toBeLessThan(5000);
  });

  test.each([
    [401, 'unauthenticated'],
    [403, 'permission_denied'],
    [500, 'internal'],
    [503, 'unavailable'],
  ])('LiveKit answering %i', async (status, code) => {
    stand.behaviour = { kind: 'status', status, code, msg: 'no' };
    const reply = await call();
    expectFallback(reply.body);
    expect(logs.join('\n')).toContain(`HTTP ${status}`);
  });

  test('a JWT signed with the wrong secret is refused by LiveKit and the caller hears the fallback', async () => {
    const reply = await call({ LIVEKIT_API_SECRET: 'not-the-secret-not-the-secret-not-the-secret' });
    expectFallback(reply.body);
    expect(stand.refused).toEqual([{ path: '/twirp/livekit.Connector/ConnectTwilioCall', reason: 'invalid token' }]);
    expectNoLeaks();
    expect(logs.join('\n')).not.toContain('not-the-secret');
  });

  test('LiveKit answering malformed JSON', async () => {
    stand.behaviour = { kind: 'raw', status: 200, contentType: 'application/json', body: '{"connect_url": "wss://half' };
    const reply = await call();
    expectFallback(reply.body);
    expect(logs.join('\n')).toContain('livekit bad-reply');
  });

  test.each([
    ['a JSON array', 200, 'application/json', '[1,2]'],
    ['a connect_url that is a number', 200, 'application/json', '{"connect_url": 5}'],
    ['JSON null', 200, 'application/json', 'null'],
    ['an HTML error page', 502, 'text/html', '<html>Bad gateway</html>'],
    ['an oversized body', 200, 'application/json', `{"connect_url":"wss://x/${'a'.repeat(70_000)}"}`],
  ])('LiveKit answering %s', async (_, status, contentType, body) => {
    stand.behaviour = { kind: 'raw', status, contentType, body };
    const reply = await call();
    expectFallback(reply.body);
    expect(logs.join('\n')).toMatch(/livekit (bad-reply|rejected|unavailable)/);
  });

  test.each([
    ['https://connector.livekit.test/twilio/abc'],
    ['ws://connector.livekit.test/twilio/abc'],
    ['wss://connector.livekit.test/twilio/abc?token=secret'],
    ['wss://user:pw@connector.livekit.test/twilio/abc'],
    ['not a url'],
    [''],
  ])('LiveKit answering the unusable connect_url %j', async (url) => {
    stand.behaviour = { kind: 'connect-url', url };
    const reply = await call();
    expectFallback(reply.body);
    expect(logs.join('\n')).toContain('livekit bad-reply');
    if (url) expect(logs.join('\n')).not.toContain(url);
  });

  test.each([
    ['LIVEKIT_URL missing', { LIVEKIT_URL: '' }, 'LIVEKIT_URL is required'],
    ['LIVEKIT_API_SECRET missing', { LIVEKIT_API_SECRET: '' }, 'LIVEKIT_API_SECRET is required'],
    ['LIVEKIT_URL plain http to a remote host', { LIVEKIT_URL: 'http://livekit.example.com' }, 'LIVEKIT_URL must start with wss://'],
    ['a bad room prefix', { ROOM_PREFIX: 'a b<' }, 'ROOM_PREFIX'],
    ['a bad timeout', { LIVEKIT_TIMEOUT_MS: '60000' }, 'LIVEKIT_TIMEOUT_MS'],
  ])('configuration: %s', async (_, extra, problem) => {
    const reply = await call(extra);
    expectFallback(reply.body);
    expect(stand.requests).toHaveLength(0);
    expect(logs.join('\n')).toContain(problem);
  });

  test('the fallback message is configurable and forwards to the fallback number', async () => {
    stand.behaviour = { kind: 'status', status: 500, code: 'internal', msg: 'down' };
    const reply = await call({
      FALLBACK_MESSAGE: 'One moment, transferring you.',
      FALLBACK_NUMBER: '+14155550111',
      GREETING_VOICE: 'alice',
    });
    const root = parseTwiml(reply.body);
    expect(root.children.map((c) => c.name)).toEqual(['Say', 'Dial']);
    expect(root.children[0]!.text).toBe('One moment, transferring you.');
    expect(root.children[0]!.attributes.voice).toBe('alice');
    expect(root.children[1]!.text).toBe('+14155550111');
  });

  test('a missing AUTH_TOKEN while signatures are required is a configuration error, not an open door', async () => {
    const context = localContext(env(), '/incoming');
    const event = signedEvent(context, webhook());
    context.AUTH_TOKEN = '';
    const reply = await invoke(handler, context, event);
    expectFallback(reply.body);
    expect(stand.requests).toHaveLength(0);
    expect(logs.join('\n')).toContain('AUTH_TOKEN is required');
  });

  test('with AUTH_TOKEN and the LiveKit settings all missing, every problem is reported at once', async () => {
    const context = localContext({ AGENT_NAMES: 'support-agent' }, '/incoming');
    const event = signedEvent(context, webhook());
    context.AUTH_TOKEN = '';
    expectFallback((await invoke(handler, context, event)).body);
    const reason = JSON.parse(logs.find((l) => l.includes('"outcome":"fallback"'))!).reason as string;
    for (const name of ['AUTH_TOKEN', 'LIVEKIT_URL', 'LIVEKIT_API_KEY', 'LIVEKIT_API_SECRET'])
      expect(reason).toContain(`${name} is required`);
  });
});

describe('incoming: only Twilio may open LiveKit sessions', () => {
  const forbidden = async (event: Record<string, unknown>, context = localContext(env(), '/incoming')) => {
    const reply = await invoke(handler, context, event);
    expect(reply.status).toBe(403);
    expect(reply.contentType).toBe('text/plain');
    expect(stand.requests).toHaveLength(0);
    return reply;
  };

  test('a valid signature is accepted', async () => {
    const reply = await call();
    expect(reply.status).toBe(200);
  });

  test('a missing signature is refused', async () => {
    const { request: _request, ...params } = signedEvent(localContext(env(), '/incoming'), webhook());
    await forbidden({ ...params, request: { headers: {}, cookies: {} } });
    expect(logs.join('\n')).toContain('signature missing');
  });

  test('a wrong signature is refused', async () => {
    await forbidden({ ...webhook(), request: { headers: { 'x-twilio-signature': 'bm90IGEgc2lnbmF0dXJl' }, cookies: {} } });
    expect(logs.join('\n')).toContain('signature invalid');
  });

  test('one parameter changed after signing is refused', async () => {
    const context = localContext(env(), '/incoming');
    await forbidden(signedEvent(context, webhook(), (p) => (p.From = '+14155550666')));
  });

  test('a parameter added after signing is refused', async () => {
    const context = localContext(env(), '/incoming');
    await forbidden(signedEvent(context, webhook(), (p) => (p.Extra = '1')));
  });

  test('a signature for another URL is refused', async () => {
    const other = localContext(env(), '/outbound');
    const event = signedEvent(other, webhook());
    await forbidden(event, localContext(env(), '/incoming'));
  });

  test('a signature made with another auth token is refused', async () => {
    const context = localContext(env(), '/incoming');
    const event = signedEvent({ ...context, AUTH_TOKEN: 'another-token' }, webhook());
    await forbidden(event, context);
  });

  test('deployed, the URL is https on the service domain', async () => {
    const context = { ...localContext(env(), '/incoming'), DOMAIN_NAME: 'connector-1234-dev.twil.io', SERVICE_SID: 'ZS1' };
    const reply = await invoke(handler, context, signedEvent(context, webhook()));
    // signedEvent signs http://...; Twilio calls https:// on a deployed domain.
    expect(reply.status).toBe(403);
  });

  test('a GET webhook is verified against the query string Twilio signed', async () => {
    const context = localContext(env(), '/incoming');
    const params = webhook();
    const url = `http://localhost:3000/incoming?${new URLSearchParams(params).toString()}`;
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, {});
    const reply = await invoke(handler, context, { ...params, request: { headers: { 'x-twilio-signature': signature }, cookies: {} } });
    expect(reply.status).toBe(200);
    expect(streamUrl(reply.body)).toBeDefined();
  });

  test('with TWILIO_SIGNATURE_VALIDATION=false an unsigned request is served', async () => {
    const context = localContext(env({ TWILIO_SIGNATURE_VALIDATION: 'false' }), '/incoming');
    const reply = await invoke(handler, context, { ...webhook(), request: { headers: {}, cookies: {} } });
    expect(reply.status).toBe(200);
    expect(streamUrl(reply.body)).toBeDefined();
  });
});
