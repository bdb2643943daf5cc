#!/usr/bin/env node
// clients/node is a package of its own: the real @livekit/agents framework,
// in which the test suite runs the Node tool example as agent authors copy
// it. It is never deployed, so `npm ci` at the top leaves it out (deploying
// needs none of its 280 MB); `npm test` installs it here, from its own lock,
// when it is missing or does not match that lock.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'clients', 'node');
const read = (file) => JSON.parse(readFileSync(path.join(dir, file), 'utf8'));

function installedAsLocked() {
  // npm writes node_modules/.package-lock.json: what is actually installed.
  if (!existsSync(path.join(dir, 'node_modules', '.package-lock.json'))) return false;
  const locked = read('package-lock.json').packages;
  const installed = read('node_modules/.package-lock.json').packages;
  return Object.entries(locked).every(([name, entry]) => name === '' || entry.optional || installed[name]?.version === entry.version);
}

if (!installedAsLocked()) {
  console.log('clients/node: installing the agents framework for the test suite (npm ci, once)');
  // The parent npm's settings (prefix, workspace) must not steer this install.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_config_')));
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit', env });
  process.exit(result.status ?? 1);
}
