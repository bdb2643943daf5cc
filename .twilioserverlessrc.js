// twilio-run and `twilio serverless:*` look for their settings under the name
// "twilioserverless"; the project keeps them in .twilioserviceconfig, so this
// file only hands that file over. Edit .twilioserviceconfig, not this.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

module.exports = JSON.parse(readFileSync(join(__dirname, '.twilioserviceconfig'), 'utf8'));
