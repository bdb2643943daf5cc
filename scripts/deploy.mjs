#!/usr/bin/env node
// `npm run deploy`: the project's own `twilio-run deploy` with the arguments
// given; .twilioserverlessrc.js still builds and runs the preflight first.
// On a clone without `npm ci` it says so and exits 1 instead of a stack
// trace, and the signals that stop it reach twilio-run (./start.mjs).
//   node scripts/deploy.mjs [twilio-run deploy arguments...]
import { runTwilioRun } from './start.mjs';

runTwilioRun('deploy', process.argv.slice(2));
