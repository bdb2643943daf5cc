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
import { installAdvice } from './installed.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Runs the tool and returns its exit status; 1, saying why, when the
 * bundler or what the tools bundle from node_modules is not installed.
 * `options.command` names what the user ran, for that message.
 */
export async function runTs(entry, args = [], options = {}) {
  const advice = installAdvice(options.command ?? `node scripts/run-ts.mjs ${entry}`, ['esbuild', 'twilio', 'livekit-server-sdk']);
  if (advice.length) {
    for (const line of advice) console.error(line);
    return 1;
  }
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
  // Run as an npm script (npm run doctor): named as the user typed it.
  const event = process.env.npm_lifecycle_event;
  process.exit(await runTs(entry, args, event && event !== 'npx' ? { command: `npm run ${event}` } : {}));
}
