import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import twilio from 'twilio';
import { handler } from '../../src/functions/incoming';
import { PARAMETERS } from '../../src/outbound/request';
import { API_KEY, API_SECRET } from '../support/livekit-stand-in';
import { useLiveKit } from '../support/stand-ins';
import { captureConsole } from '../support/logs';
import { ACCOUNT_SID, AUTH_TOKEN, callSid, invoke, localContext } from '../support/runtime';
import { find, parseTwiml } from '../support/twiml';

const FLOW_SID = 'FW' + 'ab'.repeat(16);
const RETURN = `https://webhooks.twilio.com/v1/Accounts/${ACCOUNT_SID}/Flows/${FLOW_SID}?FlowEvent=return`;

describe('Studio round trips through incoming', () => {
  const stand = useLiveKit();
  const logs: string[] = [];
  beforeEach(() => captureConsole(logs));
  afterEach(() => jest.restoreAllMocks());

  const context = (extra: Record<string, string> = {}) =>
    localContext(
      { LIVEKIT_URL: stand.url, LIVEKIT_API_KEY: API_KEY, LIVEKIT_API_SECRET: API_SECRET, LIVEKIT_TIMEOUT_MS: '1000', ...extra },
      '/incoming',
    );
  const body = { CallSid: callSid(4), AccountSid: ACCOUNT_SID, From: '+12125550123', To: '+14155550100' };

  /** What a TwiML Redirect widget makes Twilio send: POST to `incoming?FlowSid=...`, signed over that URL. */
  function fromStudio(flowSid = FLOW_SID, signedFlowSid = flowSid) {
    const url = `http://localhost:3000/incoming?FlowSid=${signedFlowSid}`;
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, body);
    return { FlowSid: flowSid, ...body, request: { headers: { 'x-twilio-signature': signature }, cookies: {} } };
  }

  test("the stream's end hands the call back to the flow with ConnectorResult=stream-ended", async () => {
    const reply = await invoke(handler, context(), fromStudio());
    expect(reply.status).toBe(200);
    const action = find(parseTwiml(reply.body), 'Connect')!.attributes.action!;
    expect(action).toBe(`${RETURN}&ConnectorResult=stream-ended`);
  });

  test.each([
    [{ kind: 'status', status: 500, code: 'internal', msg: 'x' } as const, 'livekit-rejected'],
    [{ kind: 'hang' } as const, 'livekit-timeout'],
  ])('LiveKit failing sends the call straight back with the reason (%j)', async (behaviour, reason) => {
    stand.behaviour = behaviour;
    const root = parseTwiml((await invoke(handler, context(), fromStudio())).body);
    expect(root.children.map((c) => c.name)).toEqual(['Redirect']);
    expect(root.children[0]!.text).toBe(`${RETURN}&ConnectorResult=unavailable&ConnectorReason=${reason}`);
    expect(logs.join('\n')).toContain('"outcome":"returned-to-flow"');
  });

  test('missing configuration also returns to the flow', async () => {
    const root = parseTwiml((await invoke(handler, context({ LIVEKIT_API_SECRET: '' }), fromStudio())).body);
    expect(root.children[0]!.text).toContain('ConnectorReason=configuration');
  });

  test('a FlowSid changed after signing is refused', async () => {
    expect((await invoke(handler, context(), fromStudio('FW' + 'cd'.repeat(16), FLOW_SID))).status).toBe(403);
    expect(stand.requests).toHaveLength(0);
  });

  test('a malformed FlowSid is not a return address', async () => {
    stand.behaviour = { kind: 'status', status: 500, code: 'internal', msg: 'x' };
    const root = parseTwiml((await invoke(handler, context(), fromStudio('FW-not-a-sid'))).body);
    expect(root.children.map((c) => c.name)).toEqual(['Say', 'Hangup']);
  });

  test("a configured CONNECT_ACTION_URL that is a flow's return URL round-trips the same way", async () => {
    stand.behaviour = { kind: 'status', status: 503, code: 'unavailable', msg: 'x' };
    const ctx = context({ CONNECT_ACTION_URL: RETURN });
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, 'http://localhost:3000/incoming', body);
    const root = parseTwiml((await invoke(handler, ctx, { ...body, request: { headers: { 'x-twilio-signature': signature } } })).body);
    expect(root.children[0]!.text).toBe(`${RETURN}&ConnectorResult=unavailable&ConnectorReason=livekit-unavailable`);
  });
});

interface State {
  name: string;
  type: string;
  transitions: { event: string; next?: string }[];
  properties: Record<string, unknown>;
}
interface Flow {
  description: string;
  states: State[];
  initial_state: string;
  flags: Record<string, unknown>;
}

const STUDIO_DIR = path.join(__dirname, '..', '..', 'studio');
const flows = readdirSync(STUDIO_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f, JSON.parse(readFileSync(path.join(STUDIO_DIR, f), 'utf8')) as Flow] as const);

describe('studio/ flow definitions', () => {
  test('both flows are there', () => {
    expect(flows.map(([f]) => f).sort()).toEqual(['inbound-to-livekit.json', 'outbound-via-rest.json']);
  });

  test.each(flows)('%s: well-formed, every transition target exists', (_, flow) => {
    expect(typeof flow.description).toBe('string');
    const names = flow.states.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain(flow.initial_state);
    expect(flow.states.find((s) => s.name === flow.initial_state)!.type).toBe('trigger');
    for (const state of flow.states) {
      for (const t of state.transitions) if (t.next !== undefined) expect(names).toContain(t.next);
    }
    // Every liquid widget reference names a widget in the flow.
    const text = JSON.stringify(flow);
    for (const [, widget] of text.matchAll(/widgets\.([A-Za-z0-9_]+)\./g)) expect(names).toContain(widget);
  });

  test('inbound: TwiML Redirect to incoming with the FlowSid, branching on ConnectorResult', () => {
    const flow = flows.find(([f]) => f === 'inbound-to-livekit.json')![1];
    const redirect = flow.states.find((s) => s.type === 'add-twiml-redirect')!;
    expect(redirect.properties.url).toMatch(/\/incoming\?FlowSid=\{\{flow\.flow_sid\}\}$/);
    expect(redirect.properties.method).toBe('POST');
    expect(redirect.transitions.map((t) => t.event).sort()).toEqual(['fail', 'return', 'timeout']);
    const split = flow.states.find((s) => s.type === 'split-based-on')!;
    expect(split.properties.input).toBe(`{{widgets.${redirect.name}.ConnectorResult}}`);
    expect(JSON.stringify(split)).toContain('"value":"stream-ended"');
  });

  test('outbound: Run Function on outbound with its real parameter names, branching on success and fail', () => {
    const flow = flows.find(([f]) => f === 'outbound-via-rest.json')![1];
    const run = flow.states.find((s) => s.type === 'run-function')!;
    expect(run.properties.url).toMatch(/\/outbound$/);
    const keys = (run.properties.parameters as { key: string }[]).map((p) => p.key);
    expect(keys).toContain('To');
    for (const key of keys) expect(PARAMETERS).toContain(key);
    expect(run.transitions.map((t) => t.event).sort()).toEqual(['fail', 'success']);
    const fields = [...JSON.stringify(flow).matchAll(new RegExp(`widgets\\.${run.name}\\.parsed\\.([A-Za-z]+)`, 'g'))].map((m) => m[1]);
    expect(fields.length).toBeGreaterThan(0);
    for (const field of fields) expect(['callSid', 'roomName', 'participantIdentity', 'status']).toContain(field);
  });
});
