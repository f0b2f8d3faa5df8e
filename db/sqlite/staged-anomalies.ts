import { contextError, type SqliteDb } from '../connection.js';
import { anomalyValues } from '../anomalies.js';
import { ANOMALY_COLUMN_NAMES, ANOMALY_COLUMNS, SQL_TYPES, type AnomalyRow } from '../anomaly-columns.js';
import { prepared } from './statement-cache.js';

// A file's anomalies are written in two steps, so that the write lock is held only for the part
// that needs it (see record-file.ts):
//  1. `stageAnomalies`, before the lock: every row is made, checked and bound into a TEMP table of
//     this connection. TEMP tables live in a temporary file of their own (temp_store = FILE, set
//     at open), with their own page cache, so 500k staged rows cost disk, not heap; and writing
//     them takes no lock on the database, so readers and other writers carry on.
//  2. `insertStagedAnomalies`, under the lock: one INSERT … SELECT copies them into `anomalies`
//     inside SQLite, with no call back into JavaScript per row.
// The stage has the constraints of `anomalies`, so a bad row is refused at step 1, naming it.
const CREATE_STAGE = `CREATE TEMP TABLE IF NOT EXISTS staged_anomalies (
  ${ANOMALY_COLUMNS.map((c) => `${c.column} ${SQL_TYPES[c.kind].sqlite}${c.required ? ' NOT NULL' : ''}`).join(',\n  ')}
)`;

const STAGED_COLUMNS = ANOMALY_COLUMN_NAMES.join(', ');

// Positional parameters: binding the values in order makes no object per row.
const STAGE_ANOMALY = `INSERT INTO temp.staged_anomalies (${STAGED_COLUMNS}) VALUES (${ANOMALY_COLUMNS.map(() => '?').join(', ')})`;
const CLEAR_STAGE = `DELETE FROM temp.staged_anomalies`;
const COUNT_STAGED = `SELECT count(*) FROM temp.staged_anomalies`;
// In staging order (the rowid), which is the file's row order.
const INSERT_STAGED = `INSERT INTO main.anomalies (file_id, ${STAGED_COLUMNS}) SELECT ?, ${STAGED_COLUMNS} FROM temp.staged_anomalies ORDER BY rowid`;

// The stage is written once from start to end and read once in order, so a small cache serves
// it: 2 MiB instead of the 16 MiB every attached database gets by default.
const STAGE_CACHE_KIB = 2048;

// Made on first use by each connection; IF NOT EXISTS makes it a no-op after that. Not remembered
// on the JS side: a caller's transaction that rolls back takes the table's creation with it.
function ensureStage(db: SqliteDb): void {
  prepared(db.raw, CREATE_STAGE).run();
  db.raw.pragma(`temp.cache_size = -${STAGE_CACHE_KIB}`);
}

/**
 * Stages `rows` for `insertStagedAnomalies`, replacing whatever was staged before, and returns how
 * many there are. Takes no lock on the database: call it before the write transaction. All or
 * none: a row that is refused (a NaN in its explanation, a missing value in a NOT NULL column)
 * leaves nothing staged and throws, naming it (`source`, the file's path, says whose it is).
 */
export function stageAnomalies(db: SqliteDb, rows: Iterable<AnomalyRow>, source?: string): number {
  ensureStage(db);
  const stage = prepared<[unknown[]]>(db.raw, STAGE_ANOMALY);
  // A transaction on TEMP alone: one commit for all the rows, and no lock on the main database.
  return db.raw.transaction((): number => {
    prepared(db.raw, CLEAR_STAGE).run();
    let i = 0;
    for (const row of rows) {
      i++;
      try {
        // SQLite stores NaN as NULL, which the NOT NULL columns then refuse with a message naming the column.
        stage.run(anomalyValues(row));
      } catch (error) {
        throw contextError(`${db.name}: anomaly ${i}${source === undefined ? '' : ` of ${source}`} (uid ${row.uid ?? 'unset'}, ts ${row.ts})`, error);
      }
    }
    return i;
  })();
}

/**
 * Inserts the staged rows as file `fileId`'s anomalies, in the order they were staged, with one
 * statement, and returns how many went in. It opens no transaction: the caller wraps it with the
 * file's own row (see record-file.ts), so that both are written or neither. The stage is left as
 * it was; `clearStagedAnomalies` empties it.
 */
export function insertStagedAnomalies(db: SqliteDb, fileId: number): number {
  ensureStage(db);
  try {
    return prepared<[number]>(db.raw, INSERT_STAGED).run(fileId).changes;
  } catch (error) {
    throw contextError(`${db.name}: inserting the anomalies of file ${fileId}`, error);
  }
}

/** How many rows are staged. */
export function countStagedAnomalies(db: SqliteDb): number {
  ensureStage(db);
  return prepared<[], number>(db.raw, COUNT_STAGED).pluck().get() ?? 0;
}

/** Empties the stage, so its rows do not sit in the temporary file until the next file. */
export function clearStagedAnomalies(db: SqliteDb): void {
  ensureStage(db);
  prepared(db.raw, CLEAR_STAGE).run();
}
