/**
 * The fallback TwiML assets: what each route's file says and dials (read
 * back with the tests' own strict TwiML parser), that it is exactly what
 * `/incoming` answers that route's callers when it cannot reach LiveKit, how
 * the deploy tools upload it, the build that writes it (with and without a
 * .env, deterministic) and the preflight that checks it.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { getContentType } from '@twilio-labs/serverless-api/dist/utils/content-type';
import { parseRoutes } from '../../src/config/routes';
import { parseEnvText } from '../../src/deploy/env-file';
import { builtFallbackProblems, planFallbackAssets, readFallbackTwiml } from '../../src/deploy/fallback-assets';
import { formatPreflight, preflight } from '../../src/deploy/preflight';
import { answerIncomingCall } from '../../src/incoming/answer-call';
import { copyProject, envText, runCommand } from '../support/project-copy';
import { callSid } from '../support/runtime';
import { find, parseTwiml } from '../support/twiml';
import { ROOT } from '../support/twilio-run';

jest.setTimeout(60_000);

const EXAMPLE = readFileSync(path.join(ROOT, 'routes.example.json'), 'utf8');
const ROUTES = parseRoutes(EXAMPLE).routes;
const DEFAULT_MESSAGE = "Sorry, we can't connect your call right now. Please try again later.";
const SETTINGS = {
  FALLBACK_MESSAGE: 'We are closed. Connecting you to the desk.',
  FALLBACK_NUMBER: '+14155550199',
  GREETING_VOICE: 'Polly.Matthew',
};

/** What a fallback file says, in which voice, and where it then goes. */
function spoken(xml: string) {
  const root = parseTwiml(xml);
  const say = find(root, 'Say');
  return {
    say: say?.text,
    voice: say?.attributes.voice,
    language: say?.attributes.language,
    dial: find(root, 'Dial')?.text,
    verbs: root.children.map((c) => c.name),
  };
}

const fileOf = (plan: ReturnType<typeof planFallbackAssets>, name: string) => plan.assets.find((a) => a.file === name)!.twiml;

describe('the fallback TwiML per route', () => {
  test('without settings (no .env: CI, npm test): one fallback.xml, the default message, then hang up', () => {
    const plan = planFallbackAssets({});
    expect(plan.assets.map((a) => a.file)).toEqual(['fallback.xml']);
    expect(spoken(fileOf(plan, 'fallback.xml'))).toEqual({
      say: DEFAULT_MESSAGE,
      voice: undefined,
      language: undefined,
      dial: undefined,
      verbs: ['Say', 'Hangup'],
    });
    expect(plan.problems).toEqual([]);
  });

  test("each route whose fallback differs gets its own file, with its message, voice and number; the rest share the default's", () => {
    const quiet = { name: 'quiet', numbers: ['+14155550177'], prefixes: [], agentNames: ['other-agent'] };
    const plan = planFallbackAssets(SETTINGS, [...ROUTES, quiet]);
    expect(plan.assets.map((a) => [a.file, a.routes])).toEqual([
      ['fallback.xml', ['default', 'quiet']],
      ['fallback-support.xml', ['support']],
      ['fallback-sales-uk.xml', ['sales-uk']],
    ]);
    expect(plan.byRoute).toEqual({
      default: 'fallback.xml',
      quiet: 'fallback.xml',
      support: 'fallback-support.xml',
      'sales-uk': 'fallback-sales-uk.xml',
    });
    expect(spoken(fileOf(plan, 'fallback.xml'))).toMatchObject({
      say: SETTINGS.FALLBACK_MESSAGE,
      voice: 'Polly.Matthew',
      dial: '+14155550199',
    });
    expect(spoken(fileOf(plan, 'fallback-support.xml'))).toEqual({
      say: 'Support is unavailable right now. Transferring you to the front desk.',
      voice: 'Polly.Joanna',
      language: 'en-US',
      dial: '+14155550111',
      verbs: ['Say', 'Dial'],
    });
    // No fallback of its own: the environment's message and number, in the route's voice.
    expect(spoken(fileOf(plan, 'fallback-sales-uk.xml'))).toMatchObject({
      say: SETTINGS.FALLBACK_MESSAGE,
      voice: 'Polly.Amy',
      language: 'en-GB',
      dial: '+14155550199',
    });
  });

  test.each([
    ['+14155550100', 'support'],
    ['+442071234567', 'sales-uk'],
    ['+13125550100', 'default'],
  ])('a call to %s: the file of its route is, byte for byte, what /incoming answers when it cannot connect', async (to, route) => {
    const plan = planFallbackAssets(SETTINGS, ROUTES);
    // No AUTH_TOKEN: incoming answers the spoken fallback at once, for the route the number takes.
    const reply = await answerIncomingCall(
      { ...SETTINGS, LIVEKIT_URL: 'wss://example.livekit.cloud' },
      { CallSid: callSid(1), From: '+14155550123', To: to },
      {
        connector: () => {
          throw new Error('never reached');
        },
        log: () => {},
        routes: () => ({ table: parseRoutes(EXAMPLE) }),
      },
    );
    expect(plan.byRoute[route]).toBeDefined();
    expect(reply.body).toBe(fileOf(plan, plan.byRoute[route]!));
  });

  test('a route the deploy tools would make private or protected by its name, or two differing only in case, stop the build', () => {
    const route = (name: string, number: string) => ({ name, numbers: [number], prefixes: [], fallback: { message: `${name} is down` } });
    const plan = planFallbackAssets({}, [
      route('vip.private', '+14155550101'),
      route('ops.protected', '+14155550102'),
      route('Sales', '+14155550103'),
      route('sales', '+14155550104'),
    ]);
    expect(plan.problems).toEqual([
      expect.stringContaining('route "vip.private": its fallback asset fallback-vip.private.xml would be deployed as private'),
      expect.stringContaining('route "ops.protected": its fallback asset fallback-ops.protected.xml would be deployed as protected'),
      expect.stringContaining('routes "Sales" and "sales" differ only in case'),
    ]);
  });

  test('the deploy tools upload .xml assets as application/xml, which Twilio runs as TwiML', async () => {
    // serverless-api's own choice (createAssetVersion), shared by twilio-run 5 and the CLI plugin's 3.5.
    const shared = require.resolve('@twilio-labs/serverless-api', { paths: [path.dirname(require.resolve('twilio-run-3/package.json'))] });
    expect(shared).toBe(
      require.resolve('@twilio-labs/serverless-api', { paths: [path.dirname(require.resolve('twilio-run/package.json'))] }),
    );
    const content = Buffer.from(planFallbackAssets({}).assets[0]!.twiml);
    expect(await getContentType(content, '/project/dist/assets/fallback.xml')).toBe('application/xml');
  });
});

describe('reading a fallback file back strictly', () => {
  const good = planFallbackAssets(SETTINGS, ROUTES);

  test('accepts every file the plan makes', () => {
    expect(good.assets.map((a) => readFallbackTwiml(a.twiml))).toEqual([
      { message: SETTINGS.FALLBACK_MESSAGE, voice: 'Polly.Matthew', dial: '+14155550199' },
      {
        message: 'Support is unavailable right now. Transferring you to the front desk.',
        voice: 'Polly.Joanna',
        language: 'en-US',
        dial: '+14155550111',
      },
      { message: SETTINGS.FALLBACK_MESSAGE, voice: 'Polly.Amy', language: 'en-GB', dial: '+14155550199' },
    ]);
  });

  test.each([
    ['<Response><Say>Hi</Say>', 'not well-formed XML'],
    ['<Reply><Say>Hi</Say><Hangup/></Reply>', 'its root element is not <Response>'],
    ['<Response><Hangup/></Response>', 'it does not start with <Say>'],
    ['<Response><Say> </Say><Hangup/></Response>', 'its <Say> is empty'],
    ['<Response><Say>Hi</Say><Dial>desk</Dial></Response>', 'its <Dial> holds "desk", not an E.164 number'],
    ['<Response><Say>Hi</Say><Pause/></Response>', '<Say> is not followed by <Dial> or <Hangup/>'],
    ['<Response><Say>Hi</Say><Hangup/><Say>Bye</Say></Response>', 'it has more after <Hangup> (<Say>)'],
  ])('refuses %s', (xml, reason) => {
    expect(() => readFallbackTwiml(xml)).toThrow(reason);
  });
});

describe('the preflight of the built fallback files', () => {
  const plan = planFallbackAssets(SETTINGS, ROUTES);
  const built = Object.fromEntries(plan.assets.map((a) => [a.file, a.twiml]));
  const target = {
    dependencies: { '@twilio/runtime-handler': '2.0.1', twilio: '5.13.1' },
    runtime: 'node22',
    serviceName: 'svc',
    environment: 'dev',
    functionPaths: ['/incoming'],
  };
  const check = (files: Record<string, string>) => builtFallbackProblems(plan, files, 'dist/assets', '.env');

  test('passes the files the plan makes, and lists them with the method to bind them with', () => {
    expect(check(built)).toEqual([]);
    const result = preflight(parseEnvText(envText(SETTINGS)), {
      ...target,
      fallback: { plan, built, folder: 'dist/assets', settings: '.env' },
    });
    expect(result.problems).toEqual([]);
    expect(formatPreflight(result)).toContain(
      "preflight: fallback TwiML for the numbers' Voice Fallback URL, fetched with GET: /fallback.xml (default), /fallback-support.xml (support), /fallback-sales-uk.xml (sales-uk)",
    );
  });

  test('fails on a missing file, naming the routes whose numbers would get 404', () => {
    const { 'fallback-support.xml': _, ...rest } = built;
    expect(check(rest)).toEqual([
      'dist/assets/fallback-support.xml is missing: the Voice Fallback URL of the numbers on route support would answer 404 (run `npm run build`)',
    ]);
  });

  test('fails on a file that is not fallback TwiML', () => {
    expect(check({ ...built, 'fallback.xml': '<Response><Say>Closed</Say></Respons>' })).toEqual([
      expect.stringMatching(/^dist\/assets\/fallback\.xml is not fallback TwiML Twilio can run: not well-formed XML/),
    ]);
  });

  test('fails on a file built from other settings', () => {
    const other = planFallbackAssets({ ...SETTINGS, FALLBACK_NUMBER: '+14155550100' }, ROUTES);
    expect(check({ ...built, 'fallback.xml': other.assets[0]!.twiml })).toEqual([
      'dist/assets/fallback.xml is not what .env and the routes file give for route default: rebuild',
    ]);
  });

  test("reaches the deploy: its problems are the preflight's", () => {
    const result = preflight(parseEnvText(''), { ...target, fallback: { plan, built: {}, folder: 'dist/assets', settings: '.env' } });
    expect(result.problems).toHaveLength(3);
  });
});

describe('npm run build writes them, in a copy of the project', () => {
  const build = (dir: string, args: string[] = []) => runCommand(process.execPath, ['scripts/build.mjs', ...args], dir);
  const assets = (dir: string) =>
    Object.fromEntries(
      readdirSync(path.join(dir, 'dist', 'assets'))
        .sort()
        .map((name) => [name, readFileSync(path.join(dir, 'dist', 'assets', name), 'utf8')]),
    );

  test('with no .env and no routes: fallback.xml with the defaults', async () => {
    const dir = copyProject();
    const result = await build(dir);
    expect(result.status).toBe(0);
    expect(result.output).toContain('build: fallback TwiML from the defaults (no .env): fallback.xml (default)');
    expect(Object.keys(assets(dir))).toEqual(['fallback.xml']);
    expect(spoken(assets(dir)['fallback.xml']!)).toMatchObject({ say: DEFAULT_MESSAGE, verbs: ['Say', 'Hangup'] });
  });

  test('from .env and the routes file, the same files byte for byte on every build', async () => {
    const dir = copyProject({ env: envText(SETTINGS) });
    writeFileSync(path.join(dir, 'src', 'assets', 'routes.private.json'), EXAMPLE);
    expect((await build(dir)).status).toBe(0);
    const first = assets(dir);
    const functions = readFileSync(path.join(dir, 'dist', 'functions', 'incoming.js'), 'utf8');
    expect(Object.keys(first)).toEqual(['fallback-sales-uk.xml', 'fallback-support.xml', 'fallback.xml', 'routes.private.json']);
    const plan = planFallbackAssets(SETTINGS, ROUTES);
    for (const asset of plan.assets) expect(first[asset.file]).toBe(asset.twiml);
    expect(spoken(first['fallback-support.xml']!).dial).toBe('+14155550111');
    expect((await build(dir)).status).toBe(0);
    expect(assets(dir)).toEqual(first);
    expect(readFileSync(path.join(dir, 'dist', 'functions', 'incoming.js'), 'utf8')).toBe(functions);
  });

  test('--env FILE takes the fallback from that file; a missing one stops the build', async () => {
    const dir = copyProject({ env: envText(SETTINGS) });
    writeFileSync(path.join(dir, '.env.stage'), envText({ FALLBACK_MESSAGE: 'Stage is down.' }));
    expect((await build(dir, ['--env', '.env.stage'])).status).toBe(0);
    expect(spoken(assets(dir)['fallback.xml']!)).toMatchObject({ say: 'Stage is down.', dial: undefined });
    const missing = await build(dir, ['--env', '.env.nowhere']);
    expect(missing.status).toBe(1);
    expect(missing.output).toContain('.env.nowhere not found');
  });

  test('a broken routes file, or an asset named like a generated one, stops the build before dist/ is touched', async () => {
    const dir = copyProject();
    expect((await build(dir)).status).toBe(0);
    writeFileSync(path.join(dir, 'src', 'assets', 'routes.private.json'), '{"routes":[{"name":"a","numbers":["x"]}]}');
    const broken = await build(dir);
    expect(broken.status).toBe(1);
    expect(broken.output).toContain('src/assets/routes.private.json: route "a": numbers');
    expect(existsSync(path.join(dir, 'dist', 'assets', 'fallback.xml'))).toBe(true);
    writeFileSync(path.join(dir, 'src', 'assets', 'routes.private.json'), EXAMPLE);
    writeFileSync(path.join(dir, 'src', 'assets', 'fallback.xml'), '<Response/>');
    const clash = await build(dir);
    expect(clash.status).toBe(1);
    expect(clash.output).toContain('src/assets/fallback.xml has the name of a generated fallback asset');
  });
});
