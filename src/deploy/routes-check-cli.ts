/**
 * npm run routes:check [-- FILE]: validates a routes file with the service's
 * own parser. The build runs it too: at run time a broken file would be
 * ignored (every call on the default route), so it must not ship.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseRoutes } from '../config/routes';

const file = path.resolve(process.argv[2] ?? path.join('src', 'assets', 'routes.private.json'));
const shown = path.relative(process.cwd(), file);
if (!existsSync(file)) {
  console.log(`${shown}: no routes file; every number takes the default route`);
  process.exit(0);
}
try {
  const table = parseRoutes(readFileSync(file, 'utf8'));
  console.log(`${shown}: ${table.routes.length} routes, valid`);
} catch (error) {
  console.error(`${shown}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
