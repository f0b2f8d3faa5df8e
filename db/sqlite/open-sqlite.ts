import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import type { SqliteDb } from '../connection.js';
import { MIGRATIONS, SCHEMA_VERSION, type Migration } from '../migrations.js';
import { sqliteDb } from './sqlite-db.js';

// How long a connection waits for a lock before it gives up with SQLITE_BUSY. In WAL, writers
// wait for each other: storing a 10M-row file's 500k anomalies holds the write lock for seconds
// (docs/benchmarks.md), and a second `score` beside the service must outwait that, not fail.
// Readers need no lock in WAL, except for the moments SQLite locks the whole file (recovering the
// WAL after a crash, checkpointing it as the last connection closes): they wait as long.
const BUSY_TIMEOUT_MS = 60_000;

/**
 * Opens (creating it and its folder if need be) the SQLite database at `file`, brings its schema
 * up to date, and sets the connection up for one writing service and many readers.
 * Throws, naming the file, when it is not a SQLite database, is not zeek-anomaly's, or has a
 * schema newer than this code knows.
 *
 * `readonly`, for the query commands: no migration, no pragma that writes. In WAL a reader never
 * blocks the service, and the service's writes never block it; where SQLite does lock it out for a
 * moment, it waits (the busy timeout) rather than fails.
 */
export function openSqlite(file: string, options: { readonly?: boolean } = {}): SqliteDb {
  const readonly = options.readonly === true;
  const inMemory = file === ':memory:' || file === '';
  if (readonly && !inMemory && !existsSync(file)) throw new Error(`no database at ${file}: score or watch some logs first`);
  // SQLite would say only "disk I/O error" (or "unable to open database file") for a folder.
  if (!inMemory && existsSync(file) && statSync(file).isDirectory()) throw new Error(`${file} is a directory; --db (or db) names the SQLite file, e.g. ${join(file, 'zeek-anomaly.sqlite')}`);
  if (!readonly && !inMemory) mkdirSync(dirname(file), { recursive: true });

  let db: Database;
  try {
    db = new BetterSqlite3(file, readonly ? { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS } : { timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw openError(file, error);
  }
  try {
    // Everything that decides whether this file is ours only reads it: a file that is refused
    // must be left byte for byte as it was (no journal mode switched, no -wal or -shm beside it).
    // Reading user_version reads the header, so a file that is not a database fails here.
    const version = userVersion(db);
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `${file}: the database schema is version ${version}, newer than this zeek-anomaly knows (${SCHEMA_VERSION}); upgrade zeek-anomaly or use another --db`,
      );
    }
    if (version === 0) refuseForeignTables(db, file);
    if (readonly) {
      // A reader cannot migrate; the service (or score) does it when it next opens the file.
      if (version < SCHEMA_VERSION) {
        throw new Error(
          version === 0
            ? `${file} is an empty database, not one zeek-anomaly has written to: score or watch some logs first, or use another --db`
            : `${file}: the database schema is version ${version}, older than this zeek-anomaly needs (${SCHEMA_VERSION}); run score or watch once to upgrade it`,
        );
      }
    }
    // Only now, with the file known to be ours (or empty), is anything written to it.
    configure(db, file, readonly, inMemory);
    if (!readonly) migrate(db, file, MIGRATIONS);
    return sqliteDb(db);
  } catch (error) {
    db.close();
    throw openError(file, error);
  }
}

function configure(db: Database, file: string, readonly: boolean, inMemory: boolean): void {
  if (!readonly) {
    // WAL: readers see a snapshot and never block the writer, nor it them, so `anomalies` can run
    // beside the service. The mode is stored in the file, so read-only connections get it too.
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal' && !inMemory) {
      throw new Error(`${file}: could not switch to WAL (journal mode is '${String(mode)}'); the service needs it so readers do not block it`);
    }
    // NORMAL is safe in WAL: a commit is appended to the WAL file before COMMIT returns, so it
    // survives the process crashing; only the fsync at checkpoints is kept. An OS crash or power
    // loss may lose the last few commits, but never corrupts the database. It saves an fsync per
    // transaction, that is per file scored.
    db.pragma('synchronous = NORMAL');
    // A file's anomalies are staged in a TEMP table before the write lock is taken
    // (db/anomalies.ts): on disk, in a temporary file SQLite deletes on close, so half a million
    // staged rows cost no heap. FILE is the build's default; said here so no build changes it.
    db.pragma('temp_store = FILE');
  }
  // Off by default in SQLite, per connection: without it, anomalies could point at no file and
  // deleting a file row would not cascade to its anomalies.
  db.pragma('foreign_keys = ON');
}

/**
 * Applies the migrations newer than the file's `user_version`, each in its own transaction with
 * the version bump, so a crash leaves the schema at one version or the next, never half-way.
 */
function migrate(db: Database, file: string, migrations: readonly Migration[]): void {
  // Up to date, the usual case: nothing to write, so no lock to take. Taking the write lock only
  // to find that out would make every open wait out another process's longest transaction.
  if (userVersion(db) >= migrations.length) return;
  for (const migration of migrations) {
    // IMMEDIATE takes the write lock before reading the version: two processes opening a new
    // file at once cannot both see version 0 and both create the tables.
    db.transaction(() => {
      if (userVersion(db) >= migration.version) return;
      try {
        db.exec(migration.sqlite);
      } catch (error) {
        throw new Error(`${file}: migration ${migration.version} (${migration.name}) failed: ${messageOf(error)}`, { cause: error });
      }
      // PRAGMA takes no bound parameters; the version is an integer from the code (checked by latestVersion).
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}

function userVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** A version-0 file with tables belongs to something else: adding ours to it would mix the two. */
function refuseForeignTables(db: Database, file: string): void {
  const tables = db
    .prepare<[], string>(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
    .pluck()
    .all();
  if (tables.length > 0) {
    throw new Error(`${file} is a SQLite database, but not zeek-anomaly's (it has the tables ${tables.join(', ')} and no schema version); use another --db`);
  }
}

function openError(file: string, error: unknown): Error {
  const code = (error as { code?: unknown }).code;
  if (code === 'SQLITE_NOTADB') return new Error(`${file} is not a SQLite database (${messageOf(error)}); use another --db`, { cause: error });
  if (code === 'SQLITE_CORRUPT') return new Error(`${file}: the database is corrupt (${messageOf(error)})`, { cause: error });
  if (code === 'SQLITE_CANTOPEN') return new Error(`${file}: cannot open the database (${messageOf(error)})`, { cause: error });
  // Our own errors already name the file.
  if (error instanceof Error && error.message.includes(file)) return error;
  return new Error(`${file}: ${messageOf(error)}`, { cause: error });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
