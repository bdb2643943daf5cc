#!/usr/bin/env node
// Before a deploy: build the current source, then run the preflight with the
// deploy's own arguments. Exits non-zero, having uploaded nothing, when either fails.
//   node scripts/predeploy.mjs [deploy arguments...]
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { root, runTs } from './run-ts.mjs';

const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: root });
if (built.status !== 0) {
  console.error('predeploy: the build failed; nothing was uploaded');
  process.exit(1);
}
process.exit(await runTs('src/deploy/predeploy-cli.ts', process.argv.slice(2)));
