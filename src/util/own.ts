/**
 * Lookups by a name that came from outside (a request, a token, a file).
 * A plain object answers `constructor`, `toString` or `__proto__` from its
 * prototype, so `table[name]` for such a name is a function, not "absent";
 * and `out[name] = value` with `__proto__` silently writes nothing.
 */

/** The record's own value for `key`, or undefined: never one inherited from Object.prototype. */
export function own<V>(record: Readonly<Record<string, V>> | undefined, key: string): V | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}
