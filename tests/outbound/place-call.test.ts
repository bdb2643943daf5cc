import type { ConnectTwilioCallRequest, RoomParticipantIdentity, UpdateParticipantRequest } from '@livekit/protocol';
import { handler } from '../../src/functions/outbound.protected';
import { callBinding } from '../../src/twilio/call-binding';
import { API_KEY, API_SECRET } from '../support/livekit-stand-in';
import { useLiveKit, useTwilioApi } from '../support/stand-ins';
import { captureConsole, expectNoSecrets } from '../support/logs';
import { ACCOUNT_SID, ApiBody, AUTH_TOKEN, invoke, localContext, signedEvent } from '../support/runtime';
import twilio from 'twilio';
import { freePort } from '../support/twilio-run';
import { loopbackHttpClient } from '../support/twilio-stand-in';
import { find, parseTwiml } from '../support/twiml';

const liveKit = useLiveKit();
const twilioApi = useTwilioApi();
const logs: string[] = [];
let clientTimeouts: (number | undefined)[] = [];

beforeEach(() => {
  clientTimeouts = [];
  captureConsole(logs);
});
afterEach(() => jest.restoreAllMocks());

const CALLER_IDS = '+14155550100,+14155550101';

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    LIVEKIT_URL: liveKit.url,
    LIVEKIT_API_KEY: API_KEY,
    LIVEKIT_API_SECRET: API_SECRET,
    AGENT_NAMES: 'outbound-agent',
    OUTBOUND_CALLER_IDS: CALLER_IDS,
    ...extra,
  };
}

function context(extra: Record<string, string> = {}) {
  return localContext(env(extra), '/outbound', 3000, (options) => {
    clientTimeouts.push(options?.timeout);
    return twilioApi.client(options?.timeout);
  });
}

async function post(params: Record<string, string>, extra: Record<string, string> = {}) {
  const ctx = context(extra);
  const reply = await invoke(handler, ctx, signedEvent(ctx, params));
  return { ...reply, json: JSON.parse(reply.body) as ApiBody };
}

function nothingCreated() {
  expect(liveKit.requests).toHaveLength(0);
  expect(twilioApi.calls).toHaveLength(0);
}

function connectRequest(): ConnectTwilioCallRequest {
  const calls = liveKit.calls('Connector.ConnectTwilioCall');
  expect(calls).toHaveLength(1);
  return calls[0]!.body as ConnectTwilioCallRequest;
}

const expectNoLeaks = () => expectNoSecrets(logs.join('\n'));

describe('outbound: placing a call', () => {
  test('creates the LiveKit session, places the call to its https URL, and tells the agent the call SID', async () => {
    const reply = await post({ To: '+14155550123' });
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('application/json');

    const request = connectRequest();
    expect(request.twilioCallDirection).toBe(1);
    expect(request.roomName).toMatch(/^call-out-[0-9a-f-]{36}$/);
    expect(request.participantIdentity).toMatch(/^callee-[0-9a-f]{8}$/);
    expect(request.participantName).toBe('+14155550123');
    expect(request.destinationCountry).toBe('US');
    expect(request.participantAttributes).toEqual({
      'twilio.route': 'default',
      'twilio.accountSid': ACCOUNT_SID,
      'twilio.direction': 'outbound',
      'twilio.from': '+14155550100',
      'twilio.to': '+14155550123',
      'twilio.phoneNumber': '+14155550123',
    });
    expect(request.agents.map((a) => a.agentName)).toEqual(['outbound-agent']);
    expect(JSON.parse(request.agents[0]!.metadata)).toEqual({
      direction: 'outbound',
      to: '+14155550123',
      from: '+14155550100',
      roomName: request.roomName,
    });

    expect(twilioApi.calls).toHaveLength(1);
    const placed = twilioApi.calls[0]!.params;
    expect(placed.To).toBe('+14155550123');
    expect(placed.From).toBe('+14155550100');
    expect(placed.Url).toBe(liveKit.connectUrls.get(request.roomName)!.replace(/^wss:/, 'https:'));
    expect(placed.Twiml).toBeUndefined();

    expect(reply.json).toEqual({
      callSid: expect.stringMatching(/^CA[0-9a-f]{32}$/),
      roomName: request.roomName,
      participantIdentity: request.participantIdentity,
      status: 'queued',
    });
    const update = liveKit.calls('RoomService.UpdateParticipant')[0]!.body as UpdateParticipantRequest;
    expect(update.attributes).toEqual({
      'twilio.callSid': reply.json.callSid,
      'twilio.callBinding': callBinding(AUTH_TOKEN, {
        room: request.roomName,
        identity: request.participantIdentity,
        callSid: reply.json.callSid,
        accountSid: ACCOUNT_SID,
        flowSid: '',
        route: 'default',
      }),
    });
    expect(liveKit.rooms.get(request.roomName)!.get(request.participantIdentity)!.attributes['twilio.callSid']).toBe(reply.json.callSid);
    expect(liveKit.refused).toEqual([]);
    expectNoLeaks();
    expect(reply.body).not.toContain('connector.livekit.test');
  });

  test('every parameter reaches LiveKit or Twilio as given', async () => {
    const reply = await post(
      {
        To: '+16135550123',
        From: '+14155550101',
        RoomName: 'support-42',
        ParticipantIdentity: 'customer-42',
        ParticipantName: 'Zoë',
        ParticipantMetadata: '{"tier":"gold"}',
        ParticipantAttributes: '{"crm.id":"42","lang":"fr"}',
        AgentName: 'renewals',
        AgentMetadata: '{"campaign":"renewal"}',
        DestinationCountry: 'CA',
        Timeout: '25',
        TimeLimit: '600',
        MachineDetection: 'DetectMessageEnd',
        AsyncAmd: 'true',
        AsyncAmdStatusCallback: 'https://example.com/amd',
        StatusCallback: 'https://example.com/status',
        StatusCallbackEvent: 'initiated ringing answered completed',
        Record: 'true',
      },
      { OUTBOUND_ALLOWED_DESTINATIONS: 'US,CA' },
    );
    expect(reply.status).toBe(200);
    const request = connectRequest();
    expect(request).toMatchObject({
      roomName: 'support-42',
      participantIdentity: 'customer-42',
      participantName: 'Zoë',
      participantMetadata: '{"tier":"gold"}',
      destinationCountry: 'CA',
    });
    expect(request.participantAttributes).toMatchObject({ 'crm.id': '42', lang: 'fr', 'twilio.from': '+14155550101' });
    expect(request.agents.map((a) => [a.agentName, a.metadata])).toEqual([['renewals', '{"campaign":"renewal"}']]);
    expect(twilioApi.calls[0]!.params).toMatchObject({
      From: '+14155550101',
      Timeout: '25',
      TimeLimit: '600',
      MachineDetection: 'DetectMessageEnd',
      AsyncAmd: 'true',
      AsyncAmdStatusCallback: 'https://example.com/amd',
      StatusCallback: 'https://example.com/status',
      StatusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      Record: 'true',
    });
    expect(reply.json.roomName).toBe('support-42');
    expect(reply.json.participantIdentity).toBe('customer-42');
  });

  test('inline mode sends the same TwiML incoming builds, with greeting and action', async () => {
    const reply = await post(
      { To: '+14155550123' },
      {
        OUTBOUND_TWIML_MODE: 'inline',
        OUTBOUND_GREETING: 'Hello from Acme.',
        OUTBOUND_CONNECT_ACTION_URL: 'https://example.com/after',
      },
    );
    expect(reply.status).toBe(200);
    const twiml = String(twilioApi.calls[0]!.params.Twiml);
    expect(twilioApi.calls[0]!.params.Url).toBeUndefined();
    const root = parseTwiml(twiml);
    expect(root.children.map((c) => c.name)).toEqual(['Say', 'Connect']);
    expect(root.children[0]!.text).toBe('Hello from Acme.');
    expect(find(root, 'Connect')!.attributes.action).toBe('https://example.com/after');
    expect(find(root, 'Stream')!.attributes.url).toBe(liveKit.connectUrls.get(connectRequest().roomName));
  });

  test('accepts a JSON body (as another Function may send) with attributes as an object', async () => {
    const ctx = { ...context(), SERVICE_SID: 'ZS' + '0'.repeat(32), DOMAIN_NAME: 'svc-1234-dev.twil.io' };
    const reply = await invoke(handler, ctx, {
      To: '+14155550123',
      ParticipantAttributes: { 'crm.id': '7' },
      Timeout: 30,
      request: { headers: {}, cookies: {} },
    });
    expect(reply.status).toBe(200);
    expect(connectRequest().participantAttributes['crm.id']).toBe('7');
    expect(twilioApi.calls[0]!.params.Timeout).toBe('30');
  });

  test('gives the Twilio client an explicit deadline', async () => {
    await post({ To: '+14155550123' });
    expect(clientTimeouts).toHaveLength(1);
    expect(clientTimeouts[0]).toBeGreaterThanOrEqual(500);
    expect(clientTimeouts[0]).toBeLessThanOrEqual(3500);
  });
});

describe('outbound: nothing is created from a bad request', () => {
  test.each([
    ['To missing', {}, 400, 'missing-parameter', 'To'],
    ['To not E.164', { To: '4155550123' }, 400, 'invalid-parameter', 'To'],
    ['a misspelled parameter', { to: '+14155550123' }, 400, 'misspelled-parameter', 'to'],
    ['a misspelled RoomName', { To: '+14155550123', ROOMNAME: 'x' }, 400, 'misspelled-parameter', 'ROOMNAME'],
    ['bad attributes JSON', { To: '+14155550123', ParticipantAttributes: '{nope' }, 400, 'invalid-parameter', 'ParticipantAttributes'],
    ['non-string attribute', { To: '+14155550123', ParticipantAttributes: '{"a":1}' }, 400, 'invalid-parameter', 'ParticipantAttributes'],
    [
      'a reserved attribute',
      { To: '+14155550123', ParticipantAttributes: '{"twilio.callSid":"CA1"}' },
      400,
      'invalid-parameter',
      'ParticipantAttributes',
    ],
    ['Timeout out of range', { To: '+14155550123', Timeout: '3' }, 400, 'invalid-parameter', 'Timeout'],
    ['TimeLimit not a number', { To: '+14155550123', TimeLimit: '1e3' }, 400, 'invalid-parameter', 'TimeLimit'],
    ['MachineDetection unknown', { To: '+14155550123', MachineDetection: 'Always' }, 400, 'invalid-parameter', 'MachineDetection'],
    ['AsyncAmd without MachineDetection', { To: '+14155550123', AsyncAmd: 'true' }, 400, 'invalid-parameter', 'MachineDetection'],
    [
      'StatusCallback over http',
      { To: '+14155550123', StatusCallback: 'http://example.com/s' },
      400,
      'invalid-parameter',
      'StatusCallback',
    ],
    [
      'StatusCallbackEvent unknown',
      { To: '+14155550123', StatusCallback: 'https://e.com/s', StatusCallbackEvent: 'busy' },
      400,
      'invalid-parameter',
      'StatusCallbackEvent',
    ],
    ['Record not boolean', { To: '+14155550123', Record: 'yes' }, 400, 'invalid-parameter', 'Record'],
    ['DestinationCountry not ISO', { To: '+14155550123', DestinationCountry: 'usa' }, 400, 'invalid-parameter', 'DestinationCountry'],
    ['RoomName with a slash', { To: '+14155550123', RoomName: '../etc' }, 400, 'invalid-parameter', 'RoomName'],
    ['oversized RoomName', { To: '+14155550123', RoomName: 'r'.repeat(129) }, 400, 'invalid-parameter', 'RoomName'],
    ['oversized metadata', { To: '+14155550123', ParticipantMetadata: 'm'.repeat(4097) }, 400, 'invalid-parameter', 'ParticipantMetadata'],
    [
      'oversized attributes',
      { To: '+14155550123', ParticipantAttributes: JSON.stringify({ a: 'v'.repeat(300) }) },
      400,
      'invalid-parameter',
      'ParticipantAttributes',
    ],
    ['control characters in a name', { To: '+14155550123', ParticipantName: 'a\u0000b' }, 400, 'invalid-parameter', 'ParticipantName'],
    ['a disallowed country', { To: '+442071234567' }, 403, 'destination-not-allowed', 'To'],
    ['a NANP number outside the allowed countries', { To: '+18765551234' }, 403, 'destination-not-allowed', 'To'],
    ['a premium-rate number', { To: '+19005551234' }, 403, 'destination-blocked', 'To'],
    ['an arbitrary caller ID', { To: '+14155550123', From: '+14155550999' }, 403, 'caller-id-not-allowed', 'From'],
    ['a client: address', { To: 'client:alice' }, 403, 'destination-not-allowed', 'To'],
    ['a sip: address', { To: 'sip:alice@example.com' }, 403, 'destination-not-allowed', 'To'],
  ])('%s', async (_, params, status, code, field) => {
    const reply = await post(params as Record<string, string>);
    expect(reply.status).toBe(status);
    expect(reply.json.error).toMatchObject({ code, field });
    expect(typeof reply.json.error.message).toBe('string');
    nothingCreated();
  });

  test('a premium prefix stays blocked even inside an allowed country, and extra prefixes can be blocked', async () => {
    expect((await post({ To: '+447012345678' }, { OUTBOUND_ALLOWED_DESTINATIONS: 'GB' })).json.error.code).toBe('destination-blocked');
    expect((await post({ To: '+14155550123' }, { OUTBOUND_BLOCKED_PREFIXES: '+1415' })).json.error.code).toBe('destination-blocked');
    nothingCreated();
  });

  test('the allow-list takes countries and number prefixes', async () => {
    expect((await post({ To: '+442071234567' }, { OUTBOUND_ALLOWED_DESTINATIONS: '+4420' })).status).toBe(200);
    expect((await post({ To: '+447911123456' }, { OUTBOUND_ALLOWED_DESTINATIONS: '+4420' })).status).toBe(403);
  });

  test('client: and sip: addresses are placed only when OUTBOUND_ALLOW_ADDRESSES=true', async () => {
    const reply = await post({ To: 'client:alice' }, { OUTBOUND_ALLOW_ADDRESSES: 'true' });
    expect(reply.status).toBe(200);
    expect(twilioApi.calls[0]!.params.To).toBe('client:alice');
    expect(connectRequest().participantName).toBe('Callee');
  });

  test('missing configuration is a 500 naming the variable, with nothing created', async () => {
    const reply = await post({ To: '+14155550123' }, { OUTBOUND_CALLER_IDS: '' });
    expect(reply.status).toBe(500);
    expect(reply.json.error.code).toBe('configuration');
    expect(reply.json.error.message).toContain('OUTBOUND_CALLER_IDS');
    expect(reply.body).not.toContain(API_SECRET);
    nothingCreated();
  });
});

describe('outbound: only signed requests are served locally', () => {
  test('locally without AUTH_TOKEN: 500 naming it and every other missing setting at once, not a signature error', async () => {
    const ctx = localContext({ AGENT_NAMES: 'outbound-agent' }, '/outbound');
    const event = signedEvent(ctx, { To: '+14155550123' });
    ctx.AUTH_TOKEN = '';
    const reply = await invoke(handler, ctx, event);
    expect(reply.status).toBe(500);
    const message = JSON.parse(reply.body).error.message as string;
    for (const name of ['AUTH_TOKEN', 'LIVEKIT_URL', 'LIVEKIT_API_KEY', 'LIVEKIT_API_SECRET', 'OUTBOUND_CALLER_IDS'])
      expect(message).toContain(`${name} is required`);
    nothingCreated();
  });

  test('an unsigned request is refused with 401', async () => {
    const reply = await invoke(handler, context(), { To: '+14155550123', request: { headers: {}, cookies: {} } });
    expect(reply.status).toBe(401);
    expect(JSON.parse(reply.body).error.code).toBe('signature-required');
    nothingCreated();
  });

  test('a wrong or tampered signature is refused with 403', async () => {
    const ctx = context();
    const tampered = signedEvent(ctx, { To: '+14155550123' }, (p) => (p.To = '+14155550124'));
    expect((await invoke(handler, ctx, tampered)).status).toBe(403);
    const otherToken = signedEvent({ ...ctx, AUTH_TOKEN: 'x'.repeat(32) }, { To: '+14155550123' });
    expect((await invoke(handler, ctx, otherToken)).status).toBe(403);
    nothingCreated();
  });

  test('TWILIO_SIGNATURE_VALIDATION=false does not open the dialer', async () => {
    const ctx = context({ TWILIO_SIGNATURE_VALIDATION: 'false' });
    const reply = await invoke(handler, ctx, { To: '+14155550123', request: { headers: {}, cookies: {} } });
    expect(reply.status).toBe(401);
    nothingCreated();
  });
});

describe('outbound: failures are cleaned up in order', () => {
  test('LiveKit refusing: 502 and no Twilio call', async () => {
    liveKit.behaviour = { kind: 'status', status: 500, code: 'internal', msg: 'down' };
    const reply = await post({ To: '+14155550123' });
    expect(reply.status).toBe(502);
    expect(reply.json.error.code).toBe('livekit-error');
    expect(twilioApi.calls).toHaveLength(0);
  });

  test('LiveKit never answering: 504 in time, no Twilio call, the maybe-created participant looked for and removed', async () => {
    liveKit.methodBehaviour['Connector.ConnectTwilioCall'] = { kind: 'hang' };
    const started = Date.now();
    const reply = await post({ To: '+14155550123' }, { LIVEKIT_TIMEOUT_MS: '1000' });
    // The LiveKit deadline, then up to 2 s watching for a late session.
    expect(Date.now() - started).toBeLessThan(4000);
    expect(reply.status).toBe(504);
    expect(reply.json.error.code).toBe('livekit-timeout');
    expect(twilioApi.calls).toHaveLength(0);
    expect(liveKit.calls('RoomService.RemoveParticipant').length).toBeGreaterThanOrEqual(1);
  });

  test('LiveKit answering after the deadline: the session it made anyway is removed before outbound answers', async () => {
    // Served after 1.5 s, when outbound stopped waiting at 1 s.
    liveKit.methodBehaviour['Connector.ConnectTwilioCall'] = { kind: 'delay', ms: 1500 };
    const reply = await post({ To: '+14155550123', RoomName: 'late-session' }, { LIVEKIT_TIMEOUT_MS: '1000' });
    expect(reply.status).toBe(504);
    expect(liveKit.calls('Connector.ConnectTwilioCall')).toHaveLength(1);
    expect(liveKit.rooms.get('late-session')?.size ?? 0).toBe(0);
    expect(twilioApi.calls).toHaveLength(0);
  });

  test.each([
    [21211, 400, 'invalid-to', 'To'],
    [21215, 403, 'geo-permission', 'To'],
    [21216, 403, 'destination-blocked-by-twilio', 'To'],
    [21210, 400, 'caller-id-not-verified', 'From'],
    [20003, 502, 'twilio-authentication', undefined],
    [20429, 429, 'twilio-rate-limited', undefined],
    [30001, 502, 'twilio-error', undefined],
  ])('Twilio error %i maps to %i %s and the connector participant is removed', async (twilioCode, status, code, field) => {
    twilioApi.behaviour = {
      kind: 'error',
      status: twilioCode === 20003 ? 401 : twilioCode === 20429 ? 429 : 400,
      code: twilioCode,
      message: 'refused',
    };
    const reply = await post({ To: '+14155550123' });
    expect(reply.status).toBe(status);
    expect(reply.json.error).toMatchObject({ code, twilioCode, moreInfo: `https://www.twilio.com/docs/errors/${twilioCode}` });
    expect(reply.json.error.field).toBe(field);
    const request = connectRequest();
    const removal = liveKit.calls('RoomService.RemoveParticipant')[0]!.body as RoomParticipantIdentity;
    expect(removal).toMatchObject({ room: request.roomName, identity: request.participantIdentity });
    expect(liveKit.rooms.get(request.roomName)!.has(request.participantIdentity)).toBe(false);
    expect(liveKit.calls('RoomService.UpdateParticipant')).toHaveLength(0);
  });

  test('Twilio credentials wrong: the stand-in refuses Basic auth and the API caller learns what to fix', async () => {
    const ctx = localContext(env(), '/outbound', 3000, (o) =>
      twilio(ACCOUNT_SID, 'wrong-token', { httpClient: twilioApi.httpClient(o?.timeout) }),
    );
    const reply = await invoke(handler, ctx, signedEvent(ctx, { To: '+14155550123' }));
    expect(reply.status).toBe(502);
    expect(JSON.parse(reply.body).error).toMatchObject({ code: 'twilio-authentication', twilioCode: 20003 });
    expect(twilioApi.refused).toEqual([{ reason: 'authentication' }]);
  });

  test('Twilio never answering: 504 within the budget, participant removed', async () => {
    twilioApi.behaviour = { kind: 'hang' };
    const started = Date.now();
    const reply = await post({ To: '+14155550123' }, { TWILIO_TIMEOUT_MS: '800' });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(reply.status).toBe(504);
    expect(reply.json.error.code).toBe('twilio-timeout');
    expect(liveKit.calls('RoomService.RemoveParticipant')).toHaveLength(1);
  });

  test('Twilio refusing connections: 502, participant removed; "not found" on removal is fine', async () => {
    const closedPort = await freePort();
    const ctx = localContext(env(), '/outbound', 3000, () =>
      twilio(ACCOUNT_SID, AUTH_TOKEN, { httpClient: loopbackHttpClient(`http://127.0.0.1:${closedPort}`, 1000) }),
    );
    const reply = await invoke(handler, ctx, signedEvent(ctx, { To: '+14155550123' }));
    expect(reply.status).toBe(502);
    expect(JSON.parse(reply.body).error.code).toBe('twilio-unreachable');
    expect(liveKit.calls('RoomService.RemoveParticipant')).toHaveLength(1);
  });

  test('worst case, LiveKit slow and Twilio and RoomService hanging, still answers inside 8 s', async () => {
    liveKit.methodBehaviour['Connector.ConnectTwilioCall'] = { kind: 'delay', ms: 2900 };
    twilioApi.behaviour = { kind: 'hang' };
    liveKit.methodBehaviour['RoomService.RemoveParticipant'] = { kind: 'hang' };
    const started = Date.now();
    const reply = await post({ To: '+14155550123' }, { LIVEKIT_TIMEOUT_MS: '4500', TWILIO_TIMEOUT_MS: '4500' });
    const elapsed = Date.now() - started;
    expect(reply.status).toBe(504);
    expect(reply.json.error.code).toBe('twilio-timeout');
    expect(elapsed).toBeGreaterThan(6000);
    expect(elapsed).toBeLessThan(8000);
  }, 15_000);

  test('both stand-ins hanging (LiveKit, then its RoomService clean-up) still answers inside 8 s', async () => {
    liveKit.behaviour = { kind: 'hang' };
    const started = Date.now();
    const reply = await post({ To: '+14155550123' });
    const elapsed = Date.now() - started;
    expect(reply.status).toBe(504);
    expect(twilioApi.calls).toHaveLength(0);
    expect(liveKit.calls('RoomService.RemoveParticipant')).toHaveLength(1);
    expect(elapsed).toBeLessThan(8000);
  }, 15_000);

  test('the call SID tag failing does not fail a placed call', async () => {
    liveKit.methodBehaviour['RoomService.UpdateParticipant'] = { kind: 'status', status: 500, code: 'internal', msg: 'x' };
    const reply = await post({ To: '+14155550123' });
    expect(reply.status).toBe(200);
    expect(logs.join('\n')).toContain('"callSidAttribute":"failed"');
  });
});
