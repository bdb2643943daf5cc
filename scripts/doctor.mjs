// Bundles and runs the doctor (src/tools/doctor-cli.ts) with the arguments given.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(mkdtempSync(path.join(os.tmpdir(), 'doctor-')), 'doctor.cjs');
await build({
  entryPoints: [path.join(root, 'src', 'tools', 'doctor-cli.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['twilio'],
  nodePaths: [path.join(root, 'node_modules')],
  logLevel: 'warning',
});
const result = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, NODE_PATH: path.join(root, 'node_modules') },
});
process.exit(result.status ?? 1);
