/**
 * Recording with consent, against the LiveKit and Twilio REST stand-ins:
 * what incoming and outbound ask Twilio for when calls are recorded, the
 * agent's start, pause and resume (each Twilio request exactly, each
 * refusal with nothing changed), and the recording status callback.
 */
import { handler as controlHandler } from '../../src/functions/call-control';
import { handler as incomingHandler } from '../../src/functions/incoming';
import { handler as recordingHandler } from '../../src/functions/recording-status.protected';
import { controlToken, inboundWebhook, liveKitEnv, postOutbound } from '../support/fixtures';
import { captureConsole, expectNoSecrets } from '../support/logs';
import { callSid, invoke, localContext, signedCallback, signedEvent } from '../support/runtime';
import { useLiveKit, useTwilioApi } from '../support/stand-ins';
import { find, parseTwiml } from '../support/twiml';

const liveKit = useLiveKit();
const twilioApi = useTwilioApi();
const logs: string[] = [];
beforeEach(() => captureConsole(logs));
afterEach(() => jest.restoreAllMocks());

const env = (extra: Record<string, string> = {}) =>
  liveKitEnv(liveKit, { AGENT_NAMES: 'support-agent', OUTBOUND_CALLER_IDS: '+14155550100', ...extra });
const client = (o?: { timeout?: number }) => twilioApi.client(o?.timeout);

async function incoming(n: number, extra: Record<string, string> = {}) {
  const context = localContext(env(extra), '/incoming', 3000, client);
  const reply = await invoke(incomingHandler, context, signedEvent(context, inboundWebhook(n)));
  twilioApi.setCallStatus(callSid(n), 'in-progress');
  return { twiml: parseTwiml(reply.body), room: `call-${callSid(n)}`, identity: '+14155550100', callSid: callSid(n) };
}

async function control(room: string, body: Record<string, unknown>, extra: Record<string, string> = {}) {
  const token = await controlToken(room, body);
  const context = localContext(env(extra), '/call-control', 3000, client);
  const reply = await invoke(controlHandler, context, { ...body, request: { headers: { authorization: `Bearer ${token}` }, cookies: {} } });
  return { status: reply.status, json: JSON.parse(reply.body) as Record<string, unknown> & { error?: { code: string; field?: string } } };
}

const attributes = (room: string, identity: string) => liveKit.rooms.get(room)?.get(identity)?.attributes ?? {};

describe('incoming records every call when RECORD_CALLS=always', () => {
  test('<Start><Recording> first, then the notice, then <Connect>: both tracks, dual channels, reporting to recording-status', async () => {
    const { twiml, room, identity } = await incoming(1, { RECORD_CALLS: 'always', RECORDING_NOTICE: 'This call is recorded.' });
    expect(twiml.children.map((c) => c.name)).toEqual(['Start', 'Say', 'Connect']);
    const recording = find(twiml, 'Recording')!;
    expect(recording.attributes).toMatchObject({
      channels: 'dual',
      track: 'both',
      recordingStatusCallbackMethod: 'POST',
      recordingStatusCallbackEvent: 'in-progress completed absent',
    });
    const url = new URL(recording.attributes.recordingStatusCallback!);
    expect(`${url.origin}${url.pathname}`).toBe('http://localhost:3000/recording-status');
    expect(Object.fromEntries(url.searchParams)).toEqual({ room, identity, route: 'default' });
    expect(find(twiml, 'Say')!.text).toBe('This call is recorded.');
  });

  test('not recorded by default, nor with RECORD_CALLS=on-request', async () => {
    expect((await incoming(2)).twiml.children.map((c) => c.name)).toEqual(['Connect']);
    expect((await incoming(3, { RECORD_CALLS: 'on-request', RECORDING_NOTICE: 'Recorded.' })).twiml.children.map((c) => c.name)).toEqual([
      'Connect',
    ]);
  });

  test('a broken RECORD_CALLS connects the call unrecorded, and says so in the log', async () => {
    const { twiml } = await incoming(4, { RECORD_CALLS: 'yes' });
    expect(twiml.children.map((c) => c.name)).toEqual(['Connect']);
    const line = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.fn === 'incoming');
    expect(line).toMatchObject({ outcome: 'connected', configuration: expect.stringContaining('RECORD_CALLS') });
  });
});

describe('outbound records the call it places', () => {
  test('RECORD_CALLS=always: Record with dual channels and the recording callback; inline mode speaks the notice first', async () => {
    const reply = await postOutbound(
      { liveKit, twilioApi },
      { To: '+14155550123' },
      { RECORD_CALLS: 'always', RECORDING_NOTICE: 'This call is recorded.', OUTBOUND_TWIML_MODE: 'inline' },
    );
    expect(reply.status).toBe(200);
    const params = twilioApi.calls[0]!.params;
    expect(params).toMatchObject({
      Record: 'true',
      RecordingChannels: 'dual',
      RecordingTrack: 'both',
      RecordingStatusCallbackMethod: 'POST',
    });
    expect(params.RecordingStatusCallbackEvent).toEqual(['in-progress', 'completed', 'absent']);
    const url = new URL(String(params.RecordingStatusCallback));
    expect(Object.fromEntries(url.searchParams)).toEqual({
      room: reply.json.roomName,
      identity: reply.json.participantIdentity,
      route: 'default',
    });
    const twiml = parseTwiml(String(params.Twiml));
    expect(twiml.children.map((c) => c.name)).toEqual(['Say', 'Connect']);
    expect(find(twiml, 'Say')!.text).toBe('This call is recorded.');
  });

  test("a request's Record=true is recorded the same way, reporting here", async () => {
    await postOutbound({ liveKit, twilioApi }, { To: '+14155550123', Record: 'true' });
    expect(twilioApi.calls[0]!.params).toMatchObject({ Record: 'true', RecordingChannels: 'dual' });
    expect(String(twilioApi.calls[0]!.params.RecordingStatusCallback)).toContain('/recording-status?');
  });

  test('a notice in url mode is refused before anything is created: Twilio would play LiveKit’s TwiML without it', async () => {
    const reply = await postOutbound(
      { liveKit, twilioApi },
      { To: '+14155550123' },
      { RECORD_CALLS: 'always', RECORDING_NOTICE: 'Recorded.' },
    );
    expect(reply.status).toBe(500);
    expect(JSON.stringify(reply.json)).toContain('RECORDING_NOTICE');
    expect(twilioApi.calls).toHaveLength(0);
    expect(liveKit.calls('Connector.ConnectTwilioCall')).toHaveLength(0);
  });

  test('not recorded unless asked', async () => {
    await postOutbound({ liveKit, twilioApi }, { To: '+14155550123' });
    expect(twilioApi.calls[0]!.params.Record).toBeUndefined();
    expect(twilioApi.calls[0]!.params.RecordingStatusCallback).toBeUndefined();
  });
});

describe('the agent starts, pauses and resumes the recording', () => {
  test('start-recording (on-request): the Recordings API with both tracks and the callback; SID and state on the participant', async () => {
    const { room, identity, callSid: sid } = await incoming(10, { RECORD_CALLS: 'on-request' });
    const reply = await control(room, { action: 'start-recording' }, { RECORD_CALLS: 'on-request' });
    expect(reply.status).toBe(200);
    const recording = twilioApi.recordings.find((r) => r.callSid === sid)!;
    expect(reply.json).toEqual({ action: 'start-recording', outcome: 'recording', recordingSid: recording.sid });
    expect(recording.params).toMatchObject({
      RecordingChannels: 'dual',
      RecordingTrack: 'both',
      RecordingStatusCallbackMethod: 'POST',
      RecordingStatusCallbackEvent: ['in-progress', 'completed', 'absent'],
    });
    expect(Object.fromEntries(new URL(String(recording.params.RecordingStatusCallback)).searchParams)).toEqual({
      room,
      identity,
      route: 'default',
    });
    expect(attributes(room, identity)).toMatchObject({ 'twilio.recordingSid': recording.sid, 'twilio.recordingStatus': 'in-progress' });
    expectNoSecrets(logs.join('\n'));
  });

  test('RECORD_CALLS=never: 403 recording-off, and Twilio is not asked', async () => {
    const { room } = await incoming(11, { RECORD_CALLS: 'never' });
    const reply = await control(room, { action: 'start-recording' }, { RECORD_CALLS: 'never' });
    expect(reply.status).toBe(403);
    expect(reply.json.error!.code).toBe('recording-off');
    expect(twilioApi.recordings).toHaveLength(0);
  });

  test('a call already recorded: 409 already-recording, no second recording', async () => {
    const { room } = await incoming(12, { RECORD_CALLS: 'on-request' });
    expect((await control(room, { action: 'start-recording' }, { RECORD_CALLS: 'on-request' })).status).toBe(200);
    const again = await control(room, { action: 'start-recording' }, { RECORD_CALLS: 'on-request' });
    expect(again.status).toBe(409);
    expect(again.json.error!.code).toBe('already-recording');
    expect(twilioApi.recordings).toHaveLength(1);
  });

  test('a call recorded from its start is not recorded twice, even before Twilio reports the recording', async () => {
    const { room, identity } = await incoming(18, { RECORD_CALLS: 'always' });
    expect(attributes(room, identity)['twilio.recordingStatus']).toBe('starting');
    const reply = await control(room, { action: 'start-recording' }, { RECORD_CALLS: 'always' });
    expect(reply.status).toBe(409);
    expect(reply.json.error!.code).toBe('already-recording');
    expect(twilioApi.recordings).toHaveLength(0);
  });

  test('pause (silence by default, or skip), then resume: Twilio.CURRENT with the exact Status and PauseBehavior', async () => {
    const { room, identity, callSid: sid } = await incoming(13, { RECORD_CALLS: 'always' });
    const recording = twilioApi.addRecording(sid, 'StartCallRecordingTwiML');
    const paused = await control(room, { action: 'pause-recording' });
    expect(paused).toEqual({ status: 200, json: { action: 'pause-recording', outcome: 'paused', recordingSid: recording.sid } });
    expect(attributes(room, identity)['twilio.recordingStatus']).toBe('paused');
    expect((await control(room, { action: 'resume-recording' })).json.outcome).toBe('resumed');
    expect(attributes(room, identity)['twilio.recordingStatus']).toBe('in-progress');
    expect((await control(room, { action: 'pause-recording', behavior: 'skip' })).status).toBe(200);
    expect(twilioApi.recordingChanges.map((c) => c.params)).toEqual([
      { Status: 'paused', PauseBehavior: 'silence' },
      { Status: 'in-progress' },
      { Status: 'paused', PauseBehavior: 'skip' },
    ]);
    expect(twilioApi.recordings[0]!.pauseBehavior).toBe('skip');
  });

  test('nothing to pause: 409 not-recording, and nothing changed', async () => {
    const { room } = await incoming(14, { RECORD_CALLS: 'always' });
    const reply = await control(room, { action: 'pause-recording' });
    expect(reply.status).toBe(409);
    expect(reply.json.error!.code).toBe('not-recording');
    expect(twilioApi.recordingChanges).toHaveLength(0);
  });

  test('a behavior other than skip or silence is a 400 naming it; resume takes none', async () => {
    const { room } = await incoming(15, { RECORD_CALLS: 'always' });
    const bad = await control(room, { action: 'pause-recording', behavior: 'mute' });
    expect(bad.status).toBe(400);
    expect(bad.json.error!.field).toBe('behavior');
    expect((await control(room, { action: 'resume-recording', behavior: 'skip' })).json.error!.field).toBe('behavior');
    expect(twilioApi.recordingChanges).toHaveLength(0);
  });

  test('a call Twilio says is over: 409 call-over (21220)', async () => {
    const { room, callSid: sid } = await incoming(16, { RECORD_CALLS: 'on-request' });
    twilioApi.setCallStatus(sid, 'completed');
    const reply = await control(room, { action: 'start-recording' }, { RECORD_CALLS: 'on-request' });
    expect(reply.status).toBe(409);
    expect(reply.json.error!.code).toBe('call-over');
    expect(twilioApi.recordings).toHaveLength(0);
  });

  test('a passing 429 from Twilio is resent; the recording starts once', async () => {
    const { room } = await incoming(17, { RECORD_CALLS: 'on-request' });
    twilioApi.updateFaults.push({ status: 429, code: 20429, message: 'Too Many Requests' });
    expect((await control(room, { action: 'start-recording' }, { RECORD_CALLS: 'on-request' })).status).toBe(200);
    expect(twilioApi.faulted).toEqual([{ kind: 'update', code: 20429 }]);
    expect(twilioApi.recordings).toHaveLength(1);
  });
});

describe('recording-status', () => {
  const callback = (url: string, params: Record<string, string>) =>
    invoke(recordingHandler, localContext(env(), '/recording-status', 3000, client), signedCallback(url, params));

  test('writes the SID and state onto the participant; a late in-progress never undoes completed', async () => {
    const { twiml, room, identity, callSid: sid } = await incoming(20, { RECORD_CALLS: 'always' });
    const url = find(twiml, 'Recording')!.attributes.recordingStatusCallback!;
    const re = 'RE' + 'a'.repeat(32);
    const base = { AccountSid: 'AC' + '0123456789abcdef'.repeat(2), CallSid: sid, RecordingSid: re };
    expect((await callback(url, { ...base, RecordingStatus: 'in-progress' })).status).toBe(200);
    expect(attributes(room, identity)).toMatchObject({ 'twilio.recordingSid': re, 'twilio.recordingStatus': 'in-progress' });
    await callback(url, { ...base, RecordingStatus: 'completed', RecordingDuration: '42' });
    await callback(url, { ...base, RecordingStatus: 'in-progress' });
    expect(attributes(room, identity)['twilio.recordingStatus']).toBe('completed');
    const lines = logs.filter((l) => l.includes('"fn":"recording-status"')).map((l) => JSON.parse(l) as { outcome: string });
    expect(lines.map((l) => l.outcome)).toEqual(['updated', 'updated', 'unchanged']);
  });

  test('an in-progress that comes before the stream has joined waits for the participant', async () => {
    const { twiml, room, identity, callSid: sid } = await incoming(21, { RECORD_CALLS: 'always' });
    const url = find(twiml, 'Recording')!.attributes.recordingStatusCallback!;
    liveKit.endStream(room, identity);
    setTimeout(() => liveKit.addParticipant(room, identity, true), 500);
    const re = 'RE' + 'b'.repeat(32);
    await callback(url, { CallSid: sid, RecordingSid: re, RecordingStatus: 'in-progress' });
    expect(attributes(room, identity)['twilio.recordingSid']).toBe(re);
  });

  test('unsigned, or signed for another URL: refused, nothing written', async () => {
    const { twiml, room, identity, callSid: sid } = await incoming(22, { RECORD_CALLS: 'always' });
    const url = find(twiml, 'Recording')!.attributes.recordingStatusCallback!;
    const params = { CallSid: sid, RecordingSid: 'RE' + 'c'.repeat(32), RecordingStatus: 'in-progress' };
    const event = signedCallback(url, params);
    const forged = { ...event, room: 'call-someone-else' };
    const reply = await invoke(recordingHandler, localContext(env(), '/recording-status', 3000, client), forged);
    expect(reply.status).toBe(403);
    const unsigned = { ...event, request: { headers: {}, cookies: {} } };
    expect((await invoke(recordingHandler, localContext(env(), '/recording-status', 3000, client), unsigned)).status).toBe(401);
    expect(attributes(room, identity)['twilio.recordingSid']).toBeUndefined();
  });
});
