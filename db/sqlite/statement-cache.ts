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
