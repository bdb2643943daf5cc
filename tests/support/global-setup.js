// Before any suite starts: build dist/ once if it is missing or older than
// src/, so that twilio-run processes started side by side never each rebuild
// it while another serves it.
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { isStale } = require('../../scripts/dist-freshness.cjs');

module.exports = async () => {
  const root = path.resolve(__dirname, '..', '..');
  if (isStale(root)) execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
};
