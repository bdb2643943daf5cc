// Compiles each function in src/functions into one self-contained file in
// dist/functions (Twilio uploads only the functions and assets folders, so
// shared code must travel inside each function) and copies src/assets.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTs } from './run-ts.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');
const dist = path.join(root, 'dist');

async function filesUnder(dir) {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)])));
  return nested.flat();
}

// A broken routes file would be ignored at run time; refuse to ship it.
const routesFile = path.join(src, 'assets', 'routes.private.json');
if (existsSync(routesFile) && (await runTs('src/deploy/routes-check-cli.ts', [routesFile])) !== 0) process.exit(1);

await rm(dist, { recursive: true, force: true });

const entryPoints = (await filesUnder(path.join(src, 'functions'))).filter(
  (f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'),
);

const result = await build({
  entryPoints,
  outbase: path.join(src, 'functions'),
  outdir: path.join(dist, 'functions'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  metafile: true,
  // The runtime always provides these; bundling them would only add weight.
  external: ['twilio', 'twilio/*', '@twilio/runtime-handler'],
  logLevel: 'warning',
});

await mkdir(path.join(dist, 'assets'), { recursive: true });
for (const file of await filesUnder(path.join(src, 'assets'))) {
  if (path.basename(file).startsWith('.')) continue;
  const target = path.join(dist, 'assets', path.relative(path.join(src, 'assets'), file));
  await mkdir(path.dirname(target), { recursive: true });
  await cp(file, target);
}

for (const output of Object.keys(result.metafile.outputs)) {
  const { size } = await stat(path.join(root, output));
  console.log(`${output}  ${(size / 1024).toFixed(1)} KiB`);
}
