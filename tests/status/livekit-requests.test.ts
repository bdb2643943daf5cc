/**
 * The LiveKit API requests one outbound call costs, counted per method
 * against the LiveKit stand-in: the call placed through the outbound
 * handler (ConnectTwilioCall, then UpdateParticipant with the call SID and
 * its binding), then Twilio's status callbacks for the default events
 * (initiated, ringing, answered, completed) sent to the status handler.
 * At campaign rates these requests are what LiveKit's API limits are spent
 * on, so a change that adds one fails here.
 */
import { handler as outboundHandler } from '../../src/functions/outbound.protected';
import { handler as statusHandler } from '../../src/functions/status.protected';
import { liveKitEnv } from '../support/fixtures';
import { invoke, localContext, signedCallback, signedEvent } from '../support/runtime';
import { useLiveKit, useTwilioApi } from '../support/stand-ins';

const liveKit = useLiveKit();
const twilioApi = useTwilioApi();
beforeEach(() => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

const env = () => liveKitEnv(liveKit, { OUTBOUND_CALLER_IDS: '+14155550100', AGENT_NAMES: 'agent' });
const ctx = (path: string) => localContext(env(), path, 3000, (o) => twilioApi.client(o?.timeout));

async function placeCall(extra: Record<string, string> = {}) {
  const context = ctx('/outbound');
  const reply = await invoke(outboundHandler, context, signedEvent(context, { To: '+14155550123', ...extra }));
  expect(reply.status).toBe(200);
  const body = JSON.parse(reply.body) as { callSid: string; roomName: string; participantIdentity: string };
  return { ...body, url: String(twilioApi.calls[0]!.params.StatusCallback), events: twilioApi.calls[0]!.params.StatusCallbackEvent };
}

/** One callback as Twilio sends it: to the URL outbound gave it, signed over that URL. */
async function callback(url: string, params: Record<string, string>) {
  const reply = await invoke(statusHandler, ctx('/status'), signedCallback(url, params));
  return { status: reply.status, outcome: (JSON.parse(reply.body) as { outcome?: string }).outcome };
}

describe('LiveKit requests per outbound call', () => {
  test('answered and completed, the default four callbacks: 18 requests', async () => {
    const call = await placeCall();
    expect(call.events).toEqual(['initiated', 'ringing', 'answered', 'completed']);
    expect(countFrom(0)).toEqual({ 'Connector.ConnectTwilioCall': 1, 'RoomService.UpdateParticipant': 1 });
    const base = { CallSid: call.callSid };
    const steps: [string, number][] = [
      ['initiated', 0],
      ['ringing', 1],
      ['in-progress', 2],
      ['completed', 3],
    ];
    const each: Record<string, number>[] = [];
    for (const [status, sequence] of steps) {
      const before = liveKit.requests.length;
      expect(await callback(call.url, { ...base, CallStatus: status, SequenceNumber: String(sequence) })).toEqual({
        status: 200,
        outcome: 'updated',
      });
      each.push(Object.fromEntries(Object.entries(countFrom(before))));
      // Answered: Twilio fetches the TwiML and the stream connects.
      if (status === 'in-progress') liveKit.startStream(call.roomName, call.participantIdentity);
    }
    // Read, write, read back (settle), data message: each of the four, hangup included.
    const written = { 'RoomService.GetParticipant': 2, 'RoomService.UpdateParticipant': 1, 'RoomService.SendData': 1 };
    expect(each).toEqual([written, written, written, written]);
    expect(countFrom(0)).toEqual({
      'Connector.ConnectTwilioCall': 1,
      'RoomService.UpdateParticipant': 5,
      'RoomService.GetParticipant': 8,
      'RoomService.SendData': 4,
    });
    expect(liveKit.requests).toHaveLength(18);
    // What the room was told is unchanged: every stage, and the newest on top.
    expect(liveKit.rooms.get(call.roomName)!.get(call.participantIdentity)!.attributes).toMatchObject({
      'twilio.callStatus': 'hangup',
      'twilio.callStatusDetail': 'completed',
      'twilio.stage.dialing': 'initiated',
      'twilio.stage.ringing': 'ringing',
      'twilio.stage.active': 'in-progress',
      'twilio.stage.hangup': 'completed',
    });
    expect(liveKit.dataMessages.map((m) => (JSON.parse(m.payload) as { status: string }).status)).toEqual([
      'dialing',
      'ringing',
      'active',
      'hangup',
    ]);
  });

  test('rung and never answered (no-answer): the participant is removed instead of written, 13 requests', async () => {
    const call = await placeCall();
    const base = { CallSid: call.callSid };
    for (const [status, sequence] of [
      ['initiated', 0],
      ['ringing', 1],
      ['no-answer', 2],
    ] as const)
      expect(await callback(call.url, { ...base, CallStatus: status, SequenceNumber: String(sequence) })).toEqual({
        status: 200,
        outcome: 'updated',
      });
    expect(countFrom(0)).toEqual({
      'Connector.ConnectTwilioCall': 1,
      'RoomService.UpdateParticipant': 3,
      'RoomService.GetParticipant': 5,
      'RoomService.SendData': 3,
      'RoomService.RemoveParticipant': 1,
    });
    expect(liveKit.requests).toHaveLength(13);
    expect(liveKit.rooms.get(call.roomName)?.get(call.participantIdentity)).toBeUndefined();
    expect(JSON.parse(liveKit.dataMessages.at(-1)!.payload)).toMatchObject({ status: 'hangup', detail: 'no-answer' });
  });

  test('a repeated callback costs one read and nothing else', async () => {
    const call = await placeCall();
    await callback(call.url, { CallSid: call.callSid, CallStatus: 'ringing' });
    const before = liveKit.requests.length;
    expect(await callback(call.url, { CallSid: call.callSid, CallStatus: 'ringing' })).toEqual({ status: 200, outcome: 'unchanged' });
    expect(countFrom(before)).toEqual({ 'RoomService.GetParticipant': 1 });
  });

  test('an AMD result alone: read, write, data message; no read-back (the status did not change)', async () => {
    const call = await placeCall({ MachineDetection: 'Enable' });
    await callback(call.url, { CallSid: call.callSid, CallStatus: 'in-progress' });
    const before = liveKit.requests.length;
    expect(await callback(call.url, { CallSid: call.callSid, AnsweredBy: 'human' })).toEqual({ status: 200, outcome: 'updated' });
    expect(countFrom(before)).toEqual({ 'RoomService.GetParticipant': 1, 'RoomService.UpdateParticipant': 1, 'RoomService.SendData': 1 });
  });
});

/** Requests per method since the `from`-th. */
function countFrom(from: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { method } of liveKit.requests.slice(from)) counts[method] = (counts[method] ?? 0) + 1;
  return counts;
}
