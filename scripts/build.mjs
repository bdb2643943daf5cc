// Compiles each function in src/functions into one self-contained file in
// dist/functions (Twilio uploads only the functions and assets folders, so
// shared code must travel inside each function), copies src/assets, and
// generates the fallback TwiML assets (dist/assets/fallback.xml, and
// fallback-<route>.xml for each route whose fallback differs) from the
// settings file's values and the routes file.
//   node scripts/build.mjs [--env FILE]   (default: .env when there is one, else the defaults)
import { build } from 'esbuild';
import { existsSync, mkdtempSync } from 'node:fs';
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runTs } from './run-ts.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');
const dist = path.join(root, 'dist');

async function filesUnder(dir) {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)])));
  return nested.flat();
}

async function main() {
  const { values } = parseArgs({ options: { env: { type: 'string' } } });
  const envFile = values.env ? path.resolve(values.env) : path.join(root, '.env');

  // Compiled in memory while the checks run, written only once they pass.
  const entryPoints = (await filesUnder(path.join(src, 'functions'))).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'),
  );
  const compiled = build({
    entryPoints,
    outbase: path.join(src, 'functions'),
    outdir: path.join(dist, 'functions'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    write: false,
    // The runtime always provides these; bundling them would only add weight.
    external: ['twilio', 'twilio/*', '@twilio/runtime-handler'],
    logLevel: 'warning',
  });
  compiled.catch(() => {});

  // Before dist/ is touched: the settings sources the deploy tools read, the
  // routes file (a broken one would be ignored at run time: never ship it),
  // and the fallback TwiML, generated with the service's own code.
  const generated = mkdtempSync(path.join(os.tmpdir(), 'fallback-assets-'));
  try {
    const args = ['--out', generated, '--routes', path.join(src, 'assets', 'routes.private.json')];
    if (values.env || existsSync(envFile)) args.push('--env', envFile);
    if ((await runTs('src/deploy/build-cli.ts', args, { command: 'the build (scripts/build.mjs)' })) !== 0) return 1;
    const made = new Set(await readdir(generated));
    const assets = (await filesUnder(path.join(src, 'assets'))).filter((f) => !path.basename(f).startsWith('.'));
    for (const file of assets) {
      const relative = path.relative(path.join(src, 'assets'), file);
      if (made.has(relative)) {
        console.error(`build: src/assets/${relative} has the name of a generated fallback asset: rename it`);
        return 1;
      }
    }
    const { outputFiles } = await compiled;

    await rm(dist, { recursive: true, force: true });
    for (const output of outputFiles) {
      await mkdir(path.dirname(output.path), { recursive: true });
      await writeFile(output.path, output.contents);
    }
    await mkdir(path.join(dist, 'assets'), { recursive: true });
    for (const file of assets) {
      const target = path.join(dist, 'assets', path.relative(path.join(src, 'assets'), file));
      await mkdir(path.dirname(target), { recursive: true });
      await cp(file, target);
    }
    for (const file of [...made].sort()) await cp(path.join(generated, file), path.join(dist, 'assets', file));

    for (const output of outputFiles) console.log(`${path.relative(root, output.path)}  ${(output.contents.length / 1024).toFixed(1)} KiB`);
    return 0;
  } finally {
    await rm(generated, { recursive: true, force: true });
  }
}

process.exitCode = await main();
