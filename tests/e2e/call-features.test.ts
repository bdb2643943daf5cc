/**
 * The compiled recording-status and rejoin functions in a real twilio-run
 * process, driven by the Node client as an agent would drive them and by
 * the test playing Twilio's part: a recorded inbound call whose recording
 * the agent pauses, the recording callback, and keys pressed on the call
 * with the stream coming back through /rejoin.
 */
import { ConnectTwilioCallRequest, ConnectTwilioCallRequest_TwilioCallDirection } from '@livekit/protocol';
import { CallControl } from '../../clients/node/call-control';
import { inboundWebhook } from '../support/fixtures';
import { API_KEY, API_SECRET } from '../support/livekit-stand-in';
import { ACCOUNT_SID, AUTH_TOKEN, callSid } from '../support/runtime';
import { useServiceWithApis } from '../support/twilio-run';
import { find, parseTwiml } from '../support/twiml';

const { liveKit, twilioApi, server } = useServiceWithApis({
  AGENT_NAMES: 'support-agent',
  OUTBOUND_CALLER_IDS: '+14155550199',
  RECORD_CALLS: 'always',
  RECORDING_NOTICE: 'This call is recorded.',
});

const control = () => new CallControl({ url: `${server.baseUrl}/call-control`, apiKey: API_KEY, apiSecret: API_SECRET });

describe('recording and keypad digits through twilio-run', () => {
  test('a recorded call: the notice, the recording callback into the room, pause and resume by the agent', async () => {
    const reply = await server.postTo(`${server.baseUrl}/incoming`, inboundWebhook(1), { authToken: AUTH_TOKEN });
    const twiml = parseTwiml(reply.body);
    expect(twiml.children.map((c) => c.name)).toEqual(['Start', 'Say', 'Connect']);
    const room = `call-${callSid(1)}`;
    const identity = inboundWebhook(1).From!;
    twilioApi.setCallStatus(callSid(1), 'in-progress');
    const recording = twilioApi.addRecording(callSid(1), 'StartCallRecordingTwiML');

    const callbackUrl = find(twiml, 'Recording')!.attributes.recordingStatusCallback!;
    const callback = await server.postTo(
      callbackUrl,
      { AccountSid: ACCOUNT_SID, CallSid: callSid(1), RecordingSid: recording.sid, RecordingStatus: 'in-progress' },
      { authToken: AUTH_TOKEN },
    );
    expect(callback.status).toBe(200);
    expect(liveKit.rooms.get(room)!.get(identity)!.attributes['twilio.recordingSid']).toBe(recording.sid);

    expect(await control().pauseRecording(room, 'skip')).toMatchObject({ outcome: 'paused', recordingSid: recording.sid });
    expect(await control().resumeRecording(room)).toMatchObject({ outcome: 'resumed' });
    expect(twilioApi.recordingChanges.map((c) => c.params)).toEqual([
      { Status: 'paused', PauseBehavior: 'skip' },
      { Status: 'in-progress' },
    ]);
  }, 60_000);

  test('keys pressed: the stream ends, /rejoin brings the same participant back, and the call is still the agent’s', async () => {
    const reply = await server.postTo(`${server.baseUrl}/incoming`, inboundWebhook(2), { authToken: AUTH_TOKEN });
    expect(reply.body).toContain('<Stream');
    const room = `call-${callSid(2)}`;
    const identity = inboundWebhook(2).From!;
    twilioApi.setCallStatus(callSid(2), 'in-progress');
    liveKit.startStream(room, identity);
    const before = { ...liveKit.rooms.get(room)!.get(identity)!.attributes };

    expect(await control().pressKeys(room, '3')).toMatchObject({ outcome: 'pressed', digits: 1 });
    const update = parseTwiml(twilioApi.updates[0]!.params.Twiml!);
    expect(update.children.map((c) => c.name)).toEqual(['Play', 'Redirect']);

    // Twilio: the stream ends, the tone plays, then it follows the Redirect.
    liveKit.endStream(room, identity);
    const rejoin = await server.postTo(
      find(update, 'Redirect')!.text,
      { AccountSid: ACCOUNT_SID, CallSid: callSid(2), CallStatus: 'in-progress' },
      { authToken: AUTH_TOKEN },
    );
    expect(find(parseTwiml(rejoin.body), 'Stream')!.attributes.url).toBe(liveKit.connectUrls.get(room));
    const session = liveKit.calls('Connector.ConnectTwilioCall').at(-1)!.body as ConnectTwilioCallRequest;
    expect(session.twilioCallDirection).toBe(ConnectTwilioCallRequest_TwilioCallDirection.INBOUND);
    expect(session.participantAttributes).toEqual(before);
    liveKit.startStream(room, identity);

    expect(await control().hangup(room)).toMatchObject({ outcome: 'hung-up' });
    expect(twilioApi.updates.at(-1)!.params).toEqual({ Status: 'completed' });
  }, 60_000);
});
