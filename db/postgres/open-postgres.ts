import type { PostgresDb } from '../connection.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../migrations.js';
import { connectPostgres } from './postgres-db.js';

// Every process that opens the store migrates it under this lock, so two starting at once do not
// both create the tables.
const MIGRATION_LOCK = 'zeek-anomaly/migrations';

/**
 * Connects to the PostgreSQL store at `url` and brings its schema up to date (with `readonly`,
 * checks that it is). Throws, naming the store, when the database holds tables that are not
 * zeek-anomaly's or a schema newer than this code knows.
 */
export function openPostgres(url: string, options: { readonly?: boolean } = {}): PostgresDb {
  const db = connectPostgres(url);
  try {
    if (options.readonly === true) {
      // The query commands and the dashboard: a slip in db/ cannot write through them.
      db.run('SET default_transaction_read_only = on');
      const version = schemaVersion(db);
      if (version < SCHEMA_VERSION) {
        throw new Error(
          version === 0
            ? `${db.name} holds no zeek-anomaly store yet: score or watch some logs into it first`
            : `${db.name}: the store's schema is version ${version}, older than this zeek-anomaly needs (${SCHEMA_VERSION}); run score or watch once to upgrade it`,
        );
      }
      refuseNewer(db, version);
    } else {
      migrate(db);
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: PostgresDb): void {
  db.transaction(MIGRATION_LOCK, () => {
    db.run(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const version = schemaVersion(db);
    refuseNewer(db, version);
    if (version === 0) refuseForeignTables(db);
    for (const migration of MIGRATIONS) {
      if (migration.version <= version) continue;
      try {
        if (migration.postgres !== null) db.exec(migration.postgres);
      } catch (error) {
        throw new Error(`${db.name}: migration ${migration.version} (${migration.name}) failed: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      }
      db.run('INSERT INTO schema_migrations (version, name) VALUES (?, ?)', [migration.version, migration.name]);
    }
  });
}

function schemaVersion(db: PostgresDb): number {
  const table = db.get<{ found: string | null }>(`SELECT to_regclass('schema_migrations')::text AS found`);
  if (table?.found == null) return 0;
  return db.get<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations')?.version ?? 0;
}

function refuseNewer(db: PostgresDb, version: number): void {
  if (version > SCHEMA_VERSION) {
    throw new Error(`${db.name}: the store's schema is version ${version}, newer than this zeek-anomaly knows (${SCHEMA_VERSION}); upgrade zeek-anomaly or use another --db`);
  }
}

/** Tables of ours' names in a database that has no record of our migrations belong to something else. */
function refuseForeignTables(db: PostgresDb): void {
  const clashing = db
    .all<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
       WHERE table_schema = current_schema() AND table_name IN ('files', 'anomalies', 'findings', 'models', 'context_state') ORDER BY 1`,
    )
    .map((row) => row.name);
  if (clashing.length > 0) {
    throw new Error(`${db.name} already has tables named ${clashing.join(', ')} that zeek-anomaly did not make; use another database (or schema) for its store`);
  }
}
