// Validates a routes file with the service's own parser, so a broken file
// is caught before deploy (the service would otherwise ignore it at run time).
//   node scripts/check-routes.mjs [src/assets/routes.private.json]
import { build } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Returns undefined when the file is valid or absent, else the error message. */
export async function checkRoutesFile(file) {
  if (!existsSync(file)) return undefined;
  const { outputFiles } = await build({
    entryPoints: [path.join(root, 'src', 'lib', 'routes.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    logLevel: 'silent',
  });
  const module = { exports: {} };
  new Function('module', 'exports', 'require', outputFiles[0].text)(module, module.exports, createRequire(import.meta.url));
  try {
    const table = module.exports.parseRoutes(readFileSync(file, 'utf8'));
    console.log(`${path.relative(process.cwd(), file)}: ${table.routes.length} routes, valid`);
    return undefined;
  } catch (error) {
    return error.message;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = path.resolve(process.argv[2] ?? path.join(root, 'src', 'assets', 'routes.private.json'));
  const error = await checkRoutesFile(file);
  if (error) {
    console.error(`${path.relative(process.cwd(), file)}: ${error}`);
    process.exit(1);
  }
}
