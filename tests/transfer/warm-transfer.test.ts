/**
 * Warm transfer through the service, step by step, against the stand-ins:
 * add-human (the person's call, TwiML the service writes), /consult (their
 * stream into the consult room, no agent there), human-status, join-human
 * (LiveKit's MoveParticipant, or a Twilio conference where LiveKit refuses
 * it), the legs kept apart afterwards, and who is left when someone hangs up.
 */
import type { ConnectTwilioCallRequest } from '@livekit/protocol';
import { handler as controlHandler } from '../../src/functions/call-control';
import { handler as consultHandler } from '../../src/functions/consult.protected';
import { handler as incomingHandler } from '../../src/functions/incoming';
import { handler as statusHandler } from '../../src/functions/status.protected';
import { NO_AGENT } from '../../src/transfer/consult-leg';
import { controlToken, inboundWebhook, liveKitEnv } from '../support/fixtures';
import { captureConsole, expectNoSecrets } from '../support/logs';
import { callSid, invoke, localContext, signedCallback, signedEvent } from '../support/runtime';
import { useLiveKit, useTwilioApi } from '../support/stand-ins';
import { find, parseTwiml } from '../support/twiml';

const liveKit = useLiveKit();
const twilioApi = useTwilioApi();
const logs: string[] = [];
beforeEach(() => captureConsole(logs));
afterEach(() => jest.restoreAllMocks());

const env = () =>
  liveKitEnv(liveKit, {
    AGENT_NAMES: 'support-agent',
    OUTBOUND_CALLER_IDS: '+14155550199,+14155550100',
    TRANSFER_TARGETS: 'billing=+14155550111,support=+14155550112',
  });
const context = (path: string) => localContext(env(), path, 3000, (o) => twilioApi.client(o?.timeout));

/** A live inbound call; its room. `CallToken` as Twilio sends it for a call that may be forwarded. */
async function inboundCall(n: number, extra: Record<string, string> = {}): Promise<string> {
  const ctx = context('/incoming');
  const reply = await invoke(incomingHandler, ctx, signedEvent(ctx, inboundWebhook(n, extra)));
  expect(reply.body).toContain('<Stream');
  twilioApi.setCallStatus(callSid(n), 'in-progress');
  liveKit.startStream(`call-${callSid(n)}`, '+14155550100');
  return `call-${callSid(n)}`;
}

async function control(room: string, body: Record<string, unknown>) {
  const token = await controlToken(room, body);
  const reply = await invoke(controlHandler, context('/call-control'), {
    ...body,
    request: { headers: { authorization: `Bearer ${token}` } },
  });
  return { status: reply.status, json: JSON.parse(reply.body) as Record<string, unknown> & { error?: { code: string } } };
}

/** The person's call as the service placed it. */
const personCall = () => twilioApi.calls.at(-1)!;
const consultUrlOf = (twiml: string) => {
  const root = parseTwiml(twiml);
  return (find(root, 'Redirect')?.text ?? find(root, 'Gather')!.attributes.action)!;
};

/** Twilio asking /consult what the person does, after the brief (with `Digits` when they pressed a key). */
async function consult(extra: Record<string, string> = {}) {
  const call = personCall();
  const params = {
    CallSid: String(call.sid),
    AccountSid: twilioApi.accountSid,
    To: String(call.params.To),
    CallStatus: 'in-progress',
    ...extra,
  };
  return invoke(consultHandler, context('/consult'), signedCallback(consultUrlOf(String(call.params.Twiml)), params));
}

async function personStatus(status: string) {
  const call = personCall();
  return invoke(
    statusHandler,
    context('/status'),
    signedCallback(String(call.params.StatusCallback), { CallSid: String(call.sid), CallStatus: status }),
  );
}

const callerOf = (room: string) => liveKit.rooms.get(room)!.get('+14155550100')!;
const progress = (room: string) => callerOf(room).attributes['twilio.human.status'];
const consultConnects = (room: string) =>
  liveKit
    .calls('Connector.ConnectTwilioCall')
    .map((r) => r.body as ConnectTwilioCallRequest)
    .filter((r) => r.roomName === `${room}-consult`);

/** add-human, then the person answers and their stream opens: ready to be joined. */
async function readyPerson(room: string, body: Record<string, unknown> = {}) {
  const added = await control(room, { action: 'add-human', target: 'billing', ...body });
  expect(added.status).toBe(200);
  twilioApi.setCallStatus(String(personCall().sid), 'in-progress');
  const answered = await consult();
  expect(answered.body).toContain('<Stream');
  liveKit.startStream(`${room}-consult`, 'human-billing');
  return String(added.json.callSid);
}

describe('add-human: the person is called with what they hear, before any LiveKit session', () => {
  test('straight to /consult, which says the brief before the stream; their status reaches the caller room', async () => {
    const room = await inboundCall(1);
    const reply = await control(room, { action: 'add-human', target: 'billing', brief: 'A caller\nneeds help with a refund.' });
    expect(reply.json).toMatchObject({ action: 'add-human', outcome: 'calling', consultRoom: `${room}-consult`, callerId: 'service' });
    const call = personCall();
    expect(call.params).toMatchObject({ To: '+14155550111', From: '+14155550199', Timeout: '30' });
    const twiml = parseTwiml(String(call.params.Twiml));
    expect(twiml.children.map((c) => c.name)).toEqual(['Redirect']);
    const consultUrl = new URL(find(twiml, 'Redirect')!.text);
    expect(`${consultUrl.origin}${consultUrl.pathname}`).toBe('http://localhost:3000/consult');
    expect(Object.fromEntries(consultUrl.searchParams)).toEqual({ room, target: 'billing', route: 'default', accept: '0' });
    expect(Object.fromEntries(new URL(String(call.params.StatusCallback)).searchParams)).toEqual({
      room: `${room}-consult`,
      identity: 'human-billing',
      route: 'default',
      callerRoom: room,
    });
    expect(consultConnects(room)).toEqual([]);
    expect(progress(room)).toBe('dialing');
    expect(liveKit.dataMessages.filter((m) => m.topic === 'twilio.human').map((m) => JSON.parse(m.payload).status)).toEqual(['dialing']);
    // Answered: the brief (its line break spoken as a space), then the stream.
    const answered = parseTwiml((await consult()).body);
    expect(answered.children.map((c) => c.name)).toEqual(['Say', 'Connect']);
    expect(find(answered, 'Say')!.text).toBe('A caller needs help with a refund.');
  });

  test('asking again while that call lives rings nobody twice; another target is refused until cancel', async () => {
    const room = await inboundCall(2);
    const first = await control(room, { action: 'add-human', target: 'billing' });
    const again = await control(room, { action: 'add-human', target: 'billing' });
    expect(again.json.callSid).toBe(first.json.callSid);
    expect(twilioApi.calls).toHaveLength(1);
    expect((await control(room, { action: 'add-human', target: 'support' })).json.error!.code).toBe('human-busy');
    await control(room, { action: 'cancel-human' });
    expect((await control(room, { action: 'add-human', target: 'support' })).json).toMatchObject({ outcome: 'calling' });
    expect(twilioApi.calls.map((c) => c.params.To)).toEqual(['+14155550111', '+14155550112']);
  });

  test("the caller's own number, where Twilio gave a CallToken; else the service's", async () => {
    const withToken = await inboundCall(3, { CallToken: 'call-token-from-twilio' });
    expect((await control(withToken, { action: 'add-human', target: 'billing', callerId: 'caller' })).json.callerId).toBe('caller');
    expect(personCall().params).toMatchObject({ From: '+14155550100', CallToken: 'call-token-from-twilio' });
    const without = await inboundCall(4);
    expect((await control(without, { action: 'add-human', target: 'billing', callerId: 'caller' })).json.callerId).toBe('service');
    expect(personCall().params.CallToken).toBeUndefined();
  });

  test("Twilio refusing the caller's number (21210): placed again with the service's", async () => {
    const room = await inboundCall(5, { CallToken: 'call-token-from-twilio' });
    twilioApi.createFaults.push({
      status: 400,
      code: 21210,
      message: 'The source phone number provided, +14155550100, is not yet verified for your account',
    });
    const reply = await control(room, { action: 'add-human', target: 'billing', callerId: 'caller' });
    expect(reply.json.callerId).toBe('service');
    expect(personCall().params).toMatchObject({ From: '+14155550199' });
  });
});

describe('/consult: the person is connected into the consult room, with no agent', () => {
  test('their session: OUTBOUND into the consult room, dispatched to no agent, bound as the person leg', async () => {
    const room = await inboundCall(10);
    await control(room, { action: 'add-human', target: 'billing' });
    const reply = await consult();
    expect(find(parseTwiml(reply.body), 'Stream')).toBeDefined();
    const [session] = consultConnects(room);
    // A non-empty dispatch list replaces automatic dispatch: no agent joins the consult room.
    expect(session!.agents.map((a) => a.agentName)).toEqual([NO_AGENT]);
    expect(session!.twilioCallDirection).toBe(1);
    expect(session!.participantAttributes).toMatchObject({
      'twilio.role': 'person',
      'twilio.callerRoom': room,
      'twilio.callSid': String(personCall().sid),
    });
    expect(session!.participantAttributes['twilio.callBinding']).toBeTruthy();
    expect(progress(room)).toBe('accepted');
  });

  test('"press 1" first, the brief only after it (a voicemail never records it); another key and they are let go', async () => {
    const room = await inboundCall(11);
    await control(room, { action: 'add-human', target: 'billing', brief: 'A refund.', accept: 'true' });
    const twiml = String(personCall().params.Twiml);
    const gather = find(parseTwiml(twiml), 'Gather')!;
    expect(gather.attributes).toMatchObject({ numDigits: '1', method: 'POST', actionOnEmptyResult: 'true' });
    expect(find(gather, 'Say')!.text).toBe('You have a call to take. Press 1 to accept it.');
    expect(twiml).not.toContain('A refund.');
    const declined = parseTwiml((await consult({ Digits: '2' })).body);
    expect(declined.children.map((c) => c.name)).toEqual(['Say', 'Hangup']);
    expect(progress(room)).toBe('declined');
    expect(consultConnects(room)).toEqual([]);
  });

  test('answering after the caller hung up: told so, never connected into an empty room', async () => {
    const room = await inboundCall(12);
    await control(room, { action: 'add-human', target: 'billing' });
    liveKit.rooms.get(room)!.delete('+14155550100');
    const reply = parseTwiml((await consult()).body);
    expect(find(reply, 'Say')!.text).toBe('The caller has hung up. Goodbye.');
    expect(consultConnects(room)).toEqual([]);
  });
});

describe('join-human', () => {
  test('before their stream runs: 409 human-not-ready; human-status says when it does', async () => {
    const room = await inboundCall(20);
    await control(room, { action: 'add-human', target: 'billing' });
    expect((await control(room, { action: 'human-status' })).json).toMatchObject({ outcome: 'dialing', ready: false });
    expect((await control(room, { action: 'join-human' })).json.error!.code).toBe('human-not-ready');
    await consult();
    liveKit.startStream(`${room}-consult`, 'human-billing');
    expect((await control(room, { action: 'human-status' })).json).toMatchObject({ outcome: 'accepted', ready: true });
  });

  test('moved into the caller room (identity and attributes kept, a new SID), bound there as the person leg', async () => {
    const room = await inboundCall(21);
    const personSid = await readyPerson(room);
    const before = liveKit.rooms.get(`${room}-consult`)!.get('human-billing')!;
    const joined = await control(room, { action: 'join-human' });
    expect(joined.json).toEqual({ action: 'join-human', outcome: 'joined', via: 'move', participantIdentity: 'human-billing' });
    expect(liveKit.rooms.get(`${room}-consult`)!.has('human-billing')).toBe(false);
    const after = liveKit.rooms.get(room)!.get('human-billing')!;
    expect(after.sid).not.toBe(before.sid);
    expect(after.attributes['twilio.callSid']).toBe(personSid);
    expect(progress(room)).toBe('joined');
    // Both legs stay apart: the caller's call and the person's, each by its own leg.
    expect((await control(room, { action: 'hangup', leg: 'person' })).json).toMatchObject({ outcome: 'hung-up', leg: 'person' });
    expect(twilioApi.updates.map((u) => [u.callSid, u.params.Status])).toEqual([[personSid, 'completed']]);
    expect((await control(room, { action: 'hangup' })).json).toMatchObject({ outcome: 'hung-up' });
    expect(twilioApi.updates.at(-1)).toMatchObject({ callSid: callSid(21), params: { Status: 'completed' } });
    expectNoSecrets(logs.join('\n'));
  });

  test('where LiveKit refuses MoveParticipant (open-source server): both calls into one Twilio conference', async () => {
    liveKit.moveSupport = 'open-source';
    const room = await inboundCall(22);
    const personSid = await readyPerson(room);
    const joined = await control(room, { action: 'join-human' });
    expect(joined.json).toMatchObject({ outcome: 'joined', via: 'conference' });
    const conferences = twilioApi.updates.map((u) => [u.callSid, find(parseTwiml(u.params.Twiml!), 'Conference')!]);
    expect(conferences.map(([sid]) => sid)).toEqual([personSid, callSid(22)]);
    for (const [, conference] of conferences) {
      const c = conference as { text: string; attributes: Record<string, string> };
      expect(c.text).toBe(`lk-${room}`);
      expect(c.attributes).toMatchObject({ endConferenceOnExit: 'true', beep: 'false' });
    }
  });

  test('a token for another room reaches neither the person nor the call', async () => {
    const room = await inboundCall(23);
    await readyPerson(room);
    const other = await inboundCall(24);
    expect((await control(other, { action: 'join-human' })).json.error!.code).toBe('no-human');
    expect((await control(other, { action: 'cancel-human' })).json).toMatchObject({ outcome: 'no-human' });
    expect(liveKit.rooms.get(`${room}-consult`)!.has('human-billing')).toBe(true);
    expect(twilioApi.updates).toEqual([]);
  });
});

describe("the person's call is the agent's to end only when the service put it there", () => {
  test("another call's SID written into the progress (as a room admin could): nothing is ended", async () => {
    const room = await inboundCall(40);
    const victim = await inboundCall(41);
    await control(room, { action: 'add-human', target: 'billing' });
    Object.assign(callerOf(room).attributes, { 'twilio.human.callSid': callSid(41), 'twilio.human.status': 'accepted' });
    expect((await control(room, { action: 'cancel-human' })).json).toMatchObject({ outcome: 'no-human' });
    expect((await control(room, { action: 'hangup', leg: 'person' })).json.error!.code).toBe('no-human');
    expect((await control(room, { action: 'human-status' })).json).toMatchObject({ outcome: 'no-human' });
    // Nor through the caller hanging up, nor a conference join.
    liveKit.moveSupport = 'open-source';
    expect((await control(room, { action: 'join-human' })).json.error!.code).toBe('no-human');
    const caller = { ...inboundWebhook(40), CallStatus: 'completed', Direction: 'inbound' };
    await invoke(statusHandler, context('/status'), signedEvent(context('/status'), caller));
    expect(twilioApi.updates.filter((u) => u.callSid === callSid(41))).toEqual([]);
    expect(liveKit.rooms.get(victim)!.has('+14155550100')).toBe(true);
  });
});

describe('nobody left behind', () => {
  test("the caller hangs up while the person's phone rings (its participant still in the room): the person's call is ended", async () => {
    const room = await inboundCall(30);
    const added = await control(room, { action: 'add-human', target: 'billing' });
    await personStatus('ringing');
    expect(progress(room)).toBe('ringing');
    // The caller's number's status callback (its participant is still in the room as the stream ends).
    const caller = { ...inboundWebhook(30), CallStatus: 'completed', Direction: 'inbound' };
    await invoke(statusHandler, context('/status'), signedEvent(context('/status'), caller));
    expect(twilioApi.updates).toContainEqual(expect.objectContaining({ callSid: added.json.callSid, params: { Status: 'completed' } }));
  });

  test('the caller gone (participant and all) before the person answers: answering ends their call at once', async () => {
    const room = await inboundCall(34);
    const added = await control(room, { action: 'add-human', target: 'billing' });
    liveKit.rooms.get(room)!.delete('+14155550100');
    await personStatus('in-progress');
    expect(twilioApi.updates).toContainEqual(expect.objectContaining({ callSid: added.json.callSid, params: { Status: 'completed' } }));
  });

  test('hanging up the person after the join leaves the caller on the line', async () => {
    const room = await inboundCall(35);
    const personSid = await readyPerson(room);
    await control(room, { action: 'join-human' });
    await control(room, { action: 'hangup', leg: 'person' });
    await personStatus('completed');
    expect(twilioApi.updates.map((u) => u.callSid)).toEqual([personSid]);
    expect(progress(room)).toBe('gone');
  });

  test('the person never answers: their status says gone, the caller stays with the agent', async () => {
    const room = await inboundCall(31);
    await control(room, { action: 'add-human', target: 'billing' });
    await personStatus('no-answer');
    expect(progress(room)).toBe('gone');
    expect((await control(room, { action: 'human-status' })).json).toMatchObject({ outcome: 'gone', ready: false });
    expect(twilioApi.updates).toEqual([]);
  });

  test('the person hangs up after the join: the caller is not left alone in the room', async () => {
    const room = await inboundCall(32);
    await readyPerson(room);
    await control(room, { action: 'join-human' });
    const reply = await personStatus('completed');
    expect(reply.status).toBe(200);
    expect(twilioApi.updates).toContainEqual(expect.objectContaining({ callSid: callSid(32), params: { Status: 'completed' } }));
    expect(progress(room)).toBe('gone');
  });

  test("cancel after the join: the person's call ends and their participant leaves the caller room", async () => {
    const room = await inboundCall(33);
    const personSid = await readyPerson(room);
    await control(room, { action: 'join-human' });
    expect((await control(room, { action: 'cancel-human' })).json).toMatchObject({ outcome: 'cancelled', callSid: personSid });
    expect(liveKit.rooms.get(room)!.has('human-billing')).toBe(false);
    expect(twilioApi.updates).toEqual([expect.objectContaining({ callSid: personSid, params: { Status: 'completed' } })]);
  });
});

describe('what is said when it is not known', () => {
  test('Twilio not answering add-human: the person may be rung anyway, and the answer says so', async () => {
    const room = await inboundCall(50);
    twilioApi.behaviour = { kind: 'hang' };
    const reply = await control(room, { action: 'add-human', target: 'billing' });
    expect(reply.status).toBe(504);
    expect(reply.json.error).toMatchObject({ code: 'twilio-timeout', callMayExist: true });
    expect((reply.json.error as unknown as { message: string }).message).toContain('human-status will say if they answer');
  }, 15_000);

  test('a person who declined stays declined when their call then ends', async () => {
    const room = await inboundCall(51);
    await control(room, { action: 'add-human', target: 'billing', accept: 'true' });
    await consult({ Digits: '9' });
    await personStatus('completed');
    expect(progress(room)).toBe('declined');
  });
});
