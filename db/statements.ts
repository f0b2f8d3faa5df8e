import type { Database, Statement } from 'better-sqlite3';

// Preparing compiles the SQL; the service runs the same few statements for every file and every
// query, so each is compiled once per connection. A WeakMap keyed by the connection lets a closed
// and dropped connection take its statements with it.
const caches = new WeakMap<Database, Map<string, Statement>>();

/**
 * The prepared statement for `sql` on `db`, compiled on first use. `sql` must be a constant (or
 * built only from constant fragments): values always go in as bound parameters.
 */
export function prepared<Params extends unknown[] | object = unknown[], Row = unknown>(
  db: Database,
  sql: string,
): Statement<Params extends unknown[] ? Params : [Params], Row> {
  let cache = caches.get(db);
  if (cache === undefined) {
    cache = new Map();
    caches.set(db, cache);
  }
  let statement = cache.get(sql);
  if (statement === undefined) {
    statement = db.prepare(sql);
    cache.set(sql, statement);
  }
  return statement as unknown as Statement<Params extends unknown[] ? Params : [Params], Row>;
}

/** `error`'s message, with `context` (the database file, the key and the value at fault) in front. */
export function contextError(context: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`${context}: ${message}`, { cause: error });
}

/** `limit` as bound to `LIMIT ?`: a whole number of 1 or more, or -1 (none) when not given. */
export function checkedLimit(db: Database, limit: number | undefined): number {
  if (limit === undefined) return -1;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`${db.name}: limit is ${limit}; expected a whole number of 1 or more`);
  return limit;
}
