/**
 * Routes through a real twilio-run process: the routes file is a private
 * asset, read by the compiled function with Runtime.getAssets().
 */
import type { ConnectTwilioCallRequest } from '@livekit/protocol';
import { copyFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inboundWebhook, liveKitEnv } from '../support/fixtures';
import { ACCOUNT_SID, AUTH_TOKEN, callSid } from '../support/runtime';
import { useLiveKit } from '../support/stand-ins';
import { ROOT, useTwilioRun } from '../support/twilio-run';
import { find, parseTwiml } from '../support/twiml';

const stand = useLiveKit();
const server = useTwilioRun(() => {
  const assets = mkdtempSync(path.join(os.tmpdir(), 'routes-assets-'));
  copyFileSync(path.join(ROOT, 'routes.example.json'), path.join(assets, 'routes.private.json'));
  return { env: { ACCOUNT_SID, AUTH_TOKEN, ...liveKitEnv(stand, { AGENT_NAMES: 'default-agent' }) }, assetsFolder: assets };
});

const webhook = (n: number, to: string) => inboundWebhook(n, { From: '+12125550123', Caller: '+12125550123', To: to, Called: to });

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
