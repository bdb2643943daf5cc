/**
 * The project's real deploy commands against a loopback Serverless API that
 * refuses what Twilio's platform refuses: `npm run deploy` (twilio-run 5) and
 * `twilio serverless:deploy` (the CLI plugin's twilio-run 3.5), each from a
 * fresh copy of the project with no build in it.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ACCOUNT_SID, AUTH_TOKEN } from '../support/runtime';
import { copyProject, envText, runCommand } from '../support/project-copy';
import { ServerlessStandIn, UploadedVersion } from '../support/serverless-stand-in';
import { ROOT } from '../support/twilio-run';
import { find, parseTwiml } from '../support/twiml';

jest.setTimeout(90_000);

const api = new ServerlessStandIn(ACCOUNT_SID, AUTH_TOKEN);
beforeAll(() => api.start());
afterAll(() => api.stop());
beforeEach(() => api.reset());

const SERVICE = JSON.parse(readFileSync(path.join(ROOT, '.twilioserviceconfig'), 'utf8')).serviceName as string;
const HANDLER = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).dependencies['@twilio/runtime-handler'] as string;

const settings = (extra: Record<string, string> = {}) => ({
  ACCOUNT_SID,
  AUTH_TOKEN,
  LIVEKIT_URL: 'wss://example.livekit.cloud',
  LIVEKIT_API_KEY: 'APIexamplekey',
  LIVEKIT_API_SECRET: 'example-secret-that-is-long-enough-0123456789',
  AGENT_NAMES: 'support-agent',
  GREETING: '',
  ...extra,
});

const npmDeploy = (dir: string, args: string[] = []) =>
  runCommand('npm', ['run', '--silent', 'deploy', '--', ...args], dir, api.proxyEnv());
const cliDeploy = (dir: string, args: string[] = [], env: Record<string, string> = {}) =>
  runCommand(process.execPath, [path.join(ROOT, 'tests', 'fixtures', 'cli-plugin-deploy.js'), ...args], dir, {
    ...api.proxyEnv(),
    NODE_PATH: path.join(ROOT, 'node_modules'),
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    ...env,
  });

/** What an uploaded fallback asset says and dials. */
function spoken(versions: UploadedVersion[], assetPath: string) {
  const version = versions.find((v) => v.kind === 'asset' && v.path === assetPath);
  if (!version) throw new Error(`${assetPath} was not uploaded`);
  const root = parseTwiml(version.content);
  return { say: find(root, 'Say')?.text, dial: find(root, 'Dial')?.text };
}

function expectLiveService(output: string) {
  const service = api.service(SERVICE);
  if (!service) throw new Error(`no service was created:\n${output}`);
  const live = api.live(service, 'dev');
  if (!live) throw new Error(`nothing was deployed:\n${output}`);
  return live;
}

describe.each([
  ['npm run deploy', npmDeploy],
  ['twilio serverless:deploy', cliDeploy],
] as const)('%s from a fresh clone', (_, deploy) => {
  test('builds first, then uploads each function once with its visibility, the routes and fallback assets, the dependencies, runtime and variables', async () => {
    const dir = copyProject({ env: envText(settings()) });
    writeFileSync(path.join(dir, 'src', 'assets', 'routes.private.json'), readFileSync(path.join(ROOT, 'routes.example.json')));
    expect(existsSync(path.join(dir, 'dist'))).toBe(false);

    const result = await deploy(dir);
    expect(result.output).toContain('preflight:');
    expect(result.status).toBe(0);
    const live = expectLiveService(result.output);

    const uploaded = live.versions.map((v) => `${v.kind} ${v.path} ${v.visibility}`).sort();
    expect(uploaded).toEqual([
      'asset /fallback-sales-uk.xml public',
      'asset /fallback-support.xml public',
      'asset /fallback.xml public',
      'asset /routes.json private',
      'function /call-control public',
      'function /consult protected',
      'function /incoming public',
      'function /outbound protected',
      'function /recording-status protected',
      'function /rejoin protected',
      'function /status protected',
    ]);
    // Only the build: bundles from dist, never the TypeScript sources.
    for (const version of live.versions.filter((v) => v.kind === 'function')) {
      expect(version.content).toBe(
        readFileSync(
          path.join(dir, 'dist', 'functions', `${version.path.slice(1)}${version.visibility === 'protected' ? '.protected' : ''}.js`),
          'utf8',
        ),
      );
      expect(version.content).not.toMatch(/^import /m);
    }
    // The fallback TwiML, as built: the default route's and each route's whose fallback differs.
    for (const version of live.versions.filter((v) => v.kind === 'asset' && v.path.endsWith('.xml'))) {
      expect(version.content).toBe(readFileSync(path.join(dir, 'dist', 'assets', version.path.slice(1)), 'utf8'));
    }
    expect(spoken(live.versions, '/fallback.xml')).toEqual({
      say: "Sorry, we can't connect your call right now. Please try again later.",
      dial: undefined,
    });
    expect(spoken(live.versions, '/fallback-support.xml')).toEqual({
      say: 'Support is unavailable right now. Transferring you to the front desk.',
      dial: '+14155550111',
    });
    expect(live.build.runtime).toBe('node22');
    expect(live.build.dependencies).toEqual(expect.arrayContaining([{ name: '@twilio/runtime-handler', version: HANDLER }]));
    expect(live.build.dependencies.map((d) => d.name).sort()).toEqual(['@twilio/runtime-handler', 'twilio']);
    expect(live.variables).toEqual({
      LIVEKIT_URL: 'wss://example.livekit.cloud',
      LIVEKIT_API_KEY: 'APIexamplekey',
      LIVEKIT_API_SECRET: 'example-secret-that-is-long-enough-0123456789',
      AGENT_NAMES: 'support-agent',
    });
    expect(api.refused).toEqual([]);
  });

  test('a stale build is replaced by the current source, never uploaded', async () => {
    const dir = copyProject({ env: envText(settings()) });
    mkdirSync(path.join(dir, 'dist', 'functions'), { recursive: true });
    writeFileSync(path.join(dir, 'dist', 'functions', 'removed-long-ago.js'), 'exports.handler = () => {};');
    const result = await deploy(dir);
    expect(result.status).toBe(0);
    const paths = expectLiveService(result.output).versions.map((v) => v.path);
    expect(paths).not.toContain('/removed-long-ago');
    expect(paths).toEqual(expect.arrayContaining(['/incoming', '/outbound', '/status']));
  });

  test('a Variable longer than Twilio stores stops the deploy before anything is uploaded, naming it and by how much', async () => {
    const dir = copyProject({ env: envText(settings({ GREETING: 'Welcome to the line'.repeat(30) })) });
    const result = await deploy(dir);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/GREETING is 570 bytes; Twilio stores at most 450 bytes in a Variable \(120 over\)/);
    expect(result.output).toContain('nothing was uploaded');
    expect(api.requests).toEqual([]);
  });
});

describe.each([
  ['npm run deploy', npmDeploy],
  ['twilio serverless:deploy', cliDeploy],
] as const)('%s to another environment, with its own settings', (_, deploy) => {
  const stage = (extra: Record<string, string> = {}) =>
    envText(settings({ AGENT_NAMES: 'stage-agent', FALLBACK_NUMBER: '+14155550199', FALLBACK_MESSAGE: 'Stage is down.', ...extra }));

  test('--environment stage --env .env.stage uploads .env.stage to stage, and its fallback TwiML', async () => {
    const dir = copyProject({ env: envText(settings()) });
    writeFileSync(path.join(dir, '.env.stage'), stage());
    const result = await deploy(dir, ['--environment', 'stage', '--env', '.env.stage']);
    expect(result.status).toBe(0);
    expect(result.output).toContain(
      'preflight: deploy to "stage" (livekit-twilio-connector-<digits>-stage.twil.io), settings from .env.stage (--env)',
    );
    const live = api.live(api.service(SERVICE)!, 'stage')!;
    expect(live.variables).toMatchObject({ AGENT_NAMES: 'stage-agent', FALLBACK_NUMBER: '+14155550199' });
    expect(spoken(live.versions, '/fallback.xml')).toEqual({ say: 'Stage is down.', dial: '+14155550199' });
    expect(api.live(api.service(SERVICE)!, 'dev')).toBeUndefined();
  });

  test("an environment's settings file named in .twilioserviceconfig is the one uploaded and checked, with no --env", async () => {
    const dir = copyProject({ env: envText(settings()) });
    const config = JSON.parse(readFileSync(path.join(dir, '.twilioserviceconfig'), 'utf8'));
    writeFileSync(path.join(dir, '.twilioserviceconfig'), JSON.stringify({ ...config, environments: { stage: { env: '.env.stage' } } }));
    writeFileSync(path.join(dir, '.env.stage'), stage());
    const result = await deploy(dir, ['--environment', 'stage']);
    expect(result.status).toBe(0);
    expect(result.output).toContain('settings from .env.stage (.twilioserviceconfig)');
    const live = api.live(api.service(SERVICE)!, 'stage')!;
    expect(live.variables).toMatchObject({ AGENT_NAMES: 'stage-agent' });
    expect(spoken(live.versions, '/fallback.xml').dial).toBe('+14155550199');
  });

  test("a problem in the environment's settings file stops the deploy, though .env is fine", async () => {
    const dir = copyProject({ env: envText(settings()) });
    writeFileSync(path.join(dir, '.env.stage'), stage({ GREETING: 'Welcome to the line'.repeat(30) }));
    const result = await deploy(dir, ['--environment', 'stage', '--env', '.env.stage']);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('GREETING is 570 bytes');
    expect(api.requests).toEqual([]);
  });
});

describe('twilio-run promote is preflighted: it uploads the settings file to its target and makes the source build live there', () => {
  const promote = (dir: string, args: string[]) =>
    runCommand(
      process.execPath,
      [path.join(ROOT, 'node_modules', 'twilio-run', 'bin', 'twilio-run.js'), 'promote', ...args],
      dir,
      api.proxyEnv(),
    );

  test('a Variable Twilio would refuse, in the settings promote uploads, stops it before any request', async () => {
    const dir = copyProject({ env: envText(settings()) });
    writeFileSync(path.join(dir, '.env.prod'), envText(settings({ GREETING: 'Welcome to the line'.repeat(30) })));
    const result = await promote(dir, ['--from', 'dev', '--production', '--env', '.env.prod']);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('preflight: promote to production');
    expect(result.output).toContain('GREETING is 570 bytes');
    expect(api.requests).toEqual([]);
  });

  test("a target whose settings give other fallback TwiML than the source's build holds is refused, saying to deploy instead", async () => {
    const dir = copyProject({ env: envText(settings()) });
    writeFileSync(path.join(dir, '.env.prod'), envText(settings({ FALLBACK_NUMBER: '+14155550123' })));
    const result = await promote(dir, ['--from', 'dev', '--to', 'prod', '--env', '.env.prod']);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('promote makes the build on "dev" live on "prod" with the fallback TwiML it was built with, from .env');
    expect(result.output).toContain('Deploy instead: npm run deploy -- --environment prod --env .env.prod');
    expect(api.requests).toEqual([]);
  });

  test("twilio serverless:promote (the CLI plugin's twilio-run 3.5) is refused alike, before any request", async () => {
    const dir = copyProject({ env: envText(settings()) });
    writeFileSync(path.join(dir, '.env.prod'), envText(settings({ GREETING: 'Welcome to the line'.repeat(30) })));
    // As the plugin runs it: the handler with every option's default and the command's flags, argv as the CLI's.
    const script = `
      const { handler, cliInfo } = require('twilio-run-3/dist/commands/promote');
      const flags = {};
      for (const [name, option] of Object.entries(cliInfo.options)) flags[name.replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = option.default;
      Object.assign(flags, { sourceEnvironment: 'dev', environment: 'prod', env: '.env.prod', cwd: process.cwd() });
      process.argv = [process.argv[0], '/usr/local/bin/twilio', 'serverless:promote', '--source-environment', 'dev', '--environment', 'prod', '--env', '.env.prod'];
      handler(flags, { username: process.env.TWILIO_ACCOUNT_SID, password: process.env.TWILIO_AUTH_TOKEN, accountSid: process.env.TWILIO_ACCOUNT_SID });
    `;
    const result = await runCommand(process.execPath, ['-e', script], dir, {
      ...api.proxyEnv(),
      NODE_PATH: path.join(ROOT, 'node_modules'),
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('preflight: promote to "prod"');
    expect(result.output).toContain('GREETING is 570 bytes');
    expect(api.requests).toEqual([]);
  });

  test('with the same settings the preflight passes and the promote goes on to Twilio', async () => {
    const dir = copyProject({ env: envText(settings()) });
    expect((await npmDeploy(dir)).status).toBe(0);
    const before = api.requests.length;
    const result = await promote(dir, ['--from', 'dev', '--to', 'prod']);
    expect(result.output).toContain('preflight: promote to "prod" (livekit-twilio-connector-<digits>-prod.twil.io), settings from .env');
    expect(result.output).toMatch(/preflight: 4 variables to upload; context \d+ of 3072 bytes/);
    // Past the preflight, twilio-run looks up the environments (a "prod" not yet made is its own error, after the preflight).
    expect(api.requests.slice(before)[0]).toEqual({
      method: 'GET',
      path: expect.stringMatching(/^\/v1\/Services\/ZS[0-9a-f]{32}\/Environments$/),
    });
  });
});

describe('npm run deploy refuses, before uploading, what would fail on Twilio', () => {
  test('a runtime handler version Twilio does not list', async () => {
    const dir = copyProject({ env: envText(settings()), packageJson: (p) => (p.dependencies['@twilio/runtime-handler'] = '2.1.0') });
    const result = await npmDeploy(dir);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("@twilio/runtime-handler 2.1.0 is not one Twilio's platform accepts");
    expect(api.requests).toEqual([]);
  });

  test('a context over 3 KB, though every value fits', async () => {
    const big: Record<string, string> = {};
    for (let i = 0; i < 8; i += 1) big[`ROUTE_NOTE_${i}`] = 'x'.repeat(400);
    const dir = copyProject({ env: envText(settings(big)) });
    const result = await npmDeploy(dir);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/context would be \d+ bytes; Twilio fails every invocation over 3072 \(error 82006\)/);
    expect(api.requests).toEqual([]);
  });

  test('a value the service would misread (inline comment), by name', async () => {
    const dir = copyProject({ env: envText(settings()).replace('AGENT_NAMES=support-agent', 'AGENT_NAMES=support-agent # the agent') });
    const result = await npmDeploy(dir);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('AGENT_NAMES has an inline "# comment"');
    expect(api.requests).toEqual([]);
  });

  test('--no-assets, which would deploy without the routes file and the fallback TwiML', async () => {
    const dir = copyProject({ env: envText(settings()) });
    const result = await npmDeploy(dir, ['--no-assets']);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('--no-assets (or "assets": false in the config) deploys a build without assets');
    expect(api.requests).toEqual([]);
  });

  test('fallback TwiML missing from the assets folder the deploy uploads', async () => {
    const dir = copyProject({ env: envText(settings()) });
    mkdirSync(path.join(dir, 'elsewhere'));
    writeFileSync(path.join(dir, 'elsewhere', 'fallback.xml'), '<Response><Say>Half</Say>');
    const result = await npmDeploy(dir, ['--assets-folder', 'elsewhere']);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('elsewhere/fallback.xml is not fallback TwiML Twilio can run: not well-formed XML');
    expect(api.requests).toEqual([]);
    rmSync(path.join(dir, 'elsewhere', 'fallback.xml'));
    const missing = await npmDeploy(dir, ['--assets-folder', 'elsewhere']);
    expect(missing.output).toContain(
      'elsewhere/fallback.xml is missing: the Voice Fallback URL of the numbers on route default would answer 404',
    );
    expect(api.requests).toEqual([]);
  });

  test('a second clone finds the service by name and needs --override-existing-project, as the README says', async () => {
    api.seedService(SERVICE);
    const dir = copyProject({ env: envText(settings()) });
    const refused = await npmDeploy(dir);
    expect(refused.status).not.toBe(0);
    expect(refused.output).toContain(`Service with name "${SERVICE}" already exists`);
    const result = await npmDeploy(dir, ['--override-existing-project']);
    expect(result.status).toBe(0);
    expect(api.services).toHaveLength(1);
    expect(expectLiveService(result.output).versions.map((v) => v.path)).toContain('/incoming');
    // The next deploy from this clone finds the service from .twiliodeployinfo.
    expect(existsSync(path.join(dir, '.twiliodeployinfo'))).toBe(true);
  });
});

describe('the Serverless stand-in refuses what the platform refuses', () => {
  // Straight at the API with the toolkit's own client, so these prove the
  // stand-in, not the preflight.
  const send = async (requests: { method: string; path: string; form?: Record<string, string> }[]) => {
    const result = await runCommand(
      process.execPath,
      [path.join(ROOT, 'tests', 'fixtures', 'serverless-requests.js'), JSON.stringify(requests)],
      ROOT,
      {
        ...api.proxyEnv(),
        TWILIO_ACCOUNT_SID: ACCOUNT_SID,
        TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      },
    );
    return result.output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  };
  const newService = { method: 'post', path: 'Services', form: { UniqueName: 'svc', FriendlyName: 'svc' } };

  test.each(['2.1.0', '2.0.3', '2.0.2'])('a build with handler %s is refused with 20001', async (version) => {
    const [, build] = await send([
      newService,
      {
        method: 'post',
        path: 'Services/{ZS}/Builds',
        form: { Dependencies: `"${JSON.stringify([{ name: '@twilio/runtime-handler', version }])}"`, Runtime: 'node22' },
      },
    ]);
    expect(build).toMatchObject({
      code: 20001,
      status: 400,
      message: expect.stringContaining(`No matching version found for @twilio/runtime-handler@${version}`),
    });
  });

  test('a build with the pinned handler on node22 is accepted', async () => {
    const [, build] = await send([
      newService,
      {
        method: 'post',
        path: 'Services/{ZS}/Builds',
        form: { Dependencies: `"${JSON.stringify([{ name: '@twilio/runtime-handler', version: HANDLER }])}"`, Runtime: 'node22' },
      },
    ]);
    expect(build).toMatchObject({ status: 'building', runtime: 'node22' });
  });

  test('a build on node18 is refused with 82007', async () => {
    const [, build] = await send([newService, { method: 'post', path: 'Services/{ZS}/Builds', form: { Runtime: 'node18' } }]);
    expect(build).toMatchObject({ code: 82007, status: 400 });
  });

  test('a Variable of 451 bytes is refused, one of 450 kept', async () => {
    const [, , kept, refused] = await send([
      newService,
      { method: 'post', path: 'Services/{ZS}/Environments', form: { UniqueName: 'dev-environment', DomainSuffix: 'dev' } },
      { method: 'post', path: 'Services/{ZS}/Environments/{ZE}/Variables', form: { Key: 'A', Value: '\u00e9'.repeat(225) } },
      { method: 'post', path: 'Services/{ZS}/Environments/{ZE}/Variables', form: { Key: 'B', Value: 'x'.repeat(451) } },
    ]);
    expect(kept).toMatchObject({ key: 'A' });
    expect(refused).toMatchObject({ code: 20001, status: 400, message: expect.stringContaining('450 bytes') });
  });
});
