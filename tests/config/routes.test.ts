import type { ConnectTwilioCallRequest } from '@livekit/protocol';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { handler as outboundHandler } from '../../src/functions/outbound.protected';
import { answerIncomingCall } from '../../src/incoming/answer-call';
import { liveKitConnector } from '../../src/livekit/connector';
import { liveKitRooms } from '../../src/livekit/rooms';
import type { LogFields } from '../../src/util/log';
import { placeOutboundCall } from '../../src/outbound/place-call';
import { DEFAULT_ROUTE, RouteError } from '../../src/config/route';
import { loadRoutes, parseRoutes } from '../../src/config/routes';
import type { TwilioClient } from '../../src/outbound/steps';
import { API_KEY, API_SECRET } from '../support/livekit-stand-in';
import { useLiveKit, useTwilioApi } from '../support/stand-ins';
import { captureConsole } from '../support/logs';
import { ACCOUNT_SID, ApiBody, callSid, invoke, localContext, signedEvent } from '../support/runtime';
import { find, parseTwiml } from '../support/twiml';

const EXAMPLE = readFileSync(path.join(__dirname, '..', '..', 'routes.example.json'), 'utf8');

const file = (...routes: object[]) => JSON.stringify({ routes });
const route = (extra: object) => ({ name: 'r', numbers: ['+14155550100'], ...extra });

function refused(text: string): RouteError {
  try {
    parseRoutes(text);
  } catch (error) {
    expect(error).toBeInstanceOf(RouteError);
    return error as RouteError;
  }
  throw new Error('routes file was accepted');
}

describe('routes file validation names the route and the field', () => {
  test.each([
    ['bad JSON', '{"routes": [', 'file', '(JSON)'],
    ['not an object', '[]', 'file', '(top level)'],
    ['an unknown top-level key', '{"routes": [], "rotues": []}', 'file', 'rotues'],
    ['routes not a list', '{"routes": {}}', 'file', 'routes'],
    ['an unknown route key', file(route({ agentName: 'x' })), '"r"', 'agentName'],
    ['a route without a name', file({ numbers: ['+14155550100'] }), '#1', 'name'],
    ['a route named default', file(route({ name: 'default' })), '"default"', 'name'],
    ['a bad number', file(route({ numbers: ['4155550100'] })), '"r"', 'numbers'],
    ['a bad prefix', file(route({ numbers: [], prefixes: ['1415'] })), '"r"', 'prefixes'],
    ['no numbers or prefixes', file(route({ numbers: [] })), '"r"', 'numbers'],
    ['the same number in two routes', file(route({ name: 'a' }), route({ name: 'b' })), '"b"', 'numbers'],
    [
      'the same prefix in two routes',
      file(route({ name: 'a', prefixes: ['+44'] }), route({ name: 'b', numbers: ['+14155550101'], prefixes: ['+44'] })),
      '"b"',
      'prefixes',
    ],
    ['two routes with one name', file(route({}), route({ numbers: ['+14155550101'] })), '"r"', 'name'],
    ['an unknown identity policy', file(route({ participantIdentity: 'email' })), '"r"', 'participantIdentity'],
    ['a bad room prefix', file(route({ roomPrefix: 'a b' })), '"r"', 'roomPrefix'],
    ['a reserved attribute', file(route({ attributes: { 'twilio.callSid': 'x' } })), '"r"', 'attributes.twilio.callSid'],
    ['a non-string attribute', file(route({ attributes: { team: 5 } })), '"r"', 'attributes.team'],
    ['an unknown greeting key', file(route({ greeting: { txt: 'hi' } })), '"r"', 'greeting.txt'],
    ['a bad fallback number', file(route({ fallback: { number: 'front desk' } })), '"r"', 'fallback.number'],
    ['a bad action URL', file(route({ connectActionUrl: 'ftp://x' })), '"r"', 'connectActionUrl'],
    ['bad outbound destinations', file(route({ outbound: { allowedDestinations: ['usa'] } })), '"r"', 'outbound.allowedDestinations'],
    ['control characters in a greeting', file(route({ greeting: { text: 'hi\u0000' } })), '"r"', 'greeting.text'],
  ])('%s', (_, text, name, field) => {
    const error = refused(text);
    expect(error.route).toBe(name);
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
  });

  test('the shipped example is valid', () => {
    expect(parseRoutes(EXAMPLE).routes.map((r) => r.name)).toEqual(['support', 'sales-uk']);
  });

  test('loading never throws: a broken file gives the empty table and says why', () => {
    const loaded = loadRoutes(() => '{"routes": [{"name": "x"}]}');
    expect(loaded.table.match('+14155550100')).toBe(DEFAULT_ROUTE);
    expect(loaded.error).toMatch(/route "x": numbers/);
    expect(loadRoutes(() => undefined)).toEqual({ table: expect.anything() });
    expect(
      loadRoutes(() => {
        throw new Error('EACCES');
      }).error,
    ).toBe('routes file could not be read');
  });
});

describe('route matching', () => {
  const table = parseRoutes(
    file(
      { name: 'exact', numbers: ['+14155550100'] },
      { name: 'us', prefixes: ['+1'] },
      { name: 'sf', prefixes: ['+1415'] },
      { name: 'sf-555', prefixes: ['+1415555'] },
    ),
  );

  test('an exact number beats every prefix', () => expect(table.match('+14155550100').name).toBe('exact'));
  test('the longest prefix wins', () => {
    expect(table.match('+14155550101').name).toBe('sf-555');
    expect(table.match('+14159990000').name).toBe('sf');
    expect(table.match('+12125550100').name).toBe('us');
  });
  test('anything else takes the default route', () => {
    expect(table.match('+442071234567')).toBe(DEFAULT_ROUTE);
    expect(table.match('')).toBe(DEFAULT_ROUTE);
    expect(table.match('client:alice')).toBe(DEFAULT_ROUTE);
  });
});

describe('per-route settings reach LiveKit and the TwiML', () => {
  const stand = useLiveKit();
  const twilioApi = useTwilioApi();
  const logs: string[] = [];
  let lines: LogFields[] = [];
  beforeEach(() => {
    lines = [];
    captureConsole(logs);
  });
  afterEach(() => jest.restoreAllMocks());

  const env = (extra: Record<string, string> = {}) => ({
    ...localContext(
      {
        LIVEKIT_URL: stand.url,
        LIVEKIT_API_KEY: API_KEY,
        LIVEKIT_API_SECRET: API_SECRET,
        LIVEKIT_TIMEOUT_MS: '1000',
        AGENT_NAMES: 'default-agent',
        GREETING: 'Default greeting.',
        OUTBOUND_CALLER_IDS: '+14155550100,+442071234567',
        OUTBOUND_ALLOWED_DESTINATIONS: 'US',
        ...extra,
      },
      '/incoming',
    ),
  });

  async function incoming(routesText: string | undefined, to: string, envExtra: Record<string, string> = {}) {
    const context = env(envExtra);
    const params = { CallSid: callSid(3), AccountSid: ACCOUNT_SID, From: '+12125550123', To: to, CallerName: 'Ada' };
    return answerIncomingCall(context, signedEvent(context, params), {
      connector: liveKitConnector,
      log: (fields) => void lines.push(fields),
      routes: () => loadRoutes(() => routesText),
    });
  }

  const lastConnect = () => stand.calls('Connector.ConnectTwilioCall').at(-1)!.body as ConnectTwilioCallRequest;

  test('the support route: agent, room prefix, attributes, greeting', async () => {
    const reply = await incoming(EXAMPLE, '+14155550100');
    const request = lastConnect();
    expect(request.agents.map((a) => a.agentName)).toEqual(['support-agent']);
    expect(request.roomName).toBe(`support-${callSid(3)}`);
    expect(request.participantIdentity).toBe('+12125550123');
    expect(request.participantAttributes).toMatchObject({ team: 'support', 'twilio.route': 'support', 'twilio.to': '+14155550100' });
    const say = find(parseTwiml(String(reply.body)), 'Say')!;
    expect(say.text).toBe('Thanks for calling support. Connecting you now.');
    expect(say.attributes).toEqual({ voice: 'Polly.Joanna', language: 'en-US' });
    expect(lines.at(-1)).toMatchObject({ route: 'support', outcome: 'connected' });
  });

  test('the sales-uk route by prefix: metadata, identity and name policy, action', async () => {
    const reply = await incoming(EXAMPLE, '+442071234567');
    const request = lastConnect();
    expect(request.agents).toEqual([expect.objectContaining({ agentName: 'sales-agent', metadata: '{"team":"sales","region":"uk"}' })]);
    expect(request.roomName).toBe(`sales-uk-${callSid(3)}`);
    expect(request.participantIdentity).toBe(`caller-${callSid(3)}`);
    expect(request.participantName).toBe('Ada');
    expect(request.participantAttributes['twilio.route']).toBe('sales-uk');
    expect(find(parseTwiml(String(reply.body)), 'Connect')!.attributes.action).toContain('FlowEvent=return');
  });

  test("an unrouted number takes the environment's settings as the default route", async () => {
    const reply = await incoming(EXAMPLE, '+16175550100');
    const request = lastConnect();
    expect(request.agents.map((a) => a.agentName)).toEqual(['default-agent']);
    expect(request.roomName).toBe(`call-${callSid(3)}`);
    expect(request.participantAttributes['twilio.route']).toBe('default');
    expect(find(parseTwiml(String(reply.body)), 'Say')!.text).toBe('Default greeting.');
  });

  test("a route's fallback message and number are used when LiveKit fails", async () => {
    stand.behaviour = { kind: 'status', status: 503, code: 'unavailable', msg: 'down' };
    const root = parseTwiml(String((await incoming(EXAMPLE, '+14155550100')).body));
    expect(root.children.map((c) => c.name)).toEqual(['Say', 'Dial']);
    expect(root.children[0]!.text).toBe('Support is unavailable right now. Transferring you to the front desk.');
    expect(root.children[1]!.text).toBe('+14155550111');
  });

  test('a broken routes file never drops a call: the default route answers', async () => {
    const reply = await incoming('{"routes": [', '+14155550100');
    expect(reply.status).toBe(200);
    expect(lastConnect().agents.map((a) => a.agentName)).toEqual(['default-agent']);
    expect(lines.at(-1)).toMatchObject({ route: 'default', outcome: 'connected' });
  });

  test('the routes asset is read once per cold start and a broken one is logged once', async () => {
    let reads = 0;
    (globalThis as unknown as { Runtime: unknown }).Runtime = {
      getAssets: () => ({ '/routes.json': { path: '/x', open: () => ((reads += 1), '{"routes": 7}') } }),
    };
    try {
      jest.isolateModules(() => {
        // A fresh copy of the module is a fresh cold start; only a require
        // inside isolateModules gets one (an import is hoisted and shared).
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { routesFromAssets } = require('../../src/config/routes-asset') as typeof import('../../src/config/routes-asset');
        for (let i = 0; i < 3; i += 1) expect(routesFromAssets().error).toMatch(/routes must be a list/);
      });
    } finally {
      delete (globalThis as unknown as { Runtime?: unknown }).Runtime;
    }
    expect(reads).toBe(1);
    expect(logs.filter((l) => l.includes('"fn":"routes"'))).toHaveLength(1);
  });

  async function outbound(routesText: string | undefined, params: Record<string, string>) {
    const context = { ...env(), PATH: '/outbound' };
    const reply = await placeOutboundCall(context, signedEvent(context, params), {
      connector: liveKitConnector,
      rooms: liveKitRooms,
      twilio: (timeout) => twilioApi.client(timeout) as unknown as TwilioClient,
      log: (fields) => void lines.push(fields),
      now: Date.now,
      routes: () => loadRoutes(() => routesText),
    });
    return { status: reply.status, body: reply.body as unknown as ApiBody };
  }

  test("outbound: the caller ID's route sets where calls may go", async () => {
    // From the UK number, the sales-uk route allows GB and IE, not the US.
    expect((await outbound(EXAMPLE, { To: '+442079460000', From: '+442071234567' })).status).toBe(200);
    expect(lastConnect().agents.map((a) => a.agentName)).toEqual(['sales-agent']);
    expect(lastConnect().roomName).toMatch(/^sales-uk-/);
    expect(lastConnect().participantAttributes['twilio.route']).toBe('sales-uk');
    const refusedUs = await outbound(EXAMPLE, { To: '+12125550123', From: '+442071234567' });
    expect(refusedUs.status).toBe(403);
    expect(refusedUs.body.error.code).toBe('destination-not-allowed');
    // From the US number (support route, no outbound list) the environment's US-only list applies.
    expect((await outbound(EXAMPLE, { To: '+12125550123' })).status).toBe(200);
    expect((await outbound(EXAMPLE, { To: '+442079460000' })).status).toBe(403);
  });

  test('outbound: a broken routes file refuses to dial (500 naming the problem), creating nothing', async () => {
    const reply = await outbound('{"routes": [{"name": "x", "numbers": ["bad"]}]}', { To: '+12125550123' });
    expect(reply.status).toBe(500);
    expect(reply.body.error).toMatchObject({ code: 'configuration', message: expect.stringContaining('route "x": numbers') });
    expect(stand.requests).toHaveLength(0);
    expect(twilioApi.calls).toHaveLength(0);
  });

  test('outbound entry point without a routes asset uses the default route', async () => {
    const context = localContext(
      { LIVEKIT_URL: stand.url, LIVEKIT_API_KEY: API_KEY, LIVEKIT_API_SECRET: API_SECRET, OUTBOUND_CALLER_IDS: '+14155550100' },
      '/outbound',
      3000,
      (o) => twilioApi.client(o?.timeout),
    );
    const reply = await invoke(outboundHandler, context, signedEvent(context, { To: '+14155550123' }));
    expect(reply.status).toBe(200);
    expect(lastConnect().participantAttributes['twilio.route']).toBe('default');
  });
});

describe('npm run routes:check (also run by the build)', () => {
  const check = (file: string) =>
    spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'run-ts.mjs'), 'src/deploy/routes-check-cli.ts', file], {
      encoding: 'utf8',
    });

  test('accepts a valid file', () => {
    const result = check(path.join(__dirname, '..', '..', 'routes.example.json'));
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('2 routes, valid');
  });

  test('refuses a broken file, naming the route and field', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'routes-check-'));
    const target = path.join(dir, 'routes.private.json');
    writeFileSync(target, file(route({ name: 'sales', fallback: { number: 'desk' } })));
    const result = check(target);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('route "sales": fallback.number must be an E.164 number');
  });
});
