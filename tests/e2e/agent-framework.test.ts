/**
 * The agent examples inside their frameworks, against the compiled
 * `call-control` function in a real twilio-run process:
 *
 * - Node: clients/node/example-agent-tools.ts type-checked as an ES module
 *   and as CommonJS, then compiled as an ES module and run by
 *   @livekit/agents 1.9 itself (clients/node/test/esm/run-tools.ts): tools
 *   built before the room has a name, strict schemas from the framework's
 *   own converter, each call through the voice pipeline's tool path.
 * - Python: clients/python/example_agent_tools.py imported with no
 *   environment, its tools run as livekit-agents runs them, over the
 *   livekit.agents stand-in in tests/fixtures/python-agents.
 *
 * Each tool's call is then checked at Twilio: the update the service sent
 * (`<Play digits>` and `<Redirect>` to /rejoin for press_keys, `<Say>` and
 * `<Hangup>` for leave_voicemail), and what the room was told.
 *
 * clients/node has its own dependencies: `npm ci --prefix clients/node`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { inboundWebhook } from '../support/fixtures';
import { API_KEY, API_SECRET } from '../support/livekit-stand-in';
import { runCommand } from '../support/project-copy';
import { ACCOUNT_SID, AUTH_TOKEN, callSid } from '../support/runtime';
import { ROOT, useServiceWithApis } from '../support/twilio-run';
import { find, parseTwiml } from '../support/twiml';

const NODE_CLIENT = path.join(ROOT, 'clients', 'node');
const TSC = path.join(NODE_CLIENT, 'node_modules', 'typescript', 'bin', 'tsc');
const FLOW_SID = 'FW' + 'ef'.repeat(16);
/** The caller's participant: the calling number, the default identity policy. */
const CALLER = inboundWebhook(1).From!;
const VOICEMAIL = 'Hi, this is Acme about your order. Please call us back.';
const TARGET_UNKNOWN = 'Nothing was done: No transfer target named support is configured for this call; the targets are: billing.';

const { liveKit, twilioApi, server, liveCall } = useServiceWithApis({
  AGENT_NAMES: 'support-agent',
  TRANSFER_TARGETS: 'billing=+14155550111',
  OUTBOUND_CALLER_IDS: '+14155550100',
});

/** Call `n`, connected through twilio-run (by a Studio flow when `studio`), live at Twilio; its room. */

/**
 * Twilio's part in a warm transfer, while a runner waits for it: each person
 * the service calls answers, /consult is asked what they do (they press 1),
 * and their stream starts in the consult room.
 */
const briefs: string[] = [];
function answerPeople(): { stop: () => Promise<void> } {
  let running = true;
  const answered = new Set<string>();
  const loop = (async () => {
    while (running) {
      for (const call of twilioApi.calls.filter((c) => String(c.params.Twiml ?? '').includes('/consult') && !answered.has(c.sid))) {
        answered.add(call.sid);
        twilioApi.setCallStatus(call.sid, 'in-progress');
        const root = parseTwiml(String(call.params.Twiml));
        const url = (find(root, 'Redirect')?.text ?? find(root, 'Gather')!.attributes.action)!;
        const params = { CallSid: call.sid, AccountSid: ACCOUNT_SID, To: String(call.params.To), Digits: '1' };
        const reply = await server.postTo(url, params, { authToken: AUTH_TOKEN });
        const said = find(parseTwiml(reply.body), 'Say');
        if (said && reply.body.includes('<Stream')) briefs.push(said.text);
        if (reply.body.includes('<Stream')) liveKit.startStream(`${new URL(url).searchParams.get('room')}-consult`, 'human-billing');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

const updates = (n: number) => twilioApi.updates.filter((u) => u.callSid === callSid(n)).map((u) => u.params);
/** Updates of the calls the service placed itself (add-human's), not of the test's own callSid(n). */
const placedUpdates = () => twilioApi.updates.filter((u) => !/^CA0{30}[0-9a-f]{2}$/.test(u.callSid)).map((u) => u.params);
const twiml = (n: number) => parseTwiml(updates(n)[0]!.Twiml!);
const env = () => ({ CALL_CONTROL_URL: `${server.baseUrl}/call-control`, LIVEKIT_API_KEY: API_KEY, LIVEKIT_API_SECRET: API_SECRET });
/** What the child must not see until it sets them itself, after its imports. */
const UNSET = { CALL_CONTROL_URL: '', LIVEKIT_API_KEY: '', LIVEKIT_API_SECRET: '' };

function resultsOf(ran: { status: number | null; output: string }) {
  const line = ran.output.split('\n').find((l) => l.startsWith('RESULTS '));
  if (ran.status !== 0 || !line) throw new Error(`the runner failed (${ran.status}):\n${ran.output}`);
  return JSON.parse(line.slice('RESULTS '.length));
}

/**
 * press-keys at Twilio: one update, the keys then a Redirect to /rejoin for
 * this room and participant; and the room told first, by attribute and by a
 * data message on `twilio.rejoin`.
 */
function expectKeysPressed(n: number, room: string, digits: string) {
  expect(updates(n)).toHaveLength(1);
  const doc = twiml(n);
  expect(doc.children.map((c) => c.name)).toEqual(['Play', 'Redirect']);
  expect(doc.children[0]!.attributes.digits).toBe(digits);
  expect(doc.children[1]!.attributes.method).toBe('POST');
  const redirect = new URL(doc.children[1]!.text);
  expect(`${redirect.origin}${redirect.pathname}`).toBe(`${server.baseUrl}/rejoin`);
  expect(redirect.searchParams.get('room')).toBe(room);
  expect(liveKit.rooms.get(room)!.get(CALLER)!.attributes['twilio.rejoin']).toBe('digits');
  const told = liveKit.dataMessages.filter((m) => m.room === room && m.topic === 'twilio.rejoin').map((m) => JSON.parse(m.payload));
  expect(told).toEqual([{ callSid: callSid(n), identity: CALLER, reason: 'digits', expectedMs: expect.any(Number) }]);
}

/** leave-voicemail at Twilio: one update, the message spoken, then the call ends. */
function expectVoicemailLeft(n: number, message: string) {
  expect(updates(n)).toHaveLength(1);
  expect(twiml(n).children.map((c) => [c.name, c.text])).toEqual([
    ['Say', message],
    ['Hangup', ''],
  ]);
}

/** The Studio flow's return URL in a call's update: its query. */
function returnQuery(n: number): Record<string, string> {
  const url = new URL(find(twiml(n), 'Redirect')!.text);
  expect(`${url.origin}${url.pathname}`).toBe(`https://webhooks.twilio.com/v1/Accounts/${ACCOUNT_SID}/Flows/${FLOW_SID}`);
  return Object.fromEntries(url.searchParams);
}

describe('clients/node inside @livekit/agents 1.9', () => {
  beforeAll(() => {
    if (!existsSync(TSC)) throw new Error('clients/node has no dependencies installed: run `npm ci --prefix clients/node`');
  });

  test('the client and the example type-check as an ES module (NodeNext) and as CommonJS (node16)', async () => {
    const esm = await runCommand(process.execPath, [TSC, '-p', 'tsconfig.json'], NODE_CLIENT, {}, 120_000);
    expect(esm).toEqual({ status: 0, output: '' });
    const cjs = await runCommand(process.execPath, [TSC, '-p', 'tsconfig.cjs.json'], NODE_CLIENT, {}, 120_000);
    expect(cjs).toEqual({ status: 0, output: '' });
  }, 240_000);

  test('tools built before the room has a name: strict schemas, and every call through the voice pipeline', async () => {
    const built = await runCommand(process.execPath, [TSC, '-p', 'tsconfig.json', '--noEmit', 'false'], NODE_CLIENT, {}, 120_000);
    expect(built).toEqual({ status: 0, output: '' });
    const rooms = { hangup: await liveCall(1), transfer: await liveCall(2), refused: await liveCall(3) };
    const studio = await liveCall(4, { flowSid: FLOW_SID });
    const consult = await liveCall(5);
    const menu = await liveCall(6, { streaming: true });
    const machine = await liveCall(7, { streaming: true });
    const plan = {
      env: env(),
      steps: [
        { tool: 'end_call', args: {}, room: rooms.hangup, passCtx: true },
        { tool: 'transfer_call', args: { target: 'billing', message: null }, room: rooms.transfer },
        { tool: 'transfer_call', args: { target: 'support', message: 'One moment.' }, room: rooms.refused },
        { tool: 'return_to_menu', args: { result: 'resolved', orderId: null }, room: studio },
        { tool: 'warm_transfer', args: { target: 'billing', brief: 'A caller needs a refund.' }, room: consult },
        { tool: 'press_keys', args: { digits: '2' }, room: menu },
        { tool: 'leave_voicemail', args: { message: VOICEMAIL }, room: machine },
      ],
    };
    const twilio = answerPeople();
    const ran = await runCommand(process.execPath, ['test/esm/dist/run-tools.js', JSON.stringify(plan)], NODE_CLIENT, UNSET, 120_000);
    await twilio.stop();
    const { envAtImport, schemas, results } = resultsOf(ran);
    // The run's time through the pipeline, and the part of it spent waiting for call-control.
    console.log(JSON.stringify({ node: results.map((r: { tool: string; ms: number; httpMs: number }) => [r.tool, r.ms, r.httpMs]) }));

    expect(envAtImport).toEqual([]);
    const schema = (properties: Record<string, unknown>) => ({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties,
      required: Object.keys(properties),
      additionalProperties: false,
    });
    const target = { type: 'string', enum: ['billing', 'support'] };
    expect(schemas).toEqual({
      end_call: schema({}),
      transfer_call: schema({
        target: { ...target, description: 'who to transfer to' },
        message: { type: ['string', 'null'], description: 'said to the caller just before the transfer; null for none' },
      }),
      return_to_menu: schema({
        result: { type: 'string', enum: ['resolved', 'unresolved'] },
        orderId: { type: ['string', 'null'], description: 'the order the caller asked about; null if none' },
      }),
      warm_transfer: schema({
        target: { ...target, description: 'who to bring in' },
        brief: { type: ['string', 'null'], description: 'one or two sentences the person hears before joining; null for none' },
      }),
      press_keys: schema({
        digits: { type: 'string', description: 'the keys: 0-9, * and #, up to 32; w waits half a second between keys' },
      }),
      leave_voicemail: schema({
        message: { type: 'string', description: 'the whole message: who is calling, why, and how to call back' },
      }),
    });

    expect(results.map((r: Record<string, unknown>) => ({ ...r, ms: typeof r.ms, httpMs: typeof r.httpMs }))).toEqual(
      [
        { tool: 'end_call', arguments: '{}', output: '"The call has ended."', isError: false },
        {
          tool: 'transfer_call',
          arguments: '{"target":"billing","message":null}',
          output: '"The caller is being connected to billing."',
          isError: false,
        },
        { tool: 'transfer_call', arguments: '{"target":"support","message":"One moment."}', output: TARGET_UNKNOWN, isError: true },
        {
          tool: 'return_to_menu',
          arguments: '{"result":"resolved","orderId":null}',
          output: '"The caller is back in the menu."',
          isError: false,
        },
        {
          tool: 'warm_transfer',
          arguments: '{"target":"billing","brief":"A caller needs a refund."}',
          output: '"billing has joined the call. Say goodbye to both; the call goes on without you."',
          isError: false,
        },
        { tool: 'press_keys', arguments: '{"digits":"2"}', output: '"Pressed 2. Listen for what the menu says next."', isError: false },
        {
          tool: 'leave_voicemail',
          arguments: JSON.stringify({ message: VOICEMAIL }),
          output: '"The voicemail is being left; the call ends after it."',
          isError: false,
        },
      ].map((r) => ({ ...r, nameWhenBuilt: null, ms: 'number', httpMs: 'number' })),
    );

    expect(updates(1)).toEqual([{ Status: 'completed' }]);
    expect(find(twiml(2), 'Number')!.text).toBe('+14155550111');
    expect(find(twiml(2), 'Say')).toBeUndefined();
    expect(updates(3)).toEqual([]);
    expect(returnQuery(4)).toEqual({ FlowEvent: 'return', ConnectorResult: 'resolved' });
    expect(twilioApi.calls.map((c) => c.params.To)).toEqual(['+14155550111']);
    // The person pressed 1 after the brief, and was moved into the caller's room.
    const personTwiml = parseTwiml(String(twilioApi.calls[0]!.params.Twiml));
    expect(find(find(personTwiml, 'Gather')!, 'Say')!.text).toBe('You have a call to take. Press 1 to accept it.');
    // The brief, once they pressed 1: what /consult answered before their stream.
    expect(briefs).toEqual(['A caller needs a refund.']);
    expect(liveKit.rooms.get(consult)!.has('human-billing')).toBe(true);
    expect(placedUpdates()).toEqual([]);
    expect(updates(5)).toEqual([]);
    expectKeysPressed(6, menu, '2');
    expectVoicemailLeft(7, VOICEMAIL);
  }, 240_000);
});

describe('clients/python inside livekit-agents (the stand-in in tests/fixtures/python-agents)', () => {
  test('imported with no environment; each tool run in a job, None for what is not given, refusals as sentences', async () => {
    const rooms = { hangup: await liveCall(11), transfer: await liveCall(12), refused: await liveCall(13) };
    const studio = await liveCall(14, { flowSid: FLOW_SID });
    const consult = await liveCall(15);
    const menu = await liveCall(16, { streaming: true });
    const machine = await liveCall(17, { streaming: true });
    const plan = {
      env: env(),
      steps: [
        { tool: 'end_call', arguments: '{}', room: rooms.hangup },
        { tool: 'transfer_call', arguments: '{"target":"billing","message":null}', room: rooms.transfer },
        { tool: 'transfer_call', arguments: '{"target":"support"}', room: rooms.refused },
        { tool: 'return_to_menu', arguments: '{"result":"unresolved","order_id":"A-17"}', room: studio },
        { tool: 'warm_transfer', arguments: '{"target":"billing","brief":null}', room: consult },
        { tool: 'press_keys', arguments: '{"digits":"1w2#"}', room: menu },
        { tool: 'leave_voicemail', arguments: JSON.stringify({ message: VOICEMAIL }), room: machine },
      ],
    };
    const runner = path.join(ROOT, 'tests', 'fixtures', 'python-agents', 'run_tools.py');
    const twilio = answerPeople();
    const ran = await runCommand('python3', ['-B', runner, JSON.stringify(plan)], ROOT, UNSET);
    await twilio.stop();
    const { envAtImport, tools, outsideJob, results } = resultsOf(ran);
    console.log(JSON.stringify({ python: results.map((r: { tool: string; ms: number }) => [r.tool, r.ms]) }));

    expect(envAtImport).toEqual([]);
    expect(tools).toEqual(['end_call', 'leave_voicemail', 'press_keys', 'return_to_menu', 'transfer_call', 'warm_transfer']);
    // No job: get_job_context() raises, which the framework reports as its internal error.
    expect(outsideJob).toEqual({ output: 'An internal error occurred', isError: true });
    expect(results.map((r: Record<string, unknown>) => ({ ...r, ms: typeof r.ms }))).toEqual(
      [
        { tool: 'end_call', output: 'The call has ended.', isError: false },
        { tool: 'transfer_call', output: 'The caller is being connected to billing.', isError: false },
        { tool: 'transfer_call', output: TARGET_UNKNOWN, isError: true },
        { tool: 'return_to_menu', output: 'The caller is back in the menu.', isError: false },
        {
          tool: 'warm_transfer',
          output: 'billing has joined the call. Say goodbye to both; the call goes on without you.',
          isError: false,
        },
        { tool: 'press_keys', output: 'Pressed 1w2#. Listen for what the menu says next.', isError: false },
        { tool: 'leave_voicemail', output: 'The voicemail is being left; the call ends after it.', isError: false },
      ].map((r) => ({ ...r, ms: 'number' })),
    );

    expect(updates(11)).toEqual([{ Status: 'completed' }]);
    expect(find(twiml(12), 'Number')!.text).toBe('+14155550111');
    expect(updates(13)).toEqual([]);
    expect(returnQuery(14)).toEqual({ FlowEvent: 'return', ConnectorResult: 'unresolved', orderId: 'A-17' });
    expect(twilioApi.calls.map((c) => c.params.To)).toEqual(['+14155550111']);
    expect(liveKit.rooms.get(consult)!.has('human-billing')).toBe(true);
    expect(placedUpdates()).toEqual([]);
    expect(updates(15)).toEqual([]);
    expectKeysPressed(16, menu, '1w2#');
    expectVoicemailLeft(17, VOICEMAIL);
  }, 120_000);
});
