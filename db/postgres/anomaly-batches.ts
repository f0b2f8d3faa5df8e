import { contextError, type PostgresDb } from '../connection.js';
import { anomalyValues } from '../anomalies.js';
import { ANOMALY_COLUMN_NAMES, ANOMALY_COLUMNS, SQL_TYPES, type AnomalyRow } from '../anomaly-columns.js';

// Rows go to the server this many at a time, each batch one INSERT of arrays (unnest): a round
// trip per 5,000 rows rather than per row, and the batch in hand is all the memory it takes.
const BATCH_ROWS = 5000;

// One array per column, each cast to its type: PostgreSQL's fast path for many rows short of COPY.
const INSERT_BATCH = `
  INSERT INTO anomalies (file_id, ${ANOMALY_COLUMN_NAMES.join(', ')})
  SELECT ?, * FROM unnest(${ANOMALY_COLUMNS.map((c) => `?::${SQL_TYPES[c.kind].pgArray}[]`).join(', ')})`;

type Columns = unknown[][];

/**
 * Inserts `rows` as file `fileId`'s anomalies, in order, and returns how many went in. Opens no
 * transaction: the caller writes them with the file's own row. A row that would break a NOT NULL
 * column (a NaN score, a missing host) is refused before anything is sent, naming it.
 */
export function insertAnomalyBatches(db: PostgresDb, fileId: number, rows: Iterable<AnomalyRow>, source?: string): number {
  let columns: Columns = emptyColumns();
  let count = 0;
  const flush = (): void => {
    if (columns[0]!.length === 0) return;
    try {
      db.run(INSERT_BATCH, [fileId, ...columns]);
    } catch (error) {
      throw contextError(`${db.name}: inserting anomalies ${count - columns[0]!.length + 1} to ${count} of ${source ?? `file ${fileId}`}`, error);
    }
    columns = emptyColumns();
  };
  for (const row of rows) {
    count++;
    let values: unknown[];
    try {
      values = rowValues(row);
    } catch (error) {
      throw contextError(`${db.name}: anomaly ${count}${source === undefined ? '' : ` of ${source}`} (uid ${row.uid ?? 'unset'}, ts ${row.ts})`, error);
    }
    values.forEach((value, i) => columns[i]!.push(value));
    if (columns[0]!.length >= BATCH_ROWS) flush();
  }
  flush();
  return count;
}

function emptyColumns(): Columns {
  return ANOMALY_COLUMNS.map(() => []);
}

function rowValues(row: AnomalyRow): unknown[] {
  return anomalyValues(row).map((value, i) => {
    const column = ANOMALY_COLUMNS[i]!;
    const checked = typeof value === 'number' ? number(value) : value;
    if (column.required && checked === null) throw new Error(`${column.key} is ${String(checked)}; the column takes no NULL (nor NaN)`);
    return checked;
  });
}

// NaN is a value to PostgreSQL; SQLite stores it as NULL. Both stores are to hold the same rows.
function number(value: number | null | undefined): number | null {
  return value === undefined || value === null || Number.isNaN(value) ? null : value;
}
