/**
 * `npm run campaign` as a person runs it: the dry run's refusals with their
 * reasons and nothing sent, then a real run through a loopback service (the
 * `outbound` handler behind HTTP, as npm start serves it), signed with the
 * auth token in .env, its Twilio reads reaching the stand-in through the
 * HTTPS proxy; then the same command again, which calls nobody twice.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseCsv } from '../../src/campaign/csv';
import { CampaignTwilioStandIn, OutboundServer } from '../support/campaign-stand-in';
import { tempDir } from '../support/campaign-harness';
import { API_KEY, API_SECRET } from '../support/livekit-stand-in';
import { useLiveKit, useStandIn } from '../support/stand-ins';
import { envText } from '../support/project-copy';
import { ACCOUNT_SID, AUTH_TOKEN } from '../support/runtime';

const ROOT = path.resolve(__dirname, '..', '..');
const liveKit = useLiveKit();
const twilioApi = useStandIn(new CampaignTwilioStandIn(ACCOUNT_SID, AUTH_TOKEN), { tls: true });

beforeEach(() => {
  // The service's own log lines (the handler runs in this process).
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

function campaign(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'scripts', 'run-ts.mjs'), 'src/deploy/campaign-cli.ts', ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function dotenv(dir: string, extra: Record<string, string> = {}): string {
  const values = {
    ACCOUNT_SID,
    AUTH_TOKEN,
    LIVEKIT_URL: liveKit.url,
    LIVEKIT_API_KEY: API_KEY,
    LIVEKIT_API_SECRET: API_SECRET,
    AGENT_NAMES: 'outbound-agent',
    OUTBOUND_CALLER_IDS: '+14155550100,+442071838700',
    ...extra,
  };
  const file = path.join(dir, '.env');
  writeFileSync(file, envText(values));
  return file;
}

const ROUTES = JSON.stringify({ routes: [{ name: 'uk', numbers: ['+442071838700'], outbound: { allowedDestinations: ['GB'] } }] });

test('the dry run lists every refusal with its reason, prints the ceiling, and sends nothing', async () => {
  const dir = tempDir();
  const env = dotenv(dir, { OUTBOUND_ALLOWED_DESTINATIONS: 'US' });
  let requests = 0;
  const listener = http.createServer((_req, res) => {
    requests += 1;
    res.end();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/outbound`;
  writeFileSync(path.join(dir, 'routes.json'), ROUTES);
  writeFileSync(path.join(dir, 'optout.txt'), '(415) 555-0102\n');
  writeFileSync(
    path.join(dir, 'spring.csv'),
    [
      'id,To,From,AgentName,TimeZone,attr.crm',
      'a1,+14155550101,,,America/New_York,1',
      'a2,+14155550102,,,America/New_York,2',
      'a3,+19005550100,,,America/New_York,3',
      'a4,+442071838752,,,Europe/London,4',
      'a5,+442071838750,+442071838700,,Europe/London,5',
      'a6,+14155550199,+14155550142,,America/New_York,6',
      'a7,+33142685300,,,Europe/Paris,7',
      'a8,+14155550101,,,America/New_York,8',
      'a9,+14155550109,,,Mars/Olympus,9',
      'a10,+14155550110,,,,10',
      'a11,+442071838751,+442071838700,,Europe/London,11',
      'a12,+16465550112,+442071838700,,America/New_York,12',
    ].join('\n') + '\n',
  );
  const result = await campaign([
    '--csv',
    path.join(dir, 'spring.csv'),
    '--env',
    env,
    '--routes',
    path.join(dir, 'routes.json'),
    '--opt-out',
    path.join(dir, 'optout.txt'),
    '--window',
    '09:00-20:00',
    '--url',
    url,
    '--dry-run',
  ]);
  listener.close();
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const out = result.stdout;
  expect(out).toContain('campaign spring: 12 rows, 3 to call, 9 refused');
  expect(out).toContain('routes: default 1, uk 2');
  expect(out).toContain('row a2 (line 3) +14155550102: opted-out: on the opt-out list: never called');
  expect(out).toMatch(/row a3 \(line 4\) \+19005550100: destination-blocked: To is a premium rate number/);
  expect(out).toMatch(
    /row a4 \(line 5\) \+442071838752: destination-not-allowed: To is in GB, outside the destinations this service may call \(US\)/,
  );
  expect(out).toContain(
    'row a6 (line 7) +14155550199: caller-id-not-allowed: From must be one of the caller IDs configured for this service',
  );
  expect(out).toMatch(/row a7 \(line 8\) \+33142685300: destination-not-allowed: To is in FR/);
  expect(out).toContain('row a8 (line 9) +14155550101: duplicate: the same number as row a1: called once, for that row');
  expect(out).toContain('row a9 (line 10) +14155550109: invalid-row: TimeZone Mars/Olympus is not an IANA time zone');
  expect(out).toContain('row a10 (line 11) +14155550110: no-time-zone');
  expect(out).toMatch(
    /row a12 \(line 13\) \+16465550112: destination-not-allowed: To is in US, outside the destinations this service may call \(GB\)/,
  );
  expect(out).toMatch(
    /calls per second this account can place through this service: 0\.025 calls\/s, set by this campaign \(--concurrency\)/,
  );
  expect(out).toMatch(/Twilio Sync writes \(IdempotencyKey\): [\d.]+ calls\/s/);
  expect(out).toContain('dry run: nothing was sent');
  expect(requests).toBe(0);
}, 60_000);

test('a run through the service, then the same command again: every row called once, results written as it went', async () => {
  const dir = tempDir();
  const server = await new OutboundServer({ liveKit, twilioApi }).start();
  const env = dotenv(dir);
  twilioApi.lifecycle = (to) => ({ status: to.endsWith('3') ? 'busy' : 'completed', afterMs: 1500 });
  writeFileSync(path.join(dir, 'c.csv'), 'To,AgentName\n+14155550301,outbound-agent\n+14155550302,\n+14155550303,\n+19005550100,\n');
  const args = [
    '--csv',
    path.join(dir, 'c.csv'),
    '--env',
    env,
    '--url',
    server.url,
    '--rate',
    '5',
    '--poll',
    '1s',
    '--routes',
    path.join(dir, 'none.json'),
  ];
  const first = await campaign(args, twilioApi.proxyEnv());
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/row 1: placed CA[0-9a-f]{32} \(attempt 1\)/);
  expect(first.stdout).toContain('completed 2, busy 1; 3 calls placed in this run');
  expect(server.invocations).toBe(3);
  // The IdempotencyKey maps were made before the first call, not by the calls at the campaign's rate.
  expect(first.stdout).toContain('Sync: made the 16 IdempotencyKey maps');
  expect([...twilioApi.sync.maps.keys()].filter((m) => /^livekit-outbound-requests-\d+$/.test(m))).toHaveLength(16);
  const results = parseCsv(readFileSync(path.join(dir, 'c.results.csv'), 'utf8')).map((r) => r.fields);
  expect(results[0]).toEqual(['row', 'callSid', 'room', 'status', 'error', 'attempts']);
  expect(
    results
      .slice(1)
      .map((r) => [r[0], r[3], r[5]])
      .sort(),
  ).toEqual([
    ['1', 'completed', '1'],
    ['2', 'completed', '1'],
    ['3', 'busy', '1'],
    ['4', 'refused', '0'],
  ]);
  expect(results.find((r) => r[0] === '4')![4]).toMatch(/^destination-blocked: /);

  const again = await campaign(args, twilioApi.proxyEnv());
  expect(again.code).toBe(0);
  expect(again.stdout).toContain('resuming from');
  expect(again.stdout).toContain('completed 2, busy 1; 0 calls placed in this run');
  expect(twilioApi.calls).toHaveLength(3);
  expect(server.invocations).toBe(3);
  // Each run let go of the journal when it ended.
  expect(existsSync(path.join(dir, 'c.journal.jsonl.lock'))).toBe(false);
  await server.stop();
}, 60_000);

test('a second run on a journal in use is refused before it reads the journal or sends anything', async () => {
  const dir = tempDir();
  const server = await new OutboundServer({ liveKit, twilioApi }).start();
  const env = dotenv(dir);
  writeFileSync(path.join(dir, 'c.csv'), 'To\n+14155550501\n');
  // A journal the run would refuse (another campaign's): the lock is looked at before it is read.
  const journal = path.join(dir, 'c.journal.jsonl');
  writeFileSync(journal, JSON.stringify({ t: 'start', at: 0, campaign: 'other', url: server.url, account: ACCOUNT_SID, rows: 1 }) + '\n');
  // This test's process stands for the first run, still going.
  const lock = path.join(dir, 'c.journal.jsonl.lock');
  writeFileSync(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), since: '2026-12-01T09:00:00.000Z' }));
  const result = await campaign(
    ['--csv', path.join(dir, 'c.csv'), '--env', env, '--url', server.url, '--routes', path.join(dir, 'none.json')],
    twilioApi.proxyEnv(),
  );
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(
    `c.journal.jsonl is in use by another run of this campaign (run ${process.pid} on ${os.hostname()}, since 2026-12-01T09:00:00.000Z)`,
  );
  expect(result.stderr).toContain('Runs over other slices of a list each take their own --results');
  expect(result.stderr).not.toContain("campaign other's journal");
  expect(server.invocations).toBe(0);
  expect(readFileSync(journal, 'utf8').split('\n')).toHaveLength(2);
  expect(existsSync(lock)).toBe(true);
  await server.stop();
}, 60_000);

test('a wrong auth token stops the campaign at the first answer, says why, and places nothing', async () => {
  const dir = tempDir();
  const server = await new OutboundServer({ liveKit, twilioApi }).start();
  const env = dotenv(dir, { AUTH_TOKEN: 'e'.repeat(32) });
  writeFileSync(path.join(dir, 'c.csv'), 'To\n+14155550401\n+14155550402\n');
  const result = await campaign(
    ['--csv', path.join(dir, 'c.csv'), '--env', env, '--url', server.url, '--routes', path.join(dir, 'none.json')],
    twilioApi.proxyEnv(),
  );
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/stopped for every row: HTTP 40[13]: the service refused the request's signature/);
  expect(result.stderr).toContain('npm start checks it with the AUTH_TOKEN');
  expect(twilioApi.calls).toHaveLength(0);
  await server.stop();
}, 60_000);
