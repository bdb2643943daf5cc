/**
 * What a deploy would upload, as the project's own files describe it:
 * .twilioserviceconfig (runtime, service name, environment, folders) and
 * package.json's dependencies, with the deploy's own arguments on top.
 * The preflight and the doctor judge the same target.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_RUNTIME } from './platform';
import type { DeployTarget } from './preflight';

/** The paths of the functions in a folder: file names without extension or visibility suffix. */
export function functionPaths(folder: string, prefix = ''): string[] {
  let entries;
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    if (entry.isDirectory()) return functionPaths(path.join(folder, entry.name), `${prefix}/${entry.name}`);
    if (!/\.(js|ts)$/.test(entry.name) || entry.name.endsWith('.d.ts')) return [];
    return [`${prefix}/${entry.name.replace(/\.(js|ts)$/, '').replace(/\.(protected|private)$/, '')}`];
  });
}

export interface TargetOverrides {
  runtime?: string;
  serviceName?: string;
  /** Domain suffix; '' for production. */
  environment?: string;
  /** Where the functions are counted: the built folder for a deploy, src/functions for the doctor. */
  functionsFolder?: string;
}

export function readDeployTarget(root: string, overrides: TargetOverrides = {}): DeployTarget {
  const config = JSON.parse(readFileSync(path.join(root, '.twilioserviceconfig'), 'utf8')) as Record<string, unknown>;
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    dependencies: pkg.dependencies ?? {},
    runtime: overrides.runtime ?? str(config.runtime) ?? DEFAULT_RUNTIME,
    serviceName: overrides.serviceName ?? str(config.serviceName) ?? '',
    // twilio-run's default environment is "dev".
    environment: overrides.environment ?? str(config.environment) ?? 'dev',
    functionPaths: functionPaths(path.join(root, overrides.functionsFolder ?? str(config.functionsFolder) ?? 'functions')),
  };
}
