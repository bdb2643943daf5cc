/**
 * .twilioserviceconfig is the one place for deploy settings; twilio-run must
 * find it from the project root for start and deploy alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../support/twilio-run';

// twilio-run's own reader, the one `start`, `deploy` and the CLI plugin use.
import { readSpecializedConfig } from 'twilio-run/dist/config/global';

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
});
