/**
 * The compiled `call-control` function in a real twilio-run process, driven
 * by both agent clients: the Node one (clients/node) in this process and the
 * Python one (clients/python, standard library only) in python3. The
 * function's Twilio client reaches the Twilio stand-in through HTTP_PROXY.
 */
import path from 'node:path';
import { CallControl, CallControlError } from '../../clients/node/call-control';
import { runCommand } from '../support/project-copy';
import { API_KEY, API_SECRET } from '../support/livekit-stand-in';
import { expectNoSecrets } from '../support/logs';
import { callSid } from '../support/runtime';
import { ROOT, useServiceWithApis } from '../support/twilio-run';
import { find, parseTwiml } from '../support/twiml';

const { twilioApi, server, liveCall } = useServiceWithApis({
  AGENT_NAMES: 'support-agent',
  TRANSFER_TARGETS: 'billing=+14155550111',
  OUTBOUND_CALLER_IDS: '+14155550100',
});

/** A call incoming connected through twilio-run, live at Twilio. */

const updates = (n: number) => twilioApi.updates.filter((u) => u.callSid === callSid(n));

describe('call-control through twilio-run', () => {
  test('the Node client transfers the call: one Twilio update with the TwiML', async () => {
    const room = await liveCall(1);
    const control = new CallControl({ url: `${server.baseUrl}/call-control`, apiKey: API_KEY, apiSecret: API_SECRET });
    const started = Date.now();
    expect(await control.transfer(room, 'billing', 'One moment, connecting you to billing.')).toEqual({
      action: 'transfer',
      outcome: 'transferred',
      target: 'billing',
    });
    const [update] = updates(1);
    expect(find(parseTwiml(update!.params.Twiml!), 'Number')!.text).toBe('+14155550111');
    expect(update!.at - started).toBeLessThan(8000);
    expectNoSecrets(server.output);
  });

  test('the Node client gets refusals as CallControlError with the code and field', async () => {
    const room = await liveCall(2);
    const control = new CallControl({ url: `${server.baseUrl}/call-control`, apiKey: API_KEY, apiSecret: API_SECRET });
    await expect(control.transfer(room, 'nobody')).rejects.toMatchObject({ status: 404, code: 'target-unknown', field: 'target' });
    await expect(control.transfer(room, 'nobody')).rejects.toBeInstanceOf(CallControlError);
    const wrongSecret = new CallControl({ url: `${server.baseUrl}/call-control`, apiKey: API_KEY, apiSecret: 'x'.repeat(48) });
    await expect(wrongSecret.hangup(room)).rejects.toMatchObject({ status: 401, code: 'token-invalid' });
    expect(updates(2)).toEqual([]);
  });

  test('the Python client (standard library only) hangs up, transfers with a non-ASCII message, and reports refusals', async () => {
    const hangupRoom = await liveCall(3);
    const transferRoom = await liveCall(4);
    const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'clients', 'python'))})
from call_control import CallControl, CallControlError
control = CallControl(url=${JSON.stringify(`${server.baseUrl}/call-control`)}, api_key=${JSON.stringify(API_KEY)}, api_secret=${JSON.stringify(API_SECRET)})
out = {"hangup": control.hangup(${JSON.stringify(hangupRoom)})}
out["transfer"] = control.transfer(${JSON.stringify(transferRoom)}, "billing", "Un momento, por favor \u2014 gracias")
try:
    control.add_human(${JSON.stringify(hangupRoom)}, "nobody")
except CallControlError as error:
    out["refused"] = [error.status, error.code, error.field]
print(json.dumps(out))
`;
    // Asynchronous: the stand-ins live in this process and must keep answering.
    const python = await runCommand('python3', ['-B', '-c', script], ROOT);
    expect(python.status).toBe(0);
    expect(JSON.parse(python.output)).toEqual({
      hangup: { action: 'hangup', outcome: 'hung-up' },
      transfer: { action: 'transfer', outcome: 'transferred', target: 'billing' },
      refused: [404, 'target-unknown', 'target'],
    });
    expect(updates(3).map((u) => u.params)).toEqual([{ Status: 'completed' }]);
    expect(find(parseTwiml(updates(4)[0]!.params.Twiml!), 'Say')!.text).toBe('Un momento, por favor \u2014 gracias');
  });

  test('the Python tool wiring example is valid Python (livekit-agents itself is not installed here)', async () => {
    const example = path.join(ROOT, 'clients', 'python', 'example_agent_tools.py');
    const compiled = await runCommand('python3', ['-c', `import ast, sys; ast.parse(open(sys.argv[1]).read())`, example], ROOT);
    expect(compiled).toEqual({ status: 0, output: '' });
  });
});
