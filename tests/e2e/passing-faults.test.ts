/**
 * Passing faults through a real twilio-run, in both of its modes: one
 * process per request (its default) and the code kept loaded between
 * requests (`--no-fork-process`), as Twilio's runtime keeps a warm
 * container. The functions reach the LiveKit stand-in by URL and the Twilio
 * stand-in through HTTPS_PROXY.
 */
import { inboundWebhook } from '../support/fixtures';
import { RESOURCE_EXHAUSTED, UNAVAILABLE } from '../support/livekit-stand-in';
import { AUTH_TOKEN } from '../support/runtime';
import { useServiceWithApis } from '../support/twilio-run';
import { TOO_MANY_REQUESTS } from '../support/twilio-stand-in';
import { find, parseTwiml } from '../support/twiml';

const ENV = { AGENT_NAMES: 'agent', OUTBOUND_CALLER_IDS: '+14155550100' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each([
  ['one process per request', false],
  ['code kept loaded (--no-fork-process)', true],
])('twilio-run, %s', (_, keepLoaded) => {
  const { liveKit, twilioApi, server } = useServiceWithApis(ENV, { keepLoaded });
  const base = keepLoaded ? 200 : 100;
  const signed = { authToken: AUTH_TOKEN };

  test('a caller gets through one LiveKit 503 and one 429', async () => {
    liveKit.failNext('Connector.ConnectTwilioCall', UNAVAILABLE);
    liveKit.failNext('Connector.ConnectTwilioCall', RESOURCE_EXHAUSTED);
    const reply = await server.post('/incoming', inboundWebhook(base + 1), signed);
    expect(find(parseTwiml(reply.body), 'Stream')).toBeDefined();
    expect(liveKit.calls('Connector.ConnectTwilioCall')).toHaveLength(3);
  });

  test('an outbound call gets through one Twilio 20429; a lasting one is answered 429 with Retry-After', async () => {
    twilioApi.createFaults.push(TOO_MANY_REQUESTS);
    const placed = await server.post('/outbound', { To: '+14155550123' }, signed);
    expect({ status: placed.status, body: placed.body }).toMatchObject({ status: 200 });
    expect(twilioApi.calls).toHaveLength(1);

    for (let i = 0; i < 10; i += 1) twilioApi.createFaults.push(TOO_MANY_REQUESTS);
    const refused = await server.post('/outbound', { To: '+14155550124' }, signed);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('1');
    expect((JSON.parse(refused.body) as { error: { code: string } }).error.code).toBe('twilio-rate-limited');
  });

  test('overlapping status callbacks with LiveKit slow: every room ends on the newest status, every answer 200', async () => {
    const calls = [];
    for (let i = 0; i < 10; i += 1) {
      const reply = await server.post('/outbound', { To: '+14155550123', RoomName: `slow-${base}-${i}` }, signed);
      calls.push(JSON.parse(reply.body) as { callSid: string; roomName: string; participantIdentity: string });
    }
    liveKit.jitter = { min: 50, max: 250 };
    const outcomes = await Promise.all(
      calls.map(async (call, i) => {
        liveKit.startStream(call.roomName, call.participantIdentity);
        const url = String(
          twilioApi.calls.find((c) => String(c.params.StatusCallback).includes(`room=${call.roomName}&`))!.params.StatusCallback,
        );
        const send = (CallStatus: string, SequenceNumber: string) =>
          server.postTo(url, { CallSid: call.callSid, CallStatus, SequenceNumber, AccountSid: twilioApi.accountSid }, signed);
        const answers = await Promise.all([send('in-progress', '2'), sleep((i * 13) % 80).then(() => send('completed', '3'))]);
        const status = liveKit.rooms.get(call.roomName)?.get(call.participantIdentity)?.attributes['twilio.callStatus'];
        return `${status} ${answers.map((a) => a.status).join(',')}`;
      }),
    );
    expect(outcomes).toEqual(calls.map(() => 'hangup 200,200'));
  }, 60_000);
});
