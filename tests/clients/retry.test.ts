/**
 * What both clients do with the answers around an action, against a scripted
 * loopback server: one retry of a 429 after its Retry-After (at most 2 s) with
 * a new token, only if it fits in the timeout, never a retry of anything
 * else; refusals carrying the targets; no answer in time.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { CallControl, CallControlError } from '../../clients/node/call-control';
import { runCommand } from '../support/project-copy';
import { ROOT } from '../support/twilio-run';

interface Scripted {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Never answer. */
  hang?: boolean;
}

const answers: Scripted[] = [];
const seen: { at: number; authorization: string; body: string }[] = [];
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    seen.push({ at: Date.now(), authorization: String(req.headers.authorization), body: Buffer.concat(chunks).toString('utf8') });
    const answer = answers.shift() ?? { status: 200, body: { action: 'hangup', outcome: 'hung-up' } };
    if (answer.hang) return;
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(JSON.stringify(answer.body ?? {}));
  });
});
let url = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/call-control`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  answers.length = 0;
  seen.length = 0;
});

const limited = (retryAfter: string): Scripted => ({
  status: 429,
  headers: { 'retry-after': retryAfter },
  body: { error: { code: 'twilio-rate-limited', message: 'Twilio is rate limiting; nothing was done' } },
});
const node = (timeoutMs?: number) =>
  new CallControl({ url, apiKey: 'APIkey', apiSecret: 'secret'.repeat(8), ...(timeoutMs ? { timeoutMs } : {}) });
const claims = (authorization: string) => JSON.parse(Buffer.from(authorization.split('.')[1]!, 'base64url').toString('utf8'));

/** The Python client's answer to one call, as JSON: the result or the error's fields and sentence. */
async function python(call: string, timeout = 10): Promise<Record<string, unknown>> {
  const script = `
import json, sys
sys.path.insert(0, sys.argv[1])
from call_control import CallControl, CallControlError
control = CallControl(url=sys.argv[2], api_key="APIkey", api_secret="secret" * 8, timeout=${timeout})
try:
    print(json.dumps({"result": control.${call}}))
except CallControlError as error:
    print(json.dumps({"status": error.status, "code": error.code, "field": error.field, "targets": error.targets, "sentence": str(error)}))
`;
  const ran = await runCommand('python3', ['-B', '-c', script, path.join(ROOT, 'clients', 'python'), url], ROOT);
  expect(ran.status).toBe(0);
  return JSON.parse(ran.output);
}

describe('429: one retry after Retry-After, with a new token', () => {
  test('Node', async () => {
    answers.push(limited('0.3'));
    expect(await node().hangup('call-1')).toEqual({ action: 'hangup', outcome: 'hung-up' });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(290);
    expect(seen[1]!.body).toBe(seen[0]!.body);
    expect(claims(seen[1]!.authorization).sha256).toBe(claims(seen[0]!.authorization).sha256);
    expect(claims(seen[1]!.authorization).exp).toBeGreaterThanOrEqual(claims(seen[0]!.authorization).exp);
  });

  test('Python', async () => {
    answers.push(limited('0.3'));
    expect(await python('hangup("call-1")')).toEqual({ result: { action: 'hangup', outcome: 'hung-up' } });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(290);
    expect(seen[1]!.body).toBe(seen[0]!.body);
  });

  test('a second 429 is the answer; Retry-After is capped at 2 s', async () => {
    answers.push(limited('30'), limited('30'));
    const started = Date.now();
    await expect(node().hangup('call-1')).rejects.toMatchObject({ status: 429, code: 'twilio-rate-limited' });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(1990);
    answers.push(limited('1'), limited('1'));
    expect(await python('hangup("call-1")')).toMatchObject({ status: 429, code: 'twilio-rate-limited' });
    expect(seen).toHaveLength(4);
  }, 15_000);

  test('no retry when the wait would pass the timeout, nor of any other answer', async () => {
    answers.push(limited('2'));
    await expect(node(1500).hangup('call-1')).rejects.toMatchObject({ status: 429 });
    answers.push({ status: 503, headers: { 'retry-after': '1' }, body: { error: { code: 'twilio-error', message: 'Twilio failed' } } });
    await expect(node().hangup('call-1')).rejects.toMatchObject({ status: 503, code: 'twilio-error' });
    answers.push(limited('2'));
    expect(await python('hangup("call-1")', 1.5)).toMatchObject({ status: 429 });
    answers.push({ status: 502, body: { error: { code: 'livekit-error', message: 'LiveKit failed' } } });
    expect(await python('hangup("call-1")')).toMatchObject({ status: 502, code: 'livekit-error' });
    expect(seen).toHaveLength(4);
  });
});

describe('refusals and silence', () => {
  const unknown: Scripted = {
    status: 404,
    body: {
      error: {
        code: 'target-unknown',
        message: 'No target named sales; the targets are: billing, desk',
        field: 'target',
        targets: ['billing', 'desk'],
      },
    },
  };
  const sentence = 'Nothing was done: No target named sales; the targets are: billing, desk.';

  test('target-unknown carries the targets, and a sentence naming them', async () => {
    answers.push(unknown);
    const error = (await node()
      .transfer('call-1', 'sales', null)
      .catch((e: unknown) => e)) as CallControlError;
    expect(error).toBeInstanceOf(CallControlError);
    expect({ status: error.status, code: error.code, field: error.field, targets: error.targets, sentence: error.sentence }).toEqual({
      status: 404,
      code: 'target-unknown',
      field: 'target',
      targets: ['billing', 'desk'],
      sentence,
    });
    expect(seen[0]!.body).toBe('{"action":"transfer","target":"sales"}');
    answers.push(unknown);
    expect(await python('transfer("call-1", "sales", None)')).toEqual({
      status: 404,
      code: 'target-unknown',
      field: 'target',
      targets: ['billing', 'desk'],
      sentence,
    });
    expect(seen[1]!.body).toBe(seen[0]!.body);
  });

  test('a message that does not name the targets gets them appended', () => {
    const error = new CallControlError(404, 'target-unknown', 'No such target', 'target', ['billing']);
    expect(error.sentence).toBe('Nothing was done: No such target. The targets are: billing.');
  });

  test('no answer within the timeout: code timeout, and the call may have changed', async () => {
    answers.push({ status: 0, hang: true });
    await expect(node(300).hangup('call-1')).rejects.toMatchObject({
      status: 0,
      code: 'timeout',
      sentence: 'The phone system did not answer in time; the call may or may not have changed.',
    });
    answers.push({ status: 0, hang: true });
    expect(await python('hangup("call-1")', 0.3)).toMatchObject({ status: 0, code: 'timeout' });
  });

  test('nothing is read before a request: a client made without the environment fails only when used', async () => {
    const control = new CallControl();
    const saved = process.env.CALL_CONTROL_URL;
    delete process.env.CALL_CONTROL_URL;
    try {
      await expect(control.hangup('call-1')).rejects.toThrow(/CALL_CONTROL_URL/);
    } finally {
      if (saved !== undefined) process.env.CALL_CONTROL_URL = saved;
    }
    expect(seen).toEqual([]);
  });
});
