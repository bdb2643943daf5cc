// twilio-run and `twilio serverless:*` look for their settings under the name
// "twilioserverless"; the project keeps them in .twilioserviceconfig, so this
// file hands that file over. Edit .twilioserviceconfig, not this.
//
// It also guards the deploy, whichever way it is started (`npm run deploy`,
// `twilio-run deploy`, `twilio serverless:deploy`): the tools read this file
// before they upload anything, so here the current source is built (with the
// settings file the deploy uploads, for the fallback TwiML) and the preflight
// run, and a deploy that would fail on Twilio or ship an empty or stale build
// stops before it starts. `promote` (`activate`) is preflighted too: it
// uploads Variables to its target. `start` builds when dist is missing or
// older than src.
//
// It guards only when the tools read it: a package.json "twilioserverless"
// key, or a .twilioserverlessrc, .twilioserverlessrc.json, .yaml or .yml file,
// is read first and this file never is (src/deploy/config-sources.ts). The
// doctor and the build refuse those; so does `node scripts/predeploy.mjs
// --config-sources`, run by npm before `npm run deploy` when package.json
// names it as the "predeploy" script.
const { spawnSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { isStale } = require('./scripts/dist-freshness.cjs');

const config = JSON.parse(readFileSync(join(__dirname, '.twilioserviceconfig'), 'utf8'));
const args = process.argv.slice(2);
const command = args.find((a) => /^(serverless:)?(deploy|start|promote|activate)$/.test(a))?.replace('serverless:', '');

function run(script, scriptArgs) {
  const result = spawnSync(process.execPath, [join(__dirname, 'scripts', script), ...scriptArgs], { stdio: 'inherit', cwd: __dirname });
  if (result.status !== 0) process.exit(1);
}

// The tools read this file more than once per command; do the work once.
if (command && !globalThis.__livekitConnectorPrepared) {
  globalThis.__livekitConnectorPrepared = true;
  if (command !== 'start') run('predeploy.mjs', args);
  else if (isStale(__dirname, config.functionsFolder)) run('build.mjs', []);
}

module.exports = config;
