/**
 * Voicemail drop and keypad digits against the LiveKit and Twilio REST
 * stand-ins: the TwiML each action sends, SendDigits on outbound, and the
 * digits round trip (the stream ends, /rejoin opens a fresh session into
 * the same room as the same participant, and the call is still the agent's
 * to control), with each refusal leaving the call untouched.
 */
import { ConnectTwilioCallRequest, ConnectTwilioCallRequest_TwilioCallDirection } from '@livekit/protocol';
import { handler as controlHandler } from '../../src/functions/call-control';
import { handler as incomingHandler } from '../../src/functions/incoming';
import { handler as rejoinHandler } from '../../src/functions/rejoin.protected';
import { controlToken, inboundWebhook, liveKitEnv, postOutbound } from '../support/fixtures';
import { captureConsole, expectNoSecrets } from '../support/logs';
import { ACCOUNT_SID, AUTH_TOKEN, callSid, invoke, localContext, signedCallback, signedEvent } from '../support/runtime';
import { controlCall } from '../../src/call-control/control-call';
import { controlDependencies } from '../../src/call-control/dependencies';
import { loadRoutes } from '../../src/config/routes';
import { bindingAttributes } from '../../src/twilio/call-binding';
import { useLiveKit, useTwilioApi } from '../support/stand-ins';
import { find, parseTwiml } from '../support/twiml';

const liveKit = useLiveKit();
const twilioApi = useTwilioApi();
const logs: string[] = [];
beforeEach(() => captureConsole(logs));
afterEach(() => jest.restoreAllMocks());

const env = (extra: Record<string, string> = {}) =>
  liveKitEnv(liveKit, {
    AGENT_NAMES: 'support-agent',
    OUTBOUND_CALLER_IDS: '+14155550100',
    VOICEMAIL_AUDIO: 'voicemail.mp3,after-hours.wav',
    CONNECT_ACTION_URL: '/after-agent',
    ...extra,
  });
const client = (o?: { timeout?: number }) => twilioApi.client(o?.timeout);

async function incoming(n: number) {
  const context = localContext(env(), '/incoming', 3000, client);
  const reply = await invoke(incomingHandler, context, signedEvent(context, inboundWebhook(n)));
  expect(reply.body).toContain('<Stream');
  twilioApi.setCallStatus(callSid(n), 'in-progress');
  return { room: `call-${callSid(n)}`, identity: '+14155550100', callSid: callSid(n) };
}

async function control(room: string, body: Record<string, unknown>) {
  const token = await controlToken(room, body);
  const context = localContext(env(), '/call-control', 3000, client);
  const reply = await invoke(controlHandler, context, { ...body, request: { headers: { authorization: `Bearer ${token}` }, cookies: {} } });
  return { status: reply.status, json: JSON.parse(reply.body) as Record<string, unknown> & { error?: { code: string; field?: string } } };
}

const updates = (sid: string) => twilioApi.updates.filter((u) => u.callSid === sid).map((u) => u.params);
const connects = () => liveKit.calls('Connector.ConnectTwilioCall').map((r) => r.body as ConnectTwilioCallRequest);

describe('leave-voicemail', () => {
  test('text: spoken, then the call ends', async () => {
    const { room, callSid: sid } = await incoming(1);
    const reply = await control(room, { action: 'leave-voicemail', message: 'Hi, this is Acme.\nPlease call us back.' });
    expect(reply).toEqual({ status: 200, json: { action: 'leave-voicemail', outcome: 'left' } });
    const twiml = parseTwiml(updates(sid)[0]!.Twiml!);
    expect(twiml.children.map((c) => [c.name, c.text])).toEqual([
      ['Say', 'Hi, this is Acme. Please call us back.'],
      ['Hangup', ''],
    ]);
  });

  test("an audio file VOICEMAIL_AUDIO names: played from the service's own domain, then the call ends", async () => {
    const { room, callSid: sid } = await incoming(2);
    expect((await control(room, { action: 'leave-voicemail', audio: 'voicemail.mp3' })).json.outcome).toBe('left');
    const twiml = parseTwiml(updates(sid)[0]!.Twiml!);
    expect(twiml.children.map((c) => [c.name, c.text])).toEqual([
      ['Play', 'http://localhost:3000/voicemail.mp3'],
      ['Hangup', ''],
    ]);
  });

  test.each([
    ['a file nobody named', { audio: 'other.mp3' }, 404, 'audio-unknown', 'audio'],
    ['a path, not a name', { audio: '../routes.private.json' }, 400, 'invalid-parameter', 'audio'],
    ['both text and audio', { audio: 'voicemail.mp3', message: 'Hi' }, 400, 'invalid-parameter', 'audio'],
    ['neither', {}, 400, 'invalid-parameter', 'message'],
  ])('%s: refused, the call untouched', async (_, params, status, code, field) => {
    const { room, callSid: sid } = await incoming(3);
    const reply = await control(room, { action: 'leave-voicemail', ...params });
    expect(reply.status).toBe(status);
    expect(reply.json.error).toMatchObject({ code, field });
    expect(updates(sid)).toEqual([]);
  });

  test('an unknown file is answered with the files there are', async () => {
    const { room } = await incoming(4);
    const reply = await control(room, { action: 'leave-voicemail', audio: 'other.mp3' });
    expect(JSON.stringify(reply.json.error)).toContain('voicemail.mp3, after-hours.wav');
  });
});

describe('SendDigits on outbound', () => {
  test('passed to Twilio as given', async () => {
    const reply = await postOutbound({ liveKit, twilioApi }, { To: '+14155550123', SendDigits: 'ww1234#' });
    expect(reply.status).toBe(200);
    expect(twilioApi.calls[0]!.params.SendDigits).toBe('ww1234#');
  });

  test.each([
    ['a letter Twilio does not play', { SendDigits: '12x' }],
    ['more than 32', { SendDigits: '1'.repeat(33) }],
    ['with MachineDetection, which Twilio would then ignore', { SendDigits: '1', MachineDetection: 'Enable' }],
  ])('%s: 400 naming SendDigits, nothing placed', async (_, params) => {
    const reply = await postOutbound({ liveKit, twilioApi }, { To: '+14155550123', ...params });
    expect(reply.status).toBe(400);
    expect(reply.json.error.field).toBe('SendDigits');
    expect(twilioApi.calls).toHaveLength(0);
    expect(connects()).toHaveLength(0);
  });

  test("the stand-in holds Twilio's rule too: 21206", async () => {
    const call = twilioApi
      .client()
      .calls.create({ to: '+14155550123', from: '+14155550100', url: 'https://example.com/t', sendDigits: '1x' });
    await expect(call).rejects.toMatchObject({ status: 400, code: 21206 });
  });
});

describe('press-keys: the digits round trip', () => {
  /** What Twilio does with the update: the stream ends (the participant leaves), the tones play, then it follows the Redirect. */
  async function followRedirect(room: string, identity: string, twiml: string, sid: string) {
    liveKit.endStream(room, identity);
    const url = find(parseTwiml(twiml), 'Redirect')!.text;
    const webhook = { AccountSid: ACCOUNT_SID, CallSid: sid, CallStatus: 'in-progress', From: '+14155550100', To: '+14155550199' };
    const context = localContext(env(), '/rejoin', 3000, client);
    return invoke(rejoinHandler, context, signedCallback(url, webhook));
  }

  test('tells the room first, plays the keys, then the same participant comes back to the same room, still controllable', async () => {
    const { room, identity, callSid: sid } = await incoming(10);
    liveKit.startStream(room, identity);
    const before = { ...liveKit.rooms.get(room)!.get(identity)!.attributes };
    const seenAtUpdate: Record<string, string>[] = [];
    twilioApi.onUpdate = () => seenAtUpdate.push({ ...liveKit.rooms.get(room)!.get(identity)!.attributes });
    const sessionsBefore = connects().length;

    const reply = await control(room, { action: 'press-keys', digits: '1w2#' });
    expect(reply).toEqual({ status: 200, json: { action: 'press-keys', outcome: 'pressed', digits: 4, expectedMs: 800 } });
    // The room knew before the stream ended, by attribute and by data message; no session was opened yet.
    expect(seenAtUpdate[0]!['twilio.rejoin']).toBe('digits');
    expect(liveKit.dataMessages.filter((m) => m.topic === 'twilio.rejoin').map((m) => JSON.parse(m.payload))).toEqual([
      { callSid: sid, identity, reason: 'digits', expectedMs: 800 },
    ]);
    expect(connects()).toHaveLength(sessionsBefore);

    const twiml = updates(sid)[0]!.Twiml!;
    const doc = parseTwiml(twiml);
    expect(doc.children.map((c) => c.name)).toEqual(['Play', 'Redirect']);
    expect(doc.children[0]!.attributes.digits).toBe('1w2#');
    const redirect = new URL(find(doc, 'Redirect')!.text);
    expect(`${redirect.origin}${redirect.pathname}`).toBe('http://localhost:3000/rejoin');

    const rejoined = await followRedirect(room, identity, twiml, sid);
    expect(rejoined.status).toBe(200);
    const connect = find(parseTwiml(rejoined.body), 'Connect')!;
    expect(connect.attributes.action).toBe('/after-agent');
    expect(find(parseTwiml(rejoined.body), 'Stream')!.attributes.url).toBe(liveKit.connectUrls.get(room));
    const session = connects().at(-1)!;
    expect(session).toMatchObject({ roomName: room, participantIdentity: identity, agents: [] });
    expect(session.twilioCallDirection).toBe(ConnectTwilioCallRequest_TwilioCallDirection.INBOUND);
    // Every attribute back as it was (the call's binding with them), the rejoin mark not among them.
    expect(session.participantAttributes).toEqual(before);
    expect(liveKit.evicted).toEqual([]);

    const hangup = await control(room, { action: 'hangup' });
    expect(hangup.json.outcome).toBe('hung-up');
    expect(updates(sid).at(-1)).toEqual({ Status: 'completed' });
    expectNoSecrets(logs.join('\n'));
    const line = JSON.parse(logs.find((l) => l.includes('"fn":"rejoin"'))!) as Record<string, unknown>;
    expect(line).toMatchObject({ outcome: 'connected', room, callSid: sid });
    expect(typeof line.sinceMs).toBe('number');
  });

  test('an outbound call comes back the same way, with its own attributes and name', async () => {
    const placed = await postOutbound(
      { liveKit, twilioApi },
      { To: '+14155550123', ParticipantAttributes: JSON.stringify({ 'crm.id': '42' }), ParticipantName: 'Ada' },
    );
    const { roomName: room, participantIdentity: identity, callSid: sid } = placed.json;
    liveKit.startStream(room, identity);
    twilioApi.setCallStatus(sid, 'in-progress');
    expect((await control(room, { action: 'press-keys', digits: '9' })).status).toBe(200);
    const before = { ...liveKit.rooms.get(room)!.get(identity)!.attributes };
    delete before['twilio.rejoin'];
    const rejoined = await followRedirect(room, identity, updates(sid)[0]!.Twiml!, sid);
    expect(rejoined.body).toContain('<Stream');
    const session = connects().at(-1)!;
    expect(session.participantAttributes).toEqual(before);
    expect(session.participantAttributes['crm.id']).toBe('42');
    expect(session.participantName).toBe('Ada');
    expect(session.twilioCallDirection).toBe(ConnectTwilioCallRequest_TwilioCallDirection.INBOUND);
    expect((await control(room, { action: 'hangup' })).json.outcome).toBe('hung-up');
  });

  test.each([
    ['a letter', 'x1', 'digits'],
    ['more than 32 keys', '1'.repeat(33), 'digits'],
  ])('%s: 400 naming digits, nothing kept, nothing told, the call untouched', async (_, digits, field) => {
    const { room, callSid: sid } = await incoming(11);
    const reply = await control(room, { action: 'press-keys', digits });
    expect(reply.status).toBe(400);
    expect(reply.json.error!.field).toBe(field);
    expect(updates(sid)).toEqual([]);
    expect(twilioApi.sync.maps.has(`call-${sid}`)).toBe(false);
    expect(liveKit.dataMessages.filter((m) => m.topic === 'twilio.rejoin')).toEqual([]);
  });

  test('Sync unavailable: 503 with Retry-After, the call untouched and the room not told', async () => {
    const { room, identity, callSid: sid } = await incoming(12);
    twilioApi.sync.hang = true;
    const reply = await control(room, { action: 'press-keys', digits: '1' });
    expect(reply.status).toBe(503);
    expect(reply.json.error!.code).toBe('sync-unavailable');
    expect(updates(sid)).toEqual([]);
    expect(liveKit.rooms.get(room)!.get(identity)!.attributes['twilio.rejoin']).toBeUndefined();
  });

  test('Twilio refuses the update: the rejoin mark is taken back', async () => {
    const { room, identity, callSid: sid } = await incoming(13);
    twilioApi.updateFaults.push({ status: 400, code: 21220, message: 'Call is not in-progress' });
    const reply = await control(room, { action: 'press-keys', digits: '1' });
    expect(reply.status).toBe(409);
    expect(liveKit.rooms.get(room)!.get(identity)!.attributes['twilio.rejoin']).toBeUndefined();
    expect(updates(sid)).toEqual([]);
  });

  test('/rejoin: unsigned is refused; a URL naming another room hears the fallback and opens nothing', async () => {
    const { room, identity, callSid: sid } = await incoming(14);
    await control(room, { action: 'press-keys', digits: '1' });
    const url = new URL(find(parseTwiml(updates(sid)[0]!.Twiml!), 'Redirect')!.text);
    const webhook = { AccountSid: ACCOUNT_SID, CallSid: sid, CallStatus: 'in-progress' };
    const context = () => localContext(env(), '/rejoin', 3000, client);
    const unsigned = { ...Object.fromEntries(url.searchParams), ...webhook, request: { headers: {}, cookies: {} } };
    expect((await invoke(rejoinHandler, context(), unsigned)).status).toBe(401);
    url.searchParams.set('room', 'call-someone-else');
    const sessions = connects().length;
    const other = await invoke(rejoinHandler, context(), signedCallback(url.toString(), webhook));
    expect(other.status).toBe(200);
    expect(parseTwiml(other.body).children.map((c) => c.name)).toEqual(['Say', 'Hangup']);
    expect(connects()).toHaveLength(sessions);
    liveKit.endStream(room, identity);
  });

  test('a second press-keys while the first keys play: 409 keys-pending, the call untouched', async () => {
    const { room, callSid: sid } = await incoming(16);
    expect((await control(room, { action: 'press-keys', digits: '1' })).status).toBe(200);
    const again = await control(room, { action: 'press-keys', digits: '2' });
    expect(again.status).toBe(409);
    expect(again.json.error!.code).toBe('keys-pending');
    expect(updates(sid)).toHaveLength(1);
  });

  test("Twilio's answer lost: the room is still told the stream is coming back", async () => {
    const { room, identity } = await incoming(17);
    twilioApi.updateBehaviour = { kind: 'hang' };
    const reply = await control(room, { action: 'press-keys', digits: '1' });
    expect(reply.status).toBe(504);
    expect(liveKit.rooms.get(room)!.get(identity)!.attributes['twilio.rejoin']).toBe('digits');
  }, 15_000);

  test('what the journal holds, changed by anyone but this service, is not used: the fallback, no session', async () => {
    const { room, identity, callSid: sid } = await incoming(18);
    await control(room, { action: 'press-keys', digits: '1' });
    const map = twilioApi.sync.maps.get(`call-${sid}`)!;
    const [key, item] = [...map.entries()].find(([k]) => k.startsWith('rejoin-'))!;
    const data = item.data as { text: string; seal: string };
    const forged = JSON.parse(data.text) as { action: string };
    forged.action = 'https://attacker.example.com/take-over';
    map.set(key, { ...item, data: { ...data, text: JSON.stringify(forged) } });
    const sessions = connects().length;
    const reply = await followRedirect(room, identity, updates(sid)[0]!.Twiml!, sid);
    expect(parseTwiml(reply.body).children.map((c) => c.name)).toEqual(['Say', 'Hangup']);
    expect(reply.body).not.toContain('attacker');
    expect(connects()).toHaveLength(sessions);
  });

  test('a session opened while the old participant still streams would evict it: the stand-in counts it', async () => {
    const { room, identity, callSid: sid } = await incoming(19);
    liveKit.startStream(room, identity);
    await control(room, { action: 'press-keys', digits: '1' });
    // Twilio following the Redirect before the stream ended is the mistake the order of the steps avoids.
    const url = find(parseTwiml(updates(sid)[0]!.Twiml!), 'Redirect')!.text;
    const webhook = { AccountSid: ACCOUNT_SID, CallSid: sid, CallStatus: 'in-progress' };
    await invoke(rejoinHandler, localContext(env(), '/rejoin', 3000, client), signedCallback(url, webhook));
    expect(liveKit.evicted).toEqual([`${room}/${identity}`]);
  });

  test.each([
    ['inline', '/sales-after'],
    ['url', undefined],
  ])("an outbound call's route keeps its own <Connect action> across the keys (%s mode)", async (mode, action) => {
    const sid = callSid(20);
    const room = 'call-out-sales-1';
    const identity = 'callee-1';
    const facts = { room, identity, callSid: sid, accountSid: ACCOUNT_SID, flowSid: '', route: 'sales' };
    liveKit.addParticipant(room, identity, true);
    Object.assign(liveKit.rooms.get(room)!.get(identity)!.attributes, {
      'twilio.callSid': sid,
      'twilio.accountSid': ACCOUNT_SID,
      'twilio.route': 'sales',
      'twilio.direction': 'outbound',
      ...bindingAttributes(AUTH_TOKEN, facts),
    });
    twilioApi.setCallStatus(sid, 'in-progress');
    const routes = () =>
      loadRoutes(() => JSON.stringify({ routes: [{ name: 'sales', numbers: ['+14155550100'], connectActionUrl: '/sales-after' }] }));
    const body = { action: 'press-keys', digits: '1' };
    const token = await controlToken(room, body);
    const deps = { ...controlDependencies((t) => twilioApi.client(t) as never), log: () => undefined, routes };
    const context = localContext(env({ OUTBOUND_TWIML_MODE: mode }), '/call-control');
    const reply = await controlCall(context, { ...body, request: { headers: { authorization: `Bearer ${token}` }, cookies: {} } }, deps);
    expect(reply.status).toBe(200);
    const rejoined = await followRedirect(room, identity, updates(sid)[0]!.Twiml!, sid);
    expect(find(parseTwiml(rejoined.body), 'Connect')!.attributes.action).toBe(action);
  });

  test('a call a Studio flow sent here goes back to the flow when /rejoin cannot open the stream', async () => {
    const flowSid = 'FW' + 'cd'.repeat(16);
    const context = localContext(env(), '/incoming', 3000, client);
    await invoke(incomingHandler, context, signedEvent(context, { ...inboundWebhook(21), FlowSid: flowSid }));
    twilioApi.setCallStatus(callSid(21), 'in-progress');
    const room = `call-${callSid(21)}`;
    expect((await control(room, { action: 'press-keys', digits: '1' })).status).toBe(200);
    liveKit.behaviour = { kind: 'status', status: 500, code: 'internal', msg: 'down' };
    const reply = await followRedirect(room, '+14155550100', updates(callSid(21))[0]!.Twiml!, callSid(21));
    const redirect = find(parseTwiml(reply.body), 'Redirect')!.text;
    expect(redirect).toContain(`/Flows/${flowSid}`);
    expect(new URL(redirect).searchParams.get('ConnectorResult')).toBe('unavailable');
  });

  test('/rejoin with LiveKit down: the caller hears the fallback, not an application error', async () => {
    const { room, identity, callSid: sid } = await incoming(15);
    await control(room, { action: 'press-keys', digits: '1' });
    liveKit.behaviour = { kind: 'status', status: 500, code: 'internal', msg: 'down' };
    const reply = await followRedirect(room, identity, updates(sid)[0]!.Twiml!, sid);
    expect(reply.status).toBe(200);
    expect(parseTwiml(reply.body).children.map((c) => c.name)).toEqual(['Say', 'Hangup']);
  });
});
