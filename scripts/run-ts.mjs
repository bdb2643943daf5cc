#!/usr/bin/env node
// Runs one of the project's TypeScript command-line tools: bundles it with
// esbuild (about 100 ms) and runs the result with the arguments given. On a
// clone without `npm ci` it says so (./installed.mjs) before loading esbuild.
//   node scripts/run-ts.mjs src/deploy/doctor-cli.ts [args...]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { refuseWithoutInstall } from './installed.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Runs the tool and returns its exit status. */
export async function runTs(entry, args = [], options = {}) {
  // The bundler, and what the tools bundle from node_modules.
  const what = process.env.npm_lifecycle_event ? `npm run ${process.env.npm_lifecycle_event}` : `node scripts/run-ts.mjs ${entry}`;
  refuseWithoutInstall(what, ['esbuild', 'twilio', 'livekit-server-sdk']);
  const { build } = await import('esbuild');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'run-ts-'));
  const outfile = path.join(dir, 'tool.cjs');
  try {
    await build({
      entryPoints: [path.resolve(root, entry)],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      // The twilio helper stays a require: it is large and installed anyway.
      external: ['twilio'],
      nodePaths: [path.join(root, 'node_modules')],
      logLevel: 'warning',
    });
    const result = spawnSync(process.execPath, [outfile, ...args], {
      stdio: options.stdio ?? 'inherit',
      cwd: options.cwd ?? root,
      env: { ...process.env, NODE_PATH: path.join(root, 'node_modules') },
    });
    return result.status ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [entry, ...args] = process.argv.slice(2);
  if (!entry) {
    console.error('usage: node scripts/run-ts.mjs <entry.ts> [args...]');
    process.exit(2);
  }
  process.exit(await runTs(entry, args));
}
