/**
 * A settings file the deploy tools read before `.twilioserverlessrc.js`
 * switches off the build and the preflight. The detector is checked against
 * the tools' own config loaders (twilio-run 5 and the CLI plugin's 3.5, each
 * with its cosmiconfig), then the doctor, the build and the deploy's npm hook
 * are shown refusing each such file in a copy of the project.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configSourceProblems, findConfigSources } from '../../src/deploy/config-sources';
import { runDoctor } from '../../src/deploy/doctor';
import { parseEnvText } from '../../src/deploy/env-file';
import { preflight } from '../../src/deploy/preflight';
import { readDeployTarget } from '../../src/deploy/deploy-target';
import { copyProject, envText, runCommand } from '../support/project-copy';
import { ACCOUNT_SID, AUTH_TOKEN } from '../support/runtime';
import { ServerlessStandIn } from '../support/serverless-stand-in';
import { ROOT } from '../support/twilio-run';
// What create-twilio-function (and `twilio-run` itself) write as `.twilioserverlessrc`.
import { templateDefaultConfigFile } from 'twilio-run/dist/templating/defaultConfig';

jest.setTimeout(120_000);

const LOADERS = {
  'twilio-run 5': path.join(ROOT, 'node_modules', 'twilio-run', 'dist', 'config', 'utils', 'configLoader.js'),
  'twilio-run 3.5': path.join(ROOT, 'node_modules', 'twilio-run-3', 'dist', 'config', 'utils', 'configLoader.js'),
} as const;

/** The settings the tool's own loader finds, searching from (and run in) `dir`, as `deploy` does. */
function toolReads(tool: keyof typeof LOADERS, dir: string): Record<string, unknown> {
  const script = `process.stdout.write(JSON.stringify(require(${JSON.stringify(LOADERS[tool])}).getConfig(process.cwd()) ?? null))`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8' })) as Record<string, unknown>;
}

/** A folder holding the project's guard (marked) and package.json, plus the files given. */
function folder(files: Record<string, string>, pkg: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'config-sources-'));
  writeFileSync(path.join(dir, '.twilioserverlessrc.js'), "module.exports = { serviceName: 'from-guard' };\n");
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'twilio-livekit-connector', ...pkg }));
  writeFileSync(path.join(dir, '.twilioserviceconfig'), readFileSync(path.join(ROOT, '.twilioserviceconfig')));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

const SHADOWING: [string, Record<string, string>, Record<string, unknown>][] = [
  ['.twilioserverlessrc', { '.twilioserverlessrc': '// written by hand\n{ "serviceName": "from-rc" }\n' }, {}],
  ['.twilioserverlessrc.json', { '.twilioserverlessrc.json': '{ "serviceName": "from-rc" }' }, {}],
  ['.twilioserverlessrc.yaml', { '.twilioserverlessrc.yaml': '# settings\nserviceName: from-rc\n' }, {}],
  ['.twilioserverlessrc.yml', { '.twilioserverlessrc.yml': 'serviceName: from-rc\n' }, {}],
  ['package.json#twilioserverless', {}, { twilioserverless: { serviceName: 'from-rc' } }],
];

describe('which settings file the deploy tools read first', () => {
  test.each(SHADOWING)('%s: both tools read it instead of .twilioserverlessrc.js, and it is found', (source, files, pkg) => {
    const dir = folder(files, pkg);
    for (const tool of Object.keys(LOADERS) as (keyof typeof LOADERS)[])
      expect(toolReads(tool, dir)).toMatchObject({ serviceName: 'from-rc' });
    const found = findConfigSources(dir);
    expect(found.shadowing.map((s) => s.source)).toEqual([source]);
    expect(found.shadowing[0]!.tools).toEqual(['twilio-run 5', 'twilio-run 3.5']);
  });

  test('the file create-twilio-function writes shadows it too', () => {
    const dir = folder({ '.twilioserverlessrc': templateDefaultConfigFile() });
    for (const tool of Object.keys(LOADERS) as (keyof typeof LOADERS)[]) {
      const read = toolReads(tool, dir);
      expect(read).toMatchObject({ runtime: 'node22' });
      expect(read.serviceName).toBeUndefined();
    }
    expect(findConfigSources(dir).shadowing.map((s) => s.source)).toEqual(['.twilioserverlessrc']);
  });

  test('every shadowing file at once is listed, in the order the tools look', () => {
    const files = Object.assign({}, ...SHADOWING.map(([, f]) => f)) as Record<string, string>;
    const dir = folder(files, { twilioserverless: { serviceName: 'from-rc' } });
    expect(findConfigSources(dir).shadowing.map((s) => s.source)).toEqual([
      'package.json#twilioserverless',
      '.twilioserverlessrc',
      '.twilioserverlessrc.json',
      '.twilioserverlessrc.yaml',
      '.twilioserverlessrc.yml',
    ]);
  });

  test.each([
    ['an empty .twilioserverlessrc', { '.twilioserverlessrc': ' \n' }, {}],
    ['a .twilioserverlessrc.yml of comments only', { '.twilioserverlessrc.yml': '# nothing yet\n---\n' }, {}],
    ['files read after it', { '.twilioserverlessrc.cjs': 'module.exports = {}', 'twilioserverless.config.js': 'module.exports = {}' }, {}],
    ['a package.json without the key', {}, { scripts: {} }],
  ])('%s: the tools pass it over, and so does the detector', (_, files, pkg) => {
    const dir = folder(files, pkg);
    for (const tool of Object.keys(LOADERS) as (keyof typeof LOADERS)[])
      expect(toolReads(tool, dir)).toEqual({ serviceName: 'from-guard' });
    expect(findConfigSources(dir)).toEqual({ guard: true, shadowing: [] });
  });

  test('a falsy package.json key: twilio-run 5 reads it (cosmiconfig 8), the CLI plugin does not (cosmiconfig 7)', () => {
    const dir = folder({}, { twilioserverless: false });
    expect(toolReads('twilio-run 5', dir)).toBe(false);
    expect(toolReads('twilio-run 3.5', dir)).toEqual({ serviceName: 'from-guard' });
    expect(findConfigSources(dir).shadowing).toEqual([expect.objectContaining({ tools: ['twilio-run 5'] })]);
  });

  test("cosmiconfig 8's meta config: a .config.json with a twilioserverless key is read by twilio-run 5 first", () => {
    const dir = folder({ '.config.json': JSON.stringify({ twilioserverless: { serviceName: 'from-rc' } }) });
    expect(toolReads('twilio-run 5', dir)).toEqual({ serviceName: 'from-rc' });
    expect(toolReads('twilio-run 3.5', dir)).toEqual({ serviceName: 'from-guard' });
    expect(findConfigSources(dir).shadowing).toEqual([
      expect.objectContaining({ source: '.config.json', tools: ['twilio-run 5'], problem: expect.stringContaining('meta config') }),
    ]);
  });

  test("the meta config's searchPlaces move where twilio-run 5 looks", () => {
    const dir = folder({
      '.config.json': JSON.stringify({ cosmiconfig: { searchPlaces: ['elsewhere.json'] } }),
      'elsewhere.json': '{ "serviceName": "from-rc" }',
    });
    expect(toolReads('twilio-run 5', dir)).toEqual({ serviceName: 'from-rc' });
    expect(findConfigSources(dir).shadowing.map((s) => s.source)).toEqual(['.config.json']);
  });

  test('a .config.json for other tools, without either key, changes nothing', () => {
    const dir = folder({ '.config.json': '{ "other": true }' });
    expect(toolReads('twilio-run 5', dir)).toEqual({ serviceName: 'from-guard' });
    expect(findConfigSources(dir).shadowing).toEqual([]);
  });

  test('the project itself: the tools read .twilioserverlessrc.js, nothing shadows it', () => {
    expect(findConfigSources(ROOT)).toEqual({ guard: true, shadowing: [] });
  });

  test('what the message says: what a deploy would then do, and what to do', () => {
    const [problem] = configSourceProblems(findConfigSources(folder({ '.twilioserverlessrc': '{}' })));
    expect(problem).toContain('.twilioserverlessrc is there (the file create-twilio-function and `twilio-run` write)');
    expect(problem).toContain('before .twilioserverlessrc.js');
    expect(problem).toContain('it skips the build and the preflight');
    expect(problem).toContain('uploads no functions and no assets');
    expect(problem).toContain('"twilio-livekit-connector", package.json\'s name, instead of "livekit-twilio-connector"');
    expect(problem).toContain('Move what it sets into .twilioserviceconfig and delete it.');
  });
});

describe('the doctor', () => {
  const good = {
    LIVEKIT_URL: 'wss://example.livekit.cloud',
    LIVEKIT_API_KEY: 'APIexamplekey',
    LIVEKIT_API_SECRET: 'example-secret-that-is-long-enough-0123456789',
  };

  test.each(SHADOWING)('fails on %s, saying what to do', async (source, files, pkg) => {
    const dir = folder(files, pkg);
    const deploy = preflight(parseEnvText(''), { ...readDeployTarget(ROOT), configSources: findConfigSources(dir) });
    const check = (await runDoctor(good, { deploy })).find((c) => c.name === 'Deploy settings file');
    expect(check).toMatchObject({ ok: false, detail: expect.stringContaining(source.replace('#twilioserverless', '')) });
    expect(check!.detail).toContain('.twilioserverlessrc.js');
  });

  test('has no such line when nothing shadows .twilioserverlessrc.js', async () => {
    const deploy = preflight(parseEnvText(''), readDeployTarget(ROOT));
    expect((await runDoctor(good, { deploy })).map((c) => c.name)).not.toContain('Deploy settings file');
  });

  test('npm run doctor in a project with a .twilioserverlessrc exits 1 on it', async () => {
    const dir = copyProject({ env: envText({ ...good, ACCOUNT_SID, AUTH_TOKEN }) });
    writeFileSync(path.join(dir, '.twilioserverlessrc'), templateDefaultConfigFile());
    const result = await runCommand('npm', ['run', '--silent', 'doctor'], dir);
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/^FAIL {2}Deploy settings file: \.twilioserverlessrc is there/m);
  });
});

describe('the build and the deploy refuse a shadowing file, in a copy of the project', () => {
  const api = new ServerlessStandIn(ACCOUNT_SID, AUTH_TOKEN);
  beforeAll(() => api.start());
  afterAll(() => api.stop());
  beforeEach(() => api.reset());

  const settings = envText({
    ACCOUNT_SID,
    AUTH_TOKEN,
    LIVEKIT_URL: 'wss://example.livekit.cloud',
    LIVEKIT_API_KEY: 'APIexamplekey',
    LIVEKIT_API_SECRET: 'example-secret-that-is-long-enough-0123456789',
  });
  /** A copy with the file or key, and package.json's scripts as given. */
  const shadowed = (files: Record<string, string>, pkg: Record<string, unknown>, scripts: Record<string, string> = {}) => {
    const dir = copyProject({
      env: settings,
      packageJson: (p) => {
        Object.assign(p, pkg);
        Object.assign((p as unknown as { scripts: Record<string, string> }).scripts, scripts);
      },
    });
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    return dir;
  };
  // The npm hooks the project asks for: they run whatever settings file the tools then read.
  const HOOKS = { predeploy: 'node scripts/predeploy.mjs --config-sources', prestart: 'node scripts/predeploy.mjs --config-sources' };

  test.each(SHADOWING)('%s: predeploy --config-sources and the build exit 1, naming it', async (source, files, pkg) => {
    const dir = shadowed(files, pkg);
    const guard = await runCommand(process.execPath, ['scripts/predeploy.mjs', '--config-sources'], dir);
    expect(guard.status).toBe(1);
    expect(guard.output).toContain(
      `preflight: FAIL ${source.startsWith('package.json') ? 'package.json has a "twilioserverless" key' : source}`,
    );
    expect(guard.output).toContain('nothing was uploaded');
    const build = await runCommand('npm', ['run', '--silent', 'build'], dir);
    expect(build.status).toBe(1);
    expect(build.output).toContain('build: FAIL ');
  });

  test.each(SHADOWING)('%s: npm run deploy, with the predeploy hook, uploads nothing', async (_, files, pkg) => {
    const dir = shadowed(files, pkg, HOOKS);
    const result = await runCommand('npm', ['run', '--silent', 'deploy'], dir, api.proxyEnv());
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('the deploy tools would not run the build and the preflight; nothing was uploaded');
    expect(api.requests).toEqual([]);
  });

  test('a --config naming another file is refused too, when the guard is given the arguments', async () => {
    const dir = shadowed({}, {});
    const other = await runCommand(
      process.execPath,
      ['scripts/predeploy.mjs', '--config-sources', 'deploy', '--config', 'other.json'],
      dir,
    );
    expect(other.status).toBe(1);
    expect(other.output).toContain('--config other.json makes the deploy tools read that file instead of .twilioserverlessrc.js');
    const own = await runCommand(
      process.execPath,
      ['scripts/predeploy.mjs', '--config-sources', 'deploy', '-c', '.twilioserverlessrc.js'],
      dir,
    );
    expect(own.status).toBe(0);
  });

  test('without a shadowing file the hook passes and the deploy goes on as before', async () => {
    const dir = shadowed({}, {}, HOOKS);
    const result = await runCommand('npm', ['run', '--silent', 'deploy'], dir, api.proxyEnv());
    expect(result.status).toBe(0);
    expect(result.output).toContain('preflight:');
    expect(api.services.map((s) => s.uniqueName)).toEqual([
      JSON.parse(readFileSync(path.join(ROOT, '.twilioserviceconfig'), 'utf8')).serviceName,
    ]);
  });

  test('what is not guarded: twilio serverless:deploy never loads the project, and deploys the package name with no functions', async () => {
    const dir = shadowed({ '.twilioserverlessrc': templateDefaultConfigFile() }, {});
    const result = await runCommand(process.execPath, [path.join(ROOT, 'tests', 'fixtures', 'cli-plugin-deploy.js')], dir, {
      ...api.proxyEnv(),
      NODE_PATH: path.join(ROOT, 'node_modules'),
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    });
    // It succeeds: a new service under the package's name, with an empty build.
    expect(result.status).toBe(0);
    expect(result.output).not.toContain('preflight:');
    expect(api.services.map((s) => s.uniqueName)).toEqual(['twilio-livekit-connector']);
    expect(api.live(api.services[0]!, 'dev')!.versions).toEqual([]);
  });
});
