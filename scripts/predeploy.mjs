#!/usr/bin/env node
// Before a deploy or a promote (.twilioserverlessrc.js runs this with the
// command's own arguments): for a deploy, build the current source with the
// settings file the deploy uploads, then run the preflight; for a promote,
// the preflight of what it uploads and makes live. Exits non-zero, having
// uploaded nothing, when anything fails. Both refuse first a settings file
// the deploy tools would read instead of .twilioserverlessrc.js.
//   node scripts/predeploy.mjs deploy|promote [arguments...]
//   node scripts/predeploy.mjs --config-sources [deploy|start arguments...]
//     only that refusal (and of a --config naming another file), for what runs before the tools read
//     any settings and so even when .twilioserverlessrc.js is never read: npm's predeploy/prestart
//     hook, or the npm run deploy / npm start wrappers.
import { runTs } from './run-ts.mjs';

process.exit(
  await runTs('src/deploy/predeploy-cli.ts', process.argv.slice(2), { command: 'the deploy preflight (scripts/predeploy.mjs)' }),
);
