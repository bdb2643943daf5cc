import { readFallbackSettings, readInboundSettings, readLiveKitSettings, readSignatureSettings } from '../../src/config/settings';
import type { EnvRead } from '../../src/config/env-reader';
import { readOutboundSettings } from '../../src/outbound/settings';
import { readDialPolicy } from '../../src/phone/dial-settings';

/** Every variable a reader touches must be in its declared list, or a change to it would be missed by the memo. */
describe.each([
  ['readLiveKitSettings', readLiveKitSettings],
  ['readSignatureSettings', readSignatureSettings],
  ['readFallbackSettings', readFallbackSettings],
  ['readInboundSettings', readInboundSettings],
  ['readOutboundSettings', readOutboundSettings],
  ['readDialPolicy', readDialPolicy],
] as [string, EnvRead<unknown>][])('%s', (_, read) => {
  test('declares every variable it reads', () => {
    const touched = new Set<string>();
    const env = new Proxy({ UNIQUE: String(Math.random()) } as Record<string, unknown>, {
      get(target, name) {
        if (typeof name === 'string') touched.add(name);
        return target[name as string];
      },
    });
    // A fresh value for one declared variable forces a real read past the memo.
    (env as Record<string, unknown>)[read.variables[0]!] = `x${Math.random()}`;
    touched.clear();
    read(env);
    for (const name of touched) expect(read.variables).toContain(name);
  });

  test('sees a changed value at once', () => {
    const before = read({});
    const changed = Object.fromEntries(read.variables.map((v) => [v, 'changed-value']));
    expect(read(changed)).not.toEqual(before);
  });
});
