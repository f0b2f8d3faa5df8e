import { join } from 'node:path';
import type { Db } from './connection.js';
import { openPostgres } from './postgres/open-postgres.js';
import { isPostgresUrl, redactedUrl } from './postgres/postgres-db.js';
import { openSqlite } from './sqlite/open-sqlite.js';

/** The database's name inside the data directory, when no `--db` is given. */
export const DEFAULT_DATABASE_NAME = 'zeek-anomaly.sqlite';

export function defaultDatabasePath(dataDir: string): string {
  return join(dataDir, DEFAULT_DATABASE_NAME);
}

export interface OpenDatabaseOptions {
  /**
   * For the query commands and the dashboard: opens an existing store without writing to it (no
   * migration). A reader never blocks the service, nor the service it.
   */
  readonly?: boolean;
}

/** `target` (config `db`) as it may be shown or logged: a PostgreSQL URL without its password. */
export function storeName(target: string): string {
  return isPostgresUrl(target) ? redactedUrl(target) : target;
}

export { isPostgresUrl };

/**
 * Opens the store `target` names: a `postgres://` URL, or else a SQLite file (created, with its
 * folder, if need be; `:memory:` for one in memory). Its schema is brought up to date, unless
 * `readonly`. Throws, naming the store, when it is not zeek-anomaly's, or is newer than this code.
 */
export function openDatabase(target: string, options: OpenDatabaseOptions = {}): Db {
  return isPostgresUrl(target) ? openPostgres(target, options) : openSqlite(target, options);
}
