import { contextError, type PostgresDb } from '../connection.js';
import { explanationJson, type AnomalyRow } from '../anomalies.js';

// Rows go to the server this many at a time, each batch one INSERT of arrays (unnest): a round
// trip per 5,000 rows rather than per row, and the batch in hand is all the memory it takes.
const BATCH_ROWS = 5000;

// One array per column, each cast to its type: PostgreSQL's fast path for many rows short of COPY.
const INSERT_BATCH = `
  INSERT INTO anomalies (file_id, ts, uid, orig_h, orig_p, resp_h, resp_p, proto, service, duration, orig_bytes, resp_bytes, conn_state,
                         history, orig_pkts, resp_pkts, score, threshold, model_version, explanation, conn_score, context_score)
  SELECT ?, * FROM unnest(?::float8[], ?::text[], ?::text[], ?::int4[], ?::text[], ?::int4[], ?::text[], ?::text[], ?::float8[], ?::int8[],
                          ?::int8[], ?::text[], ?::text[], ?::int8[], ?::int8[], ?::float8[], ?::float8[], ?::text[], ?::text[],
                          ?::float8[], ?::float8[])`;

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
  return Array.from({ length: 21 }, () => []);
}

function rowValues(row: AnomalyRow): unknown[] {
  return [
    required('ts', number(row.ts)),
    row.uid ?? null,
    required('origH', row.origH),
    required('origP', number(row.origP)),
    required('respH', row.respH),
    required('respP', number(row.respP)),
    required('proto', row.proto),
    row.service ?? null,
    number(row.duration),
    number(row.origBytes),
    number(row.respBytes),
    row.connState ?? null,
    row.history ?? null,
    number(row.origPkts),
    number(row.respPkts),
    required('score', number(row.score)),
    required('threshold', number(row.threshold)),
    required('modelVersion', row.modelVersion),
    explanationJson(row.explanation),
    number(row.connScore),
    number(row.contextScore),
  ];
}

// NaN is a value to PostgreSQL; SQLite stores it as NULL. Both stores are to hold the same rows.
function number(value: number | null | undefined): number | null {
  return value === undefined || value === null || Number.isNaN(value) ? null : value;
}

function required<T>(column: string, value: T | null | undefined): T {
  if (value === null || value === undefined) throw new Error(`${column} is ${String(value)}; the column takes no NULL (nor NaN)`);
  return value;
}
