/**
 * A copy of the project in a temporary folder, as a fresh clone after
 * `npm ci` would be (no dist, node_modules linked), so deploy tests build,
 * write `.twiliodeployinfo` and break things without touching the checkout
 * that other suites are serving from.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './twilio-run';

const COPIED = [
  'package.json',
  '.twilioserviceconfig',
  '.twilioserverlessrc.js',
  '.env.example',
  'tsconfig.json',
  'scripts',
  'src',
  'routes.example.json',
];

export interface CopyOptions {
  /** Changes to package.json before it is written. */
  packageJson?: (pkg: { dependencies: Record<string, string> }) => void;
  /** `.env` text; none when undefined. */
  env?: string;
}

export function copyProject(options: CopyOptions = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'project-copy-'));
  for (const name of COPIED) cpSync(path.join(ROOT, name), path.join(dir, name), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  if (options.packageJson) {
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    options.packageJson(pkg);
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  }
  if (options.env !== undefined) writeFileSync(path.join(dir, '.env'), options.env);
  return dir;
}

export function envText(values: Record<string, string>): string {
  return (
    Object.entries(values)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n'
  );
}

export interface Ran {
  status: number | null;
  output: string;
}

/** Runs a command to completion, collecting stdout and stderr together. */
export function runCommand(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<Ran> {
  return new Promise((resolve) => {
    let output = '';
    const child: ChildProcess = spawn(command, args, {
      cwd,
      env: { ...process.env, CI: 'true', FORCE_COLOR: '0', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}
