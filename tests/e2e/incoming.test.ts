/**
 * The compiled `incoming` function served by a real twilio-run process that
 * found dist/ through .twilioserviceconfig, called as Twilio calls it.
 */
import type { ConnectTwilioCallRequest } from '@livekit/protocol';
import { inboundWebhook, liveKitEnv } from '../support/fixtures';
import { expectNoSecrets } from '../support/logs';
import { ACCOUNT_SID, AUTH_TOKEN, callSid } from '../support/runtime';
import { useLiveKit } from '../support/stand-ins';
import { useTwilioRun } from '../support/twilio-run';
import { find, parseTwiml, streamUrl } from '../support/twiml';

const stand = useLiveKit();
const server = useTwilioRun(() => ({
  env: {
    ACCOUNT_SID,
    AUTH_TOKEN,
    ...liveKitEnv(stand, { LIVEKIT_TIMEOUT_MS: '1500', AGENT_NAMES: 'support-agent', GREETING: 'Connecting you now.' }),
  },
}));

const webhook = (n: number) => inboundWebhook(n);

describe('twilio-run serving dist/functions/incoming', () => {
  test("a signed webhook is answered with TwiML streaming into the call's room", async () => {
    const reply = await server.post('/incoming', webhook(1), { authToken: AUTH_TOKEN });
    expect(reply.status).toBe(200);
    expect(reply.contentType).toMatch(/^text\/xml/);
    const [recorded] = stand.calls('Connector.ConnectTwilioCall');
    const request = recorded!.body as ConnectTwilioCallRequest;
    expect(request.roomName).toBe(`call-${callSid(1)}`);
    expect(request.agents.map((a) => a.agentName)).toEqual(['support-agent']);
    expect(streamUrl(reply.body)).toBe(stand.connectUrls.get(request.roomName));
    expect(find(parseTwiml(reply.body), 'Say')!.text).toBe('Connecting you now.');
  });

  test('an unsigned request is refused with 403 and LiveKit never hears of it', async () => {
    const reply = await server.post('/incoming', webhook(2));
    expect(reply.status).toBe(403);
    expect(stand.requests).toHaveLength(0);
  });

  test('a LiveKit that never answers still gets the caller a spoken fallback in time', async () => {
    stand.behaviour = { kind: 'hang' };
    const reply = await server.post('/incoming', webhook(3), { authToken: AUTH_TOKEN });
    expect(reply.status).toBe(200);
    const root = parseTwiml(reply.body);
    expect(root.children.map((c) => c.name)).toEqual(['Say', 'Hangup']);
    expect(reply.ms).toBeLessThan(5000);
  });

  test("the process log has the call's line and no secret, JWT or stream URL", async () => {
    await server.post('/incoming', webhook(4), { authToken: AUTH_TOKEN });
    await new Promise((r) => setTimeout(r, 200));
    expect(server.output).toContain(`"callSid":"${callSid(4)}"`);
    expectNoSecrets(server.output);
  });
});
