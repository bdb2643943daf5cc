/**
 * Which settings file the deploy tools read, and whether it is the one that
 * builds and preflights the deploy. twilio-run looks for its settings with
 * cosmiconfig under the name "twilioserverless" (twilio-run
 * dist/config/utils/configLoader.js) and takes the first place that holds
 * something, in this order, in the project folder:
 *
 * 1. package.json's `twilioserverless` key;
 * 2. `.twilioserverlessrc` (JSON5, what create-twilio-function writes);
 * 3. `.twilioserverlessrc.json` (JSON5);
 * 4. `.twilioserverlessrc.yaml`, then `.twilioserverlessrc.yml`;
 * 5. `.twilioserverlessrc.js`: the project's own, which builds and runs the
 *    preflight before anything is uploaded.
 *
 * That is cosmiconfig's search order both in twilio-run 5.0.1 (cosmiconfig
 * 8.3.6, `npm run deploy`) and in the 3.5.4 the Twilio CLI's serverless
 * plugin bundles (cosmiconfig 7.1.0, `twilio serverless:deploy`). A file
 * holding only whitespace (or, in YAML, only comments) is passed over; a
 * package.json key counts in 8.x unless null, in 7.x only when truthy.
 * cosmiconfig 8 also reads a "meta config" first, in the current folder:
 * package.json's `cosmiconfig` key or a `.config.{json,yaml,yml,js,ts,cjs,mjs}`
 * file, whose `cosmiconfig.searchPlaces` replace the list above and whose
 * `twilioserverless` key is taken before all of it.
 *
 * Any of these before `.twilioserverlessrc.js` means a deploy that never
 * loads it: no build, no preflight, functions looked for in `functions/` or
 * `src/` instead of `dist/functions`, and the service named after
 * package.json. Nothing the project ships runs in that deploy, so the
 * doctor, the build and the deploy's npm hook refuse such a file instead.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const GUARD_FILE = '.twilioserverlessrc.js';
const MODULE = 'twilioserverless';

export type DeployTool = 'twilio-run 5' | 'twilio-run 3.5';
const BOTH: DeployTool[] = ['twilio-run 5', 'twilio-run 3.5'];

export interface ConfigSource {
  /** File name in the project folder; `package.json#twilioserverless` for a key. */
  source: string;
  /** The tools that read it before `.twilioserverlessrc.js`. */
  tools: DeployTool[];
  /** What it does to a deploy, and what to do about it. */
  problem: string;
}

export interface ConfigSources {
  /** Whether `.twilioserverlessrc.js` is there to be read at all. */
  guard: boolean;
  /** Every source read before it, in the order the tools look. */
  shadowing: ConfigSource[];
}

function fileText(root: string, name: string): string | undefined {
  const file = path.join(root, name);
  try {
    return statSync(file).isFile() ? readFileSync(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

/** Whether cosmiconfig would pass over the file as empty. */
function isEmpty(name: string, text: string): boolean {
  if (/\.ya?ml$/.test(name)) {
    // Only comments, blank lines and document markers load as nothing.
    return text.split(/\r?\n/).every((line) => /^\s*(#.*)?$/.test(line) || /^(---|\.\.\.)\s*$/.test(line));
  }
  return text.trim() === '';
}

function nameIn(root: string, file: string, key: string): string {
  try {
    const value = (JSON.parse(readFileSync(path.join(root, file), 'utf8')) as Record<string, unknown>)[key];
    return typeof value === 'string' ? value : '(none)';
  } catch {
    return '(none)';
  }
}

function consequence(root: string): string {
  return (
    `so a deploy never loads ${GUARD_FILE}: it skips the build and the preflight, uploads no functions and no assets ` +
    `(it looks in functions/ or src/ and assets/ or static/, not dist/), and unless the file names a service it deploys as ` +
    `"${nameIn(root, 'package.json', 'name')}", package.json's name, instead of "${nameIn(root, '.twilioserviceconfig', 'serviceName')}"`
  );
}

const toolsLabel = (tools: DeployTool[]) =>
  tools.length === 2
    ? 'the deploy tools (twilio-run and `twilio serverless:*`) read'
    : tools[0] === 'twilio-run 5'
      ? 'twilio-run 5 (`npm run deploy`, `npx twilio-run`) reads'
      : 'the Twilio CLI (`twilio serverless:*`) reads';

/**
 * The settings sources read before `.twilioserverlessrc.js` in `root` (the
 * project folder; also the folder the tools run in, for the meta config).
 */
export function findConfigSources(root: string): ConfigSources {
  const shadowing: ConfigSource[] = [];
  const add = (source: string, tools: DeployTool[], what: string, fix: string) =>
    shadowing.push({ source, tools, problem: `${what}: ${toolsLabel(tools)} it before ${GUARD_FILE}, ${consequence(root)}. ${fix}` });

  let pkg: Record<string, unknown> = {};
  try {
    pkg = JSON.parse(fileText(root, 'package.json') ?? '{}') as Record<string, unknown>;
  } catch {
    // An unreadable package.json stops every tool with its own error.
  }

  // cosmiconfig 8's meta config (twilio-run 5 only): package.json first, then .config.*.
  const metaKeys = (text: string, json: boolean): { cosmiconfig: boolean; module: boolean } => {
    if (json) {
      try {
        const value = JSON.parse(text) as Record<string, unknown>;
        return { cosmiconfig: value.cosmiconfig != null, module: value[MODULE] != null };
      } catch {
        return { cosmiconfig: false, module: false };
      }
    }
    return { cosmiconfig: /\bcosmiconfig\b/.test(text), module: new RegExp(`\\b${MODULE}\\b`).test(text) };
  };
  const metaFix = (source: string) =>
    `Remove the "cosmiconfig" and "${MODULE}" keys from ${source} (move any deploy settings into .twilioserviceconfig).`;
  let meta: string | undefined;
  if (pkg.cosmiconfig != null) meta = 'package.json';
  else {
    for (const name of ['.config.json', '.config.yaml', '.config.yml', '.config.js', '.config.ts', '.config.cjs', '.config.mjs']) {
      const text = fileText(root, name);
      if (text === undefined) continue;
      const keys = metaKeys(text, name.endsWith('.json'));
      if (keys.cosmiconfig || keys.module) meta = name;
      // The first .config.* file is the meta config, whatever it holds.
      break;
    }
  }
  if (meta) {
    const keys = meta === 'package.json' ? { cosmiconfig: true, module: false } : metaKeys(fileText(root, meta)!, meta.endsWith('.json'));
    if (keys.module) add(meta, ['twilio-run 5'], `${meta} has a "${MODULE}" key (cosmiconfig's meta config)`, metaFix(meta));
    if (keys.cosmiconfig)
      add(
        meta === 'package.json' ? 'package.json#cosmiconfig' : meta,
        ['twilio-run 5'],
        `${meta} has a "cosmiconfig" key (a meta config: its searchPlaces replace where settings are looked for)`,
        metaFix(meta),
      );
  }

  const value = pkg[MODULE];
  if (value != null) {
    add(
      `package.json#${MODULE}`,
      value ? BOTH : ['twilio-run 5'],
      `package.json has a "${MODULE}" key`,
      `Move what it sets into .twilioserviceconfig and remove the key.`,
    );
  }
  for (const name of [`.${MODULE}rc`, `.${MODULE}rc.json`, `.${MODULE}rc.yaml`, `.${MODULE}rc.yml`]) {
    const text = fileText(root, name);
    if (text === undefined || isEmpty(name, text)) continue;
    const written = name === `.${MODULE}rc` ? ' (the file create-twilio-function and `twilio-run` write)' : '';
    add(name, BOTH, `${name} is there${written}`, `Move what it sets into .twilioserviceconfig and delete it.`);
  }
  return { guard: existsSync(path.join(root, GUARD_FILE)), shadowing };
}

/** Every reason the project's build-and-preflight guard would not run, each saying what to do. */
export function configSourceProblems(sources: ConfigSources): string[] {
  const problems = sources.shadowing.map((s) => s.problem);
  if (!sources.guard) {
    problems.push(
      `${GUARD_FILE} is missing: the deploy tools would find none of the project's settings and deploy without the build and the preflight (restore it: git checkout -- ${GUARD_FILE})`,
    );
  }
  return problems;
}
