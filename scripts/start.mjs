#!/usr/bin/env node
// `npm start`: the project's own twilio-run, `twilio-run start` with the
// arguments given (the build hook in .twilioserverlessrc.js runs as before).
//   node scripts/start.mjs [twilio-run start arguments...]
//
// Two things a bare `twilio-run start` script did not do:
// - It needs nothing installed: on a clone without `npm ci` it says so in
//   one line and exits 1, instead of a shell's "not found" or a Node stack
//   trace (ERR_MODULE_NOT_FOUND) from the build.
// - The signals that stop it reach twilio-run. npm hands SIGTERM to the
//   shell it ran the script in, which dies without passing it on, and
//   twilio-run went on serving port 3000. Here SIGINT, SIGTERM and SIGHUP
//   are forwarded, twilio-run is killed outright if it has not gone 5 s
//   later, and should this wrapper's parent (npm, its shell) die, twilio-run
//   is stopped too. It exits as twilio-run did.
//
// scripts/deploy.mjs runs `twilio-run deploy` through the same code.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { installedDir, refuseWithoutInstall } from './installed.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const GRACE_MS = 5000;

/** Runs `twilio-run <command> ...args` in the project, and exits as it does. */
export function runTwilioRun(command, args) {
  // What twilio-run and the hooks it runs (.twilioserverlessrc.js: scripts/build.mjs, scripts/run-ts.mjs) load.
  refuseWithoutInstall(`npm ${command === 'start' ? 'start' : `run ${command}`}`, [
    'twilio-run',
    'esbuild',
    'twilio',
    'livekit-server-sdk',
  ]);
  // A settings file the tools read before .twilioserverlessrc.js would skip the build and the preflight: refused first.
  const guard = spawnSync(process.execPath, [path.join(root, 'scripts', 'predeploy.mjs'), '--config-sources', command, ...args], {
    cwd: root,
    stdio: 'inherit',
  });
  if (guard.status !== 0) process.exit(1);
  const bin = path.join(installedDir('twilio-run'), 'bin', 'twilio-run.js');
  const child = spawn(process.execPath, [bin, command, ...args], { cwd: root, stdio: 'inherit' });

  let killer;
  const stop = (signal) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      child.kill(signal);
    } catch {
      child.kill();
    }
    killer ??= setTimeout(() => child.kill('SIGKILL'), GRACE_MS);
    killer.unref();
  };
  for (const signal of SIGNALS) process.on(signal, () => stop(signal));
  // npm's shell may die of a signal it does not pass on; this process is then someone else's child.
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid !== parent) stop('SIGTERM');
  }, 250);
  watch.unref();

  child.on('error', (error) => {
    console.error(`could not run twilio-run (${bin}): ${error.message}; run npm ci first`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    clearInterval(watch);
    if (killer) clearTimeout(killer);
    if (code !== null) process.exit(code);
    // Ended by a signal: end the same way, so the shell and npm see it.
    for (const s of SIGNALS) process.removeAllListeners(s);
    process.kill(process.pid, signal ?? 'SIGTERM');
    process.exit(1);
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) runTwilioRun('start', process.argv.slice(2));
