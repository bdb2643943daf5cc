// Whether `npm ci` has run and is current for what a script is about to
// load: a clone without it gets one line saying so and exit 1, instead of a
// shell's "not found" or a Node stack trace (ERR_MODULE_NOT_FOUND).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where `name` is installed for this project's scripts, as their imports find it, or undefined. */
export function installedDir(name) {
  let file;
  try {
    // As an `import` in scripts/ resolves it: node_modules upward from here, never NODE_PATH.
    file = fileURLToPath(import.meta.resolve(`${name}/package.json`));
  } catch {
    try {
      file = fileURLToPath(import.meta.resolve(name));
    } catch {
      return undefined;
    }
  }
  const marker = `${path.sep}node_modules${path.sep}${name}${path.sep}`;
  const at = file.lastIndexOf(marker);
  return at < 0 ? undefined : file.slice(0, at + marker.length - 1);
}

/** The problems with the named dependencies as installed: none when `npm ci` has run and is current. */
export function installProblems(needed) {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const pinned = { ...pkg.dependencies, ...pkg.devDependencies };
  const missing = [];
  const stale = [];
  for (const name of needed) {
    const dir = installedDir(name);
    if (!dir || !existsSync(path.join(dir, 'package.json'))) {
      missing.push(name);
      continue;
    }
    const want = pinned[name];
    const have = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
    if (typeof want === 'string' && /^\d+\.\d+\.\d+$/.test(want) && have !== want)
      stale.push(`${name} ${have} (package.json pins ${want})`);
  }
  const problems = [];
  if (missing.length) problems.push(`not installed: ${missing.join(', ')}`);
  if (stale.length) problems.push(`out of date: ${stale.join(', ')}`);
  return problems;
}

/** What to tell the user, as `what` (the command they typed), when the named dependencies are missing or stale; [] when installed. */
export function installAdvice(what, needed) {
  const problems = installProblems(needed);
  if (!problems.length) return [];
  return [`${what}: the project's dependencies are ${problems.join('; ')}.`, `Run npm ci first (in ${root}), then try again.`];
}

/** Says what is missing or stale and exits 1; returns when all is installed. */
export function refuseWithoutInstall(what, needed) {
  const advice = installAdvice(what, needed);
  if (!advice.length) return;
  for (const line of advice) console.error(line);
  process.exit(1);
}
