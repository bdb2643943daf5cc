import { envText } from '../support/project-copy';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import twilio from 'twilio';
import { Check, runDoctor, TwilioAccountApi } from '../../src/deploy/doctor';
import { API_KEY, API_SECRET } from '../support/livekit-stand-in';
import { useLiveKit, useTwilioApi } from '../support/stand-ins';
import { ACCOUNT_SID, AUTH_TOKEN } from '../support/runtime';
import { freePort, ROOT } from '../support/twilio-run';

const liveKit = useLiveKit();
const twilioApi = useTwilioApi({ tls: true });
const EXAMPLE_ROUTES = readFileSync(path.join(ROOT, 'routes.example.json'), 'utf8');

const good = (): Record<string, string> => ({
  ACCOUNT_SID,
  AUTH_TOKEN,
  LIVEKIT_URL: liveKit.url,
  LIVEKIT_API_KEY: API_KEY,
  LIVEKIT_API_SECRET: API_SECRET,
  AGENT_NAMES: 'support-agent',
  OUTBOUND_CALLER_IDS: '+14155550100',
});

const byName = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.name, c]));
const client =
  (token = AUTH_TOKEN) =>
  () =>
    twilio(ACCOUNT_SID, token, { httpClient: twilioApi.httpClient(3000) }) as unknown as TwilioAccountApi;

describe('doctor: the settings as the service reads them', () => {
  test('a good .env passes every check', async () => {
    const checks = await runDoctor(good(), { routesText: EXAMPLE_ROUTES });
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual([
      'LiveKit settings',
      'Twilio credentials',
      'Signature checking',
      'Incoming settings',
      'Greeting and fallback',
      'Outbound settings',
      'Routes',
      'Transfer targets',
      'Recording',
      'Call summary',
    ]);
  });

  test.each([
    [
      'LIVEKIT_URL over plain http to a remote host',
      { LIVEKIT_URL: 'http://livekit.example.com' },
      'LiveKit settings',
      'LIVEKIT_URL must start with wss://',
    ],
    ['no LiveKit secret', { LIVEKIT_API_SECRET: '' }, 'LiveKit settings', 'LIVEKIT_API_SECRET is required'],
    ['a malformed account SID', { ACCOUNT_SID: 'AC123' }, 'Twilio credentials', 'ACCOUNT_SID'],
    ['signature checking off', { TWILIO_SIGNATURE_VALIDATION: 'false' }, 'Signature checking', 'anyone who finds the URL'],
    ['a caller ID that is not E.164', { OUTBOUND_CALLER_IDS: '+14155550100,4155550101' }, 'Outbound settings', 'OUTBOUND_CALLER_IDS'],
    ['an unparseable allow-list', { OUTBOUND_ALLOWED_DESTINATIONS: 'USA' }, 'Outbound settings', 'OUTBOUND_ALLOWED_DESTINATIONS'],
    ['a fallback number that is not E.164', { FALLBACK_NUMBER: 'front desk' }, 'Greeting and fallback', 'FALLBACK_NUMBER'],
    ['a greeting with control characters', { GREETING: 'hi\u0007' }, 'Greeting and fallback', 'GREETING has control characters'],
    ['a bad identity policy', { PARTICIPANT_IDENTITY: 'email' }, 'Incoming settings', 'PARTICIPANT_IDENTITY'],
  ])('%s fails, saying why', async (_, change, check, words) => {
    const result = byName(await runDoctor({ ...good(), ...change }))[check]!;
    expect(result.ok).toBe(false);
    expect(result.detail).toContain(words);
  });

  test('transfer targets are judged as the agent will use them: a premium one fails, naming it', async () => {
    const checks = byName(await runDoctor({ ...good(), TRANSFER_TARGETS: 'billing=+14155550111,premium=+19006299170' }));
    expect(checks['Transfer targets']).toMatchObject({
      ok: false,
      detail: expect.stringContaining('TRANSFER_TARGETS premium is a premium rate number'),
    });
    const fine = byName(await runDoctor({ ...good(), TRANSFER_TARGETS: 'billing=+14155550111' }));
    expect(fine['Transfer targets']).toMatchObject({ ok: true, detail: 'billing (TRANSFER_TARGETS)' });
  });

  test.each([
    ['a caller ID in no country', { OUTBOUND_CALLER_IDS: '+15551230000' }, '+15551230000, which is a number in no country'],
    [
      'a caller ID in no country leaves nowhere to call',
      { OUTBOUND_CALLER_IDS: '+15551230000' },
      'outbound may call nowhere: set OUTBOUND_ALLOWED_DESTINATIONS',
    ],
  ])('%s fails, saying what to change', async (_, change, words) => {
    const result = byName(await runDoctor({ ...good(), ...change }))['Outbound settings']!;
    expect(result).toMatchObject({ ok: false, detail: expect.stringContaining(words) });
  });

  test('with everything missing, every problem is reported in one run', async () => {
    const failed = (await runDoctor({})).filter((c) => !c.ok).map((c) => c.name);
    expect(failed).toEqual(expect.arrayContaining(['LiveKit settings', 'Twilio credentials', 'Signature checking']));
    const liveKit = byName(await runDoctor({}))['LiveKit settings']!.detail;
    for (const name of ['LIVEKIT_URL', 'LIVEKIT_API_KEY', 'LIVEKIT_API_SECRET']) expect(liveKit).toContain(`${name} is required`);
  });

  test('PUBLIC_BASE_URL: a tunnel origin passes, anything else fails', async () => {
    expect(byName(await runDoctor({ ...good(), PUBLIC_BASE_URL: 'https://abc123.ngrok-free.app' }))['Local tunnel']).toMatchObject({
      ok: true,
    });
    expect(byName(await runDoctor({ ...good(), PUBLIC_BASE_URL: 'http://abc123.ngrok-free.app/incoming' }))['Local tunnel']).toMatchObject({
      ok: false,
    });
  });

  test('a broken routes file fails, naming route and field', async () => {
    const result = byName(await runDoctor(good(), { routesText: '{"routes":[{"name":"a","numbers":["x"]}]}' })).Routes!;
    expect(result).toMatchObject({ ok: false, detail: expect.stringContaining('route "a": numbers') });
  });
});

describe('doctor --live: credentials proven against the stand-ins', () => {
  // Each live check says what it reaches before it waits, on stderr.
  let progress: jest.SpyInstance;
  beforeEach(() => (progress = jest.spyOn(console, 'error').mockImplementation(() => undefined)));
  afterEach(() => progress.mockRestore());

  test('right credentials, numbers pointing at incoming', async () => {
    twilioApi.numbers = [{ phoneNumber: '+14155550100', voiceUrl: 'https://svc-1234-dev.twil.io/incoming' }];
    const checks = byName(await runDoctor(good(), { live: { twilio: client(), incomingUrl: 'https://svc-1234-dev.twil.io/incoming' } }));
    expect(checks['LiveKit credentials']).toMatchObject({ ok: true });
    expect(checks['Twilio account']).toMatchObject({ ok: true });
    expect(checks['Number +14155550100']).toMatchObject({ ok: true, detail: 'voice URL https://svc-1234-dev.twil.io/incoming' });
    expect(liveKit.calls('RoomService.ListRooms')).toHaveLength(1);
    expect(progress.mock.calls.map(([line]) => line)).toEqual([
      `checking LiveKit at ${liveKit.url.replace(/^ws/, 'http')}: listing rooms (up to 5 s) ...`,
      `checking Twilio at https://api.twilio.com: fetching account ${ACCOUNT_SID} ...`,
      "checking Twilio at https://api.twilio.com: reading the account's phone numbers ...",
    ]);
  });

  test('a wrong LiveKit secret fails', async () => {
    const checks = byName(await runDoctor({ ...good(), LIVEKIT_API_SECRET: 'x'.repeat(40) }, { live: { twilio: client() } }));
    expect(checks['LiveKit credentials']).toMatchObject({ ok: false, detail: expect.stringContaining('HTTP 401') });
    expect(checks['LiveKit credentials']!.detail).toContain('check LIVEKIT_API_KEY and LIVEKIT_API_SECRET');
  });

  test('a wrong Twilio auth token fails', async () => {
    const checks = byName(await runDoctor(good(), { live: { twilio: client('f'.repeat(32)) } }));
    expect(checks['Twilio account']).toMatchObject({
      ok: false,
      detail: 'Twilio refused ACCOUNT_SID and AUTH_TOKEN (error 20003); copy both from the Twilio Console (Account Info) into .env',
    });
  });

  test('a number pointing elsewhere fails; one not on the account is noted', async () => {
    twilioApi.numbers = [{ phoneNumber: '+14155550100', voiceUrl: 'https://old.example.com/voice' }];
    const env = { ...good(), OUTBOUND_CALLER_IDS: '+14155550100,+14155550101' };
    const checks = byName(await runDoctor(env, { live: { twilio: client() } }));
    expect(checks['Number +14155550100']).toMatchObject({ ok: false, detail: expect.stringContaining('https://old.example.com/voice') });
    expect(checks['Number +14155550101']).toMatchObject({
      ok: true,
      detail: expect.stringContaining('not a Twilio number on this account'),
    });
  });
});

describe('npm run doctor', () => {
  // Asynchronous: the stand-ins live in this process and must keep answering.
  const run = (env: Record<string, string>, args: string[] = [], processEnv: Record<string, string> = {}) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'doctor-env-'));
    const file = path.join(dir, '.env');
    writeFileSync(file, envText(env));
    const argv = [
      path.join(ROOT, 'scripts', 'run-ts.mjs'),
      'src/deploy/doctor-cli.ts',
      '--env',
      file,
      '--routes',
      path.join(dir, 'none.json'),
      ...args,
    ];
    return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, argv, { cwd: ROOT, env: { ...process.env, ...processEnv } }, (error, stdout, stderr) => {
        resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  };

  test('prints a line per check and exits 0 when all pass', async () => {
    const result = await run(good());
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^PASS {2}LiveKit settings: /m);
    expect(result.stdout).toMatch(/^PASS {2}Deploy preflight: 5 variables; context \d+ of 3072 bytes \(\d+ free\)$/m);
    expect(result.stdout).toContain('all 11 checks passed');
  });

  test.each([
    ['AGENT_NAMES', 'support-agent # the agent'],
    ['LIVEKIT_TIMEOUT_MS', '3000 # ms'],
  ])('reads %s as the deploy uploads it: an inline comment fails, by name', async (name, value) => {
    const result = await run({ ...good(), [name]: value });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`^FAIL {2}Deploy preflight: .*${name} has an inline "# comment"`, 'm'));
  });

  test('a value over 450 bytes fails, saying by how much', async () => {
    const result = await run({ ...good(), AGENT_METADATA: JSON.stringify({ note: 'x'.repeat(500) }) });
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('AGENT_METADATA is 511 bytes; Twilio stores at most 450 bytes in a Variable (61 over)');
  });

  test('exits 1 on a failure', async () => {
    const result = await run({ ...good(), LIVEKIT_URL: '' });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^FAIL {2}LiveKit settings: LIVEKIT_URL is required/m);
  });

  test('--live reaches LiveKit and (through a proxy) Twilio', async () => {
    twilioApi.numbers = [{ phoneNumber: '+14155550100', voiceUrl: 'https://svc-1234-dev.twil.io/incoming' }];
    const ok = await run(good(), ['--live'], twilioApi.proxyEnv());
    expect(ok.stdout).toContain('PASS  Twilio account');
    expect(ok.stdout).toContain('PASS  LiveKit credentials');
    expect(ok.status).toBe(0);
    const wrong = await run({ ...good(), AUTH_TOKEN: 'e'.repeat(32) }, ['--live'], twilioApi.proxyEnv());
    expect(wrong.status).toBe(1);
    expect(wrong.stdout).toContain('FAIL  Twilio account');
  });

  test('--live names the cause and the next step, after a line saying what it is reaching', async () => {
    const closed = await freePort();
    const result = await run({ ...good(), LIVEKIT_URL: 'wss://livekit.example.invalid' }, ['--live'], {
      HTTP_PROXY: `http://127.0.0.1:${closed}`,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('checking LiveKit at https://livekit.example.invalid: listing rooms (up to 5 s) ...');
    expect(result.stderr).toContain(`checking Twilio at https://api.twilio.com: fetching account ${ACCOUNT_SID} ...`);
    expect(result.stdout).toMatch(
      /^FAIL {2}LiveKit credentials: LiveKit could not be reached: DNS \((ENOTFOUND|EAI_AGAIN)\): (no address for|the lookup of) livekit\.example\.invalid.*; check /m,
    );
    expect(result.stdout).toContain(
      `FAIL  Twilio account: Twilio could not be reached: connection refused (ECONNREFUSED): nothing is listening on 127.0.0.1:${closed}, the proxy in HTTP_PROXY, on the way to api.twilio.com; check HTTPS_PROXY / HTTP_PROXY and any firewall between this machine and api.twilio.com`,
    );
  });
});

describe('doctor: recording, voicemail audio and the summary webhook', () => {
  const base = () => ({ ACCOUNT_SID: 'AC' + '0'.repeat(32), AUTH_TOKEN: '0'.repeat(32) });
  const check = async (env: Record<string, string>, name: string, assetNames?: string[]) =>
    (await runDoctor({ ...base(), ...env }, { assetNames })).find((c) => c.name === name);

  test('a recording notice with outbound in url mode fails, saying to use inline', async () => {
    const env = { RECORD_CALLS: 'always', RECORDING_NOTICE: 'Recorded.', OUTBOUND_CALLER_IDS: '+14155550100' };
    expect(await check(env, 'Recording')).toMatchObject({ ok: false, detail: expect.stringContaining('OUTBOUND_TWIML_MODE=inline') });
    expect(await check({ ...env, OUTBOUND_TWIML_MODE: 'inline' }, 'Recording')).toMatchObject({ ok: true });
    expect(await check({ RECORD_CALLS: 'sometimes' }, 'Recording')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('RECORD_CALLS'),
    });
  });

  test('voicemail audio must be a public asset by name', async () => {
    expect(await check({ VOICEMAIL_AUDIO: 'vm.mp3' }, 'Voicemail audio', ['vm.mp3'])).toMatchObject({ ok: true });
    const missing = await check({ VOICEMAIL_AUDIO: 'vm.mp3,../x.mp3' }, 'Voicemail audio', []);
    expect(missing).toMatchObject({ ok: false });
    expect(missing!.detail).toContain('../x.mp3 is not an audio file name');
    expect(missing!.detail).toContain('vm.mp3 is not in src/assets');
  });

  test('a summary URL needs a whsec_ secret of at least 24 bytes', async () => {
    const url = { SUMMARY_WEBHOOK_URL: 'https://hooks.example.com/calls' };
    expect(await check(url, 'Call summary')).toMatchObject({ ok: false, detail: expect.stringContaining('SUMMARY_WEBHOOK_SECRET') });
    expect(await check({ ...url, SUMMARY_WEBHOOK_SECRET: 'whsec_' + Buffer.alloc(8).toString('base64') }, 'Call summary')).toMatchObject({
      ok: false,
    });
    const good = { ...url, SUMMARY_WEBHOOK_SECRET: 'whsec_' + Buffer.alloc(32, 7).toString('base64') };
    expect(await check(good, 'Call summary')).toMatchObject({ ok: true, detail: expect.stringContaining('hooks.example.com') });
    expect(await check({ SUMMARY_WEBHOOK_URL: 'http://hooks.example.com/' }, 'Call summary')).toMatchObject({ ok: false });
  });
});
