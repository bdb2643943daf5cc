/**
 * Routes from the private asset `routes.private.json` (deployed with the
 * service, invisible to the public), read once per cold start. A broken file
 * is reported once, when it is read, and the empty table is used instead.
 */
import { logLine } from '../util/log';
import { LoadedRoutes, loadRoutes } from './routes';

/** The key under which Runtime.getAssets() lists `assets/routes.private.json`. */
export const ROUTES_ASSET = '/routes.json';

function readAsset(): string | undefined {
  // Absent outside the Functions runtime (plain Node, unit tests).
  if (typeof Runtime === 'undefined') return undefined;
  return Runtime.getAssets()[ROUTES_ASSET]?.open();
}

let loaded: LoadedRoutes | undefined;

export function routesFromAssets(): LoadedRoutes {
  if (!loaded) {
    loaded = loadRoutes(readAsset);
    if (loaded.error) logLine({ fn: 'routes', outcome: 'ignored', reason: loaded.error }, 'error');
  }
  return loaded;
}
