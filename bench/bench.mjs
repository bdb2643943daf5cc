// Builds both implementations and runs the benchmark (bench/run.ts).
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

run(process.execPath, ['scripts/build.mjs']);
run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'bench/tsconfig.baseline.json']);
await build({
  entryPoints: [path.join(root, 'bench', 'run.ts')],
  outfile: path.join(root, 'bench', '.out', 'run', 'run.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  logLevel: 'warning',
});
run(process.execPath, [path.join(root, 'bench', '.out', 'run', 'run.js')]);
