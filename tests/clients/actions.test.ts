/**
 * The recording, voicemail and keypad methods of both clients, against a
 * loopback server that records what arrives: each sends the body its
 * action takes (nulls left out), signed over those bytes for that room, and
 * the server's own request parser accepts it as that action.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { CallControl } from '../../clients/node/call-control';
import { readControlRequest } from '../../src/call-control/request';
import { runCommand } from '../support/project-copy';
import { ROOT } from '../support/twilio-run';

const ROOM = 'call-1';
const seen: { authorization: string; body: string }[] = [];
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    seen.push({ authorization: String(req.headers.authorization), body });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ action: JSON.parse(body).action, outcome: 'done' }));
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
  seen.length = 0;
});

/** Each call, in Node and in Python, and the body it must send. */
const CASES: [(c: CallControl) => Promise<unknown>, string, string][] = [
  [(c) => c.startRecording(ROOM), 'start_recording(ROOM)', '{"action":"start-recording"}'],
  [(c) => c.pauseRecording(ROOM), 'pause_recording(ROOM)', '{"action":"pause-recording"}'],
  [(c) => c.pauseRecording(ROOM, 'skip'), 'pause_recording(ROOM, "skip")', '{"action":"pause-recording","behavior":"skip"}'],
  [(c) => c.resumeRecording(ROOM), 'resume_recording(ROOM)', '{"action":"resume-recording"}'],
  [
    (c) => c.leaveVoicemail(ROOM, { message: 'Hi, this is Acme.' }),
    'leave_voicemail(ROOM, "Hi, this is Acme.")',
    '{"action":"leave-voicemail","message":"Hi, this is Acme."}',
  ],
  [
    (c) => c.leaveVoicemail(ROOM, { message: null, audio: 'voicemail.mp3' }),
    'leave_voicemail(ROOM, audio="voicemail.mp3")',
    '{"action":"leave-voicemail","audio":"voicemail.mp3"}',
  ],
  [(c) => c.pressKeys(ROOM, '1w2#'), 'press_keys(ROOM, "1w2#")', '{"action":"press-keys","digits":"1w2#"}'],
];
const BODIES = CASES.map(([, , body]) => body);

const claims = (authorization: string) => JSON.parse(Buffer.from(authorization.split('.')[1]!, 'base64url').toString('utf8'));

function expectSent(bodies: string[]) {
  expect(seen.map((s) => s.body)).toEqual(bodies);
  for (const { authorization, body } of seen) {
    const claim = claims(authorization);
    expect(claim.video).toEqual({ roomAdmin: true, room: ROOM });
    expect(claim.sha256).toBe(createHash('sha256').update(body, 'utf8').digest('base64'));
    const parsed = JSON.parse(body) as Record<string, unknown>;
    expect(readControlRequest(parsed)).toEqual(parsed);
  }
}

describe('recording, voicemail and keys: the body each method sends', () => {
  test('Node', async () => {
    const control = new CallControl({ url, apiKey: 'APIkey', apiSecret: 'secret'.repeat(8) });
    for (const [call] of CASES) expect(await call(control)).toMatchObject({ outcome: 'done' });
    expectSent(BODIES);
  });

  test('Python', async () => {
    const script = `
import json, sys
sys.path.insert(0, sys.argv[1])
from call_control import CallControl
control = CallControl(url=sys.argv[2], api_key="APIkey", api_secret="secret" * 8)
ROOM = "${ROOM}"
print(json.dumps([${CASES.map(([, call]) => `control.${call}`).join(', ')}]))
`;
    const ran = await runCommand('python3', ['-B', '-c', script, path.join(ROOT, 'clients', 'python'), url], ROOT);
    expect(ran.status).toBe(0);
    expect((JSON.parse(ran.output) as { outcome: string }[]).map((r) => r.outcome)).toEqual(CASES.map(() => 'done'));
    expectSent(BODIES);
  });
});
