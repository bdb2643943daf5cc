/**
 * A whole warm transfer through a real twilio-run, both ways: the Node
 * client's warmTransfer against call-control, the test playing Twilio's
 * part (the person answers, /consult is asked, they press 1, their stream
 * starts), LiveKit moving the person (Cloud) or refusing the move
 * (open-source livekit-server), when both calls meet in a conference.
 */
import { CallControl } from '../../clients/node/call-control';
import { API_KEY, API_SECRET } from '../support/livekit-stand-in';
import { ACCOUNT_SID, AUTH_TOKEN } from '../support/runtime';
import { useServiceWithApis } from '../support/twilio-run';
import { find, parseTwiml } from '../support/twiml';

const { liveKit, twilioApi, server, liveCall } = useServiceWithApis({
  AGENT_NAMES: 'support-agent',
  TRANSFER_TARGETS: 'billing=+14155550111',
  OUTBOUND_CALLER_IDS: '+14155550199',
});

/** Twilio answering the person's call once it is placed: /consult with the key 1, then their stream. */
async function answerWhenCalled(): Promise<{ consult: string; ms: number }> {
  const started = Date.now();
  while (!twilioApi.calls.length) await new Promise((r) => setTimeout(r, 20));
  const call = twilioApi.calls[0]!;
  twilioApi.setCallStatus(call.sid, 'in-progress');
  const url = find(parseTwiml(String(call.params.Twiml)), 'Gather')!.attributes.action!;
  const reply = await server.postTo(
    url,
    { CallSid: call.sid, AccountSid: ACCOUNT_SID, To: '+14155550111', Digits: '1' },
    { authToken: AUTH_TOKEN },
  );
  expect(reply.body).toContain('<Stream');
  liveKit.startStream(`${new URL(url).searchParams.get('room')}-consult`, 'human-billing');
  return { consult: reply.body, ms: Date.now() - started };
}

describe('warmTransfer through twilio-run', () => {
  const control = () => new CallControl({ url: `${server.baseUrl}/call-control`, apiKey: API_KEY, apiSecret: API_SECRET });

  test('LiveKit Cloud: the person is moved into the caller room', async () => {
    const room = await liveCall(1, { streaming: true });
    const started = Date.now();
    const [result] = await Promise.all([
      control().warmTransfer(room, 'billing', { brief: 'A refund.', accept: true, pollMs: 100 }),
      answerWhenCalled(),
    ]);
    console.log(JSON.stringify({ warmTransferMs: Date.now() - started, via: result.via }));
    expect(result).toEqual({ outcome: 'joined', via: 'move' });
    expect(liveKit.rooms.get(room)!.has('human-billing')).toBe(true);
    expect(liveKit.rooms.get(`${room}-consult`)!.has('human-billing')).toBe(false);
    expect(twilioApi.updates).toEqual([]);
  }, 60_000);

  test('open-source livekit-server refusing the move: both calls into one conference', async () => {
    liveKit.moveSupport = 'open-source';
    const room = await liveCall(2, { streaming: true });
    const [result] = await Promise.all([control().warmTransfer(room, 'billing', { accept: true, pollMs: 100 }), answerWhenCalled()]);
    expect(result).toEqual({ outcome: 'joined', via: 'conference' });
    expect(twilioApi.updates.map((u) => find(parseTwiml(u.params.Twiml!), 'Conference')!.text)).toEqual([`lk-${room}`, `lk-${room}`]);
  }, 60_000);

  test('nobody answers in time: their call is cancelled, the caller is still with the agent', async () => {
    const room = await liveCall(3, { streaming: true });
    const result = await control().warmTransfer(room, 'billing', { answerTimeoutMs: 1500, pollMs: 200 });
    expect(result).toEqual({ outcome: 'not-answered' });
    expect(twilioApi.updates).toEqual([expect.objectContaining({ callSid: twilioApi.calls[0]!.sid, params: { Status: 'completed' } })]);
    expect(liveKit.rooms.get(room)!.has('+14155550100')).toBe(true);
  }, 60_000);
});
