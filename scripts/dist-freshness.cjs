// Whether dist/ is missing or older than src/: the build then has to run
// before anything serves or ships it. Shared by .twilioserverlessrc.js and
// the test setup.
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

function newest(dir) {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { withFileTypes: true }).reduce((max, entry) => {
    const full = join(dir, entry.name);
    return Math.max(max, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }, 0);
}

function isStale(root, functionsFolder = 'dist/functions') {
  return !existsSync(join(root, functionsFolder)) || newest(join(root, 'src')) > newest(join(root, 'dist'));
}

module.exports = { isStale };
