/**
 * Routes through a real twilio-run process: the routes file is a private
 * asset, read by the compiled function with Runtime.getAssets().
 */
import type { ConnectTwilioCallRequest } from '@livekit/protocol';
import { copyFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { API_KEY, API_SECRET, LiveKitStandIn } from '../support/livekit-stand-in';
import { ACCOUNT_SID, AUTH_TOKEN, callSid } from '../support/runtime';
import { ROOT, TwilioRun } from '../support/twilio-run';
import { find, parseTwiml } from '../support/twiml';

const stand = new LiveKitStandIn();
let server: TwilioRun;

beforeAll(async () => {
  await stand.start();
  const assets = mkdtempSync(path.join(os.tmpdir(), 'routes-assets-'));
  copyFileSync(path.join(ROOT, 'routes.example.json'), path.join(assets, 'routes.private.json'));
  server = await new TwilioRun({
    env: {
      ACCOUNT_SID,
      AUTH_TOKEN,
      LIVEKIT_URL: stand.url,
      LIVEKIT_API_KEY: API_KEY,
      LIVEKIT_API_SECRET: API_SECRET,
      AGENT_NAMES: 'default-agent',
    },
    assetsFolder: assets,
  }).start();
}, 40_000);

afterAll(async () => {
  await server?.stop();
  await stand.stop();
});

beforeEach(() => stand.reset());

const webhook = (n: number, to: string) => ({
  AccountSid: ACCOUNT_SID,
  CallSid: callSid(n),
  CallStatus: 'ringing',
  Direction: 'inbound',
  From: '+12125550123',
  To: to,
});

describe('twilio-run: one inbound call per route', () => {
  test.each([
    ['support', '+14155550100', 'support-agent', 'support-', 'Thanks for calling support. Connecting you now.'],
    ['sales-uk', '+442079460000', 'sales-agent', 'sales-uk-', 'Hello, you are through to sales.'],
    ['default', '+16175550100', 'default-agent', 'call-', undefined],
  ])('route %s', async (name, to, agent, roomPrefix, greeting) => {
    const reply = await server.post('/incoming', webhook(1, to), { authToken: AUTH_TOKEN });
    expect(reply.status).toBe(200);
    const request = stand.calls('Connector.ConnectTwilioCall')[0]!.body as ConnectTwilioCallRequest;
    expect(request.participantAttributes['twilio.route']).toBe(name);
    expect(request.agents.map((a) => a.agentName)).toEqual([agent]);
    expect(request.roomName).toBe(`${roomPrefix}${callSid(1)}`);
    expect(find(parseTwiml(reply.body), 'Say')?.text).toBe(greeting);
    expect(server.output).toContain(`"route":"${name}"`);
  });

  test('the routes file is not served to the public', async () => {
    const res = await fetch(`${server.baseUrl}/routes.json`);
    expect(res.status).not.toBe(200);
    expect(await res.text()).not.toContain('support-agent');
  });
});
