/**
 * Routes: per-number settings for a service that answers many numbers. A
 * route matches the number a call reached (`To` inbound, the caller ID used
 * outbound) exactly or by prefix; the most specific match wins and numbers no
 * route claims use the environment's settings, the "default" route.
 *
 * Routes live in the private asset `routes.private.json`, validated as a
 * whole when loaded: a file with any error is not used at all.
 */
import { DEFAULT_ROUTE, Route, RouteError } from './route';
import { isObject, readRoute } from './route-reader';

/** Routes indexed for matching: exact numbers in one map, prefixes in another. */
export class RouteTable {
  private readonly exact = new Map<string, Route>();
  private readonly byPrefix = new Map<string, Route>();
  private longestPrefix = 0;

  constructor(readonly routes: readonly Route[]) {
    const names = new Set<string>();
    for (const route of routes) {
      const label = `"${route.name}"`;
      if (names.has(route.name)) throw new RouteError(label, 'name', 'is used by two routes');
      names.add(route.name);
      for (const number of route.numbers) {
        const other = this.exact.get(number);
        if (other) throw new RouteError(label, 'numbers', `has ${number}, which route "${other.name}" has too`);
        this.exact.set(number, route);
      }
      for (const prefix of route.prefixes) {
        const other = this.byPrefix.get(prefix);
        if (other) throw new RouteError(label, 'prefixes', `has ${prefix}, which route "${other.name}" has too`);
        this.byPrefix.set(prefix, route);
        this.longestPrefix = Math.max(this.longestPrefix, prefix.length);
      }
    }
  }

  /** Exact number first, then the longest matching prefix, then the default route. */
  match(number: string): Route {
    const exact = this.exact.get(number);
    if (exact) return exact;
    for (let length = Math.min(number.length, this.longestPrefix); length >= 2; length -= 1) {
      const route = this.byPrefix.get(number.slice(0, length));
      if (route) return route;
    }
    return DEFAULT_ROUTE;
  }
}

export const EMPTY_ROUTES = new RouteTable([]);

/** Parses and validates a routes file. Throws {@link RouteError} naming the route and field. */
export function parseRoutes(text: string): RouteTable {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new RouteError('file', '(JSON)', `is not valid JSON: ${error instanceof Error ? error.message : 'parse error'}`);
  }
  if (!isObject(json)) throw new RouteError('file', '(top level)', 'must be an object with a "routes" list');
  for (const key of Object.keys(json))
    if (key !== 'routes' && key !== '$comment') throw new RouteError('file', key, 'is not a known key (known: routes)');
  if (!Array.isArray(json.routes)) throw new RouteError('file', 'routes', 'must be a list');
  return new RouteTable(json.routes.map(readRoute));
}

/** The outcome of loading routes: a table to use, and the error that made it the empty one. */
export interface LoadedRoutes {
  table: RouteTable;
  error?: string;
}

/** The route of that name (a call's `twilio.route`), when the file still has it. */
export function routeNamed(loaded: LoadedRoutes, name: string | undefined): Route | undefined {
  return loaded.table.routes.find((r) => r.name === name);
}

/** Loads routes from a reader of the file's text (undefined when there is no file). Never throws. */
export function loadRoutes(readText: () => string | undefined): LoadedRoutes {
  let text: string | undefined;
  try {
    text = readText();
  } catch {
    return { table: EMPTY_ROUTES, error: 'routes file could not be read' };
  }
  if (text === undefined) return { table: EMPTY_ROUTES };
  try {
    return { table: parseRoutes(text) };
  } catch (error) {
    return { table: EMPTY_ROUTES, error: error instanceof RouteError ? error.message : 'routes file could not be parsed' };
  }
}
