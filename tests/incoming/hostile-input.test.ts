import type { ConnectTwilioCallRequest } from '@livekit/protocol';
import fc from 'fast-check';
import { handler } from '../../src/functions/incoming';
import { liveKitEnv } from '../support/fixtures';
import { useLiveKit } from '../support/stand-ins';
import { ACCOUNT_SID, callSid, invoke, localContext, signedEvent } from '../support/runtime';
import { find, parseTwiml, streamUrl } from '../support/twiml';

const stand = useLiveKit();

beforeEach(() => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

const baseEnv = () => liveKitEnv(stand, { LIVEKIT_TIMEOUT_MS: '1000', AGENT_NAMES: 'agent' });

async function call(params: Record<string, string>, env: Record<string, string> = {}) {
  const context = localContext({ ...baseEnv(), ...env }, '/incoming');
  return invoke(handler, context, signedEvent(context, params));
}

function lastConnect(): ConnectTwilioCallRequest {
  return stand.calls('Connector.ConnectTwilioCall').at(-1)!.body as ConnectTwilioCallRequest;
}

const CONTROL = /\p{Cc}/u;

describe('incoming: hostile and unusual input', () => {
  test('XML metacharacters in caller values never break the TwiML', async () => {
    const nasty = '"/><Hangup/><Say>pwned</Say><x a="&amp;';
    const reply = await call(
      { CallSid: callSid(1), AccountSid: ACCOUNT_SID, From: nasty, To: '+14155550199', CallerName: nasty },
      { GREETING: 'Hello <caller> & "friends"' },
    );
    const root = parseTwiml(reply.body);
    expect(root.children.map((c) => c.name)).toEqual(['Say', 'Connect']);
    expect(root.children[0]!.text).toBe('Hello <caller> & "friends"');
    expect(lastConnect().participantAttributes['twilio.callerName']).toBe(nasty);
  });

  test('control characters are removed before LiveKit or TwiML see them', async () => {
    await call(
      { CallSid: callSid(2), From: '+1415\u0000555\u00070100', To: '+14155550199', CallerName: 'Ada\u001b[31m\u0085Lovelace' },
      { GREETING: 'Hi\u0008 there\u0000' },
    ).then((reply) => {
      expect(reply.body).not.toMatch(CONTROL);
      expect(find(parseTwiml(reply.body), 'Say')!.text).toBe('Hi there');
    });
    const request = lastConnect();
    for (const value of [request.participantIdentity, request.participantName, ...Object.values(request.participantAttributes)]) {
      expect(value).not.toMatch(CONTROL);
    }
    expect(request.participantAttributes['twilio.callerName']).toBe('Ada[31mLovelace');
    expect(request.participantIdentity).toBe('+14155550100');
  });

  test('very long values are bounded', async () => {
    const long = 'x'.repeat(100_000);
    const reply = await call({ CallSid: callSid(3), From: long, To: long, CallerName: long });
    expect(reply.status).toBe(200);
    const request = lastConnect();
    for (const value of Object.values(request.participantAttributes)) expect(value.length).toBeLessThanOrEqual(256);
    expect(request.participantIdentity.length).toBeLessThanOrEqual(128);
  });

  test('unicode caller names pass through intact, surrogate pairs unsplit', async () => {
    const name = 'Zoë 山田 🚀 Ωmega';
    await call({ CallSid: callSid(4), From: '+14155550100', To: '+14155550199', CallerName: name }, { PARTICIPANT_NAME: 'caller-name' });
    expect(lastConnect().participantName).toBe(name);
    await call({ CallSid: callSid(4), From: '+14155550100', CallerName: '🚀'.repeat(300) }, { PARTICIPANT_NAME: 'caller-name' });
    const bounded = lastConnect().participantName;
    expect(Array.from(bounded)).toHaveLength(128);
    expect(bounded).toBe('🚀'.repeat(128));
  });

  test('a missing or malformed CallSid still gets its own room and a working call', async () => {
    const replies = [await call({ From: '+14155550100' }), await call({ From: '+14155550100', CallSid: '../../etc' })];
    const rooms = stand.calls('Connector.ConnectTwilioCall').map((r) => (r.body as ConnectTwilioCallRequest).roomName);
    expect(rooms).toHaveLength(2);
    expect(rooms[0]).toMatch(/^call-unknown-[0-9a-f-]{36}$/);
    expect(rooms[1]).toMatch(/^call-unknown-[0-9a-f-]{36}$/);
    expect(rooms[0]).not.toBe(rooms[1]);
    for (const reply of replies) expect(streamUrl(reply.body)).toMatch(/^wss:\/\//);
  });

  test("property: for any webhook values the TwiML parses and streams exactly to LiveKit's URL", async () => {
    const anyText = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 60 }),
      fc.string({ unit: 'binary', maxLength: 60 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record({ From: anyText, To: anyText, CallerName: anyText, FromCountry: anyText }),
        anyText,
        async (params, greeting) => {
          stand.reset();
          const reply = await call({ CallSid: callSid(9), AccountSid: ACCOUNT_SID, ...params }, { GREETING: greeting });
          expect(reply.status).toBe(200);
          const root = parseTwiml(reply.body);
          expect(find(root, 'Stream')!.attributes.url).toBe(stand.connectUrls.get(`call-${callSid(9)}`));
          expect(reply.body).not.toMatch(CONTROL);
        },
      ),
      { numRuns: 150 },
    );
  });
});
