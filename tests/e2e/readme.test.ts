/**
 * The README's commands, run as written. Every `npm` line of its shell blocks
 * is extracted; in a fresh copy of the project `.env` is made as "Try it in
 * five minutes" says (`cp .env.example .env`, then the README's own values),
 * `npm start` serves it on port 3000, and each command runs against it.
 * LiveKit and Twilio are the stand-ins, built with the README's credentials;
 * only LIVEKIT_URL points at the LiveKit stand-in instead of the cloud.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LiveKitStandIn } from '../support/livekit-stand-in';
import { copyProject, runCommand } from '../support/project-copy';
import { ROOT } from '../support/twilio-run';
import { TwilioStandIn } from '../support/twilio-stand-in';

jest.setTimeout(120_000);

const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const blocks = (lang: string) => [...README.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
const commands = blocks('sh')
  .flatMap((block) => block.split('\n'))
  .map((line) => line.trim())
  .filter((line) => /^(npm|cp) /.test(line));

/** The README's `.env` values, as a reader would copy them. */
const readmeEnv = Object.fromEntries(
  blocks('dotenv')
    .flatMap((block) => block.split('\n'))
    .filter((line) => line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);

/** What each command needs that this machine has not: those are set up by the harness or left out, with the reason. */
const HANDLED: Record<string, string> = {
  'npm ci': 'the copy links the installed node_modules',
  'npm test': 'this suite is part of it',
  'npm start': 'the harness runs it, in the background, before the other commands',
};

const liveKit = new LiveKitStandIn(readmeEnv.LIVEKIT_API_KEY, readmeEnv.LIVEKIT_API_SECRET);
const twilioApi = new TwilioStandIn(readmeEnv.ACCOUNT_SID!, readmeEnv.AUTH_TOKEN!);
let dir = '';
let stopServer: () => void = () => undefined;

beforeAll(async () => {
  await liveKit.start();
  await twilioApi.start({ tls: true });
  dir = copyProject();
  // `cp .env.example .env` runs as a README command below; the values go in after it.
  const copy = await runCommand('sh', ['-c', 'cp .env.example .env'], dir);
  expect(copy.status).toBe(0);
  let env = readFileSync(path.join(dir, '.env'), 'utf8');
  for (const [key, value] of Object.entries({ ...readmeEnv, LIVEKIT_URL: liveKit.url })) {
    env = env.replace(new RegExp(`^${key}=.*$`, 'm'), `${key}=${value}`);
  }
  // twilio-run gives functions .env as their whole environment: the route to the Twilio stand-in goes there.
  env += Object.entries(twilioApi.proxyEnv())
    .map(([k, v]) => `${k}=${v}\n`)
    .join('');
  writeFileSync(path.join(dir, '.env'), env);

  const server = spawn('npm', ['start'], {
    cwd: dir,
    env: { ...process.env, CI: 'true', FORCE_COLOR: '0' },
    stdio: 'ignore',
    detached: true,
  });
  stopServer = () => {
    if (server.pid) process.kill(-server.pid, 'SIGTERM');
  };
  for (let i = 0; i < 150; i += 1) {
    const up = await fetch('http://localhost:3000/__ready__').then(
      () => true,
      () => false,
    );
    if (up) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('npm start did not serve http://localhost:3000');
});

afterAll(async () => {
  stopServer();
  await liveKit.stop();
  await twilioApi.stop();
});

describe('README commands, as written', () => {
  test('the README has the commands this suite expects to run', () => {
    expect(commands).toEqual(
      expect.arrayContaining([
        'cp .env.example .env',
        'npm run doctor',
        'npm start',
        'npm run ring -- --from +14155550123 --to +14155550100 --status in-progress,completed',
        'npm run call -- --to +14155550123',
      ]),
    );
    expect(Object.keys(readmeEnv)).toEqual(
      expect.arrayContaining([
        'ACCOUNT_SID',
        'AUTH_TOKEN',
        'LIVEKIT_URL',
        'LIVEKIT_API_KEY',
        'LIVEKIT_API_SECRET',
        'AGENT_NAMES',
        'OUTBOUND_CALLER_IDS',
      ]),
    );
  });

  const runnable = commands.filter((c) => !(c in HANDLED) && c !== 'cp .env.example .env');
  test.each(runnable)('%s', async (command) => {
    const result = await runCommand('sh', ['-c', command], dir, twilioApi.proxyEnv());
    if (result.status !== 0) throw new Error(`${command} exited ${result.status}:\n${result.output}`);
    if (command.startsWith('npm run ring')) {
      expect(result.output).toMatch(/<Connect><Stream url="wss:\/\/connector\.livekit\.test\//);
      expect(result.output).toMatch(/room: +call-CA[0-9a-f]{32}/);
      expect(result.output).toContain('agents:     my-agent');
      expect(result.output).toContain('status in-progress: HTTP 200');
      expect(result.output).toContain('status completed: HTTP 200');
    }
    if (command.startsWith('npm run call')) expect(result.output).toMatch(/"callSid": "CA[0-9a-f]{32}"/);
    if (command.startsWith('npm run doctor')) expect(result.output).toMatch(/all \d+ checks passed/);
  });
});
