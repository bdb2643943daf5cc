/**
 * .twilioserviceconfig is the one place for deploy settings; twilio-run must
 * find it from the project root for start and deploy alike.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeployFlags, resolveDeploy } from '../../src/deploy/deploy-target';
import { ROOT } from '../support/twilio-run';

// twilio-run's own reader, the one `start`, `deploy` and the CLI plugin use.
import { readSpecializedConfig } from 'twilio-run/dist/config/global';
// And the listing the deploy uploads: paths and visibility from the file names.
import { getListOfFunctionsAndAssets } from '@twilio-labs/serverless-api/dist/utils/fs';

const serviceConfig = JSON.parse(readFileSync(path.join(ROOT, '.twilioserviceconfig'), 'utf8')) as Record<string, unknown>;

describe('.twilioserviceconfig', () => {
  test('holds the runtime, the dist folders and the service name', () => {
    expect(serviceConfig).toMatchObject({
      runtime: 'node22',
      functionsFolder: 'dist/functions',
      assetsFolder: 'dist/assets',
      serviceName: expect.stringMatching(/^[a-z0-9-]+$/),
    });
  });

  test.each(['deploy', 'start'] as const)('twilio-run %s resolves it from the project root with no flags', (command) => {
    const resolved = readSpecializedConfig(ROOT, '', command, {}) as Record<string, unknown>;
    expect(resolved.functionsFolder).toBe('dist/functions');
    expect(resolved.assetsFolder).toBe('dist/assets');
    expect(resolved.runtime).toBe('node22');
    expect(resolved.serviceName).toBe(serviceConfig.serviceName);
  });

  test('the build put each function in one self-contained file, visibility suffixes kept', () => {
    for (const file of ['call-control.js', 'incoming.js', 'outbound.protected.js', 'status.protected.js']) {
      const full = path.join(ROOT, 'dist', 'functions', file);
      expect(existsSync(full)).toBe(true);
      const code = readFileSync(full, 'utf8');
      // Only what the runtime provides may stay outside the bundle.
      const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!);
      for (const name of required)
        expect(name).toMatch(/^(node:|twilio($|\/)|crypto$|http$|https$|url$|util$|buffer$|events$|stream$|net$|tls$|zlib$|os$|path$|fs$)/);
    }
  });

  test('the build put the fallback TwiML in dist/assets, which the deploy uploads as the public asset /fallback.xml', async () => {
    const { assets } = await getListOfFunctionsAndAssets(ROOT, {
      functionsFolderNames: ['dist/functions'],
      assetsFolderNames: ['dist/assets'],
    });
    expect(assets.map((a) => ({ path: a.path, access: a.access }))).toContainEqual({ path: '/fallback.xml', access: 'public' });
  });
});

describe('the settings file and environment a deploy uses, merged as twilio-run merges them', () => {
  const config = {
    ...serviceConfig,
    commands: { deploy: { env: '.env.deploy' }, start: { port: 3000 } },
    environments: { stage: { env: '.env.stage' }, '*': { env: '.env.production' } },
  };
  /** twilio-run's own readSpecializedConfig and mergeFlagsAndConfig (config/deploy.js), fresh for each config. */
  function twilioRunResolves(configJson: Record<string, unknown>, flags: DeployFlags) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'deploy-flags-'));
    writeFileSync(path.join(dir, '.twilioserverlessrc.json'), JSON.stringify(configJson));
    writeFileSync(path.join(dir, '.twilioserviceconfig'), JSON.stringify(configJson));
    let merged: Record<string, unknown> = {};
    jest.isolateModules(() => {
      /* eslint-disable @typescript-eslint/no-require-imports */
      const { readSpecializedConfig: read } = require('twilio-run/dist/config/global');
      const { mergeFlagsAndConfig } = require('twilio-run/dist/config/utils/mergeFlagsAndConfig');
      const { cliInfo } = require('twilio-run/dist/commands/deploy');
      /* eslint-enable @typescript-eslint/no-require-imports */
      // As yargs hands them over: every default filled in, then --production empties the environment.
      const given: Record<string, unknown> = { environment: flags.environment ?? 'dev', production: flags.production ?? false };
      if (flags.env) given.env = flags.env;
      if (given.production) given.environment = '';
      merged = mergeFlagsAndConfig(read(dir, undefined, 'deploy', { environmentSuffix: given.environment }), given, cliInfo);
    });
    return { dir, envFile: (merged.env as string | undefined) ?? '.env', environment: merged.environment };
  }

  test.each<[string, Record<string, unknown>, DeployFlags, string, string]>([
    ['no flags: commands.deploy', config, {}, '.env.deploy', 'dev'],
    ['--environment stage: environments.stage', config, { environment: 'stage' }, '.env.stage', 'stage'],
    ['--production: environments["*"]', config, { production: true }, '.env.production', ''],
    ['--env wins over the config', config, { environment: 'stage', env: '.env.other' }, '.env.other', 'stage'],
    ['no env anywhere: .env', serviceConfig, { environment: 'stage' }, '.env', 'stage'],
    [
      'a top-level environment: deployed to, but looked up as "dev"',
      { ...config, environment: 'stage', commands: {} },
      {},
      '.env',
      'stage',
    ],
  ])('%s', (_, configJson, flags, envFile, environment) => {
    const real = twilioRunResolves(configJson, flags);
    expect({ envFile: real.envFile, environment: real.environment }).toEqual({ envFile, environment });
    const ours = resolveDeploy(real.dir, 'deploy', flags);
    expect({ envFile: ours.envFile, environment: ours.environment }).toEqual({ envFile, environment });
  });
});
