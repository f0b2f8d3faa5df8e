// The one list of the `anomalies` table's columns. The row type, the SELECT list, SQLite's staged
// insert, PostgreSQL's batch insert, the CLI's and the dashboard's exports and the scorer's
// candidate table all follow from it; the migrations stay fixed history, and a test compares the
// migrated schema of both engines with this list (`schemaDrift`), so the two cannot part silently.
// Adding a column: a migration, an entry here, and where its value comes from (docs/development.md, "Add an anomaly column").

import type { FeatureShare } from '../preprocess/feature-share.js';
import type { Db } from './connection.js';

/** A feature in an anomaly's explanation: its share, and for a context feature what it says in words. */
export interface ExplainedFeature extends FeatureShare {
  /** e.g. "channel 10.1.0.131 → 198.51.100.23:80/tcp: 87 connections (half-life 1 h)". */
  text?: string;
}

/** How a column is stored, on each engine. */
export type ColumnKind = 'real' | 'integer' | 'bigint' | 'text' | 'json';

export const SQL_TYPES: Readonly<Record<ColumnKind, { sqlite: string; postgres: string; pgArray: string }>> = {
  real: { sqlite: 'REAL', postgres: 'double precision', pgArray: 'float8' },
  integer: { sqlite: 'INTEGER', postgres: 'integer', pgArray: 'int4' },
  bigint: { sqlite: 'INTEGER', postgres: 'bigint', pgArray: 'int8' },
  text: { sqlite: 'TEXT', postgres: 'text', pgArray: 'text' },
  json: { sqlite: 'TEXT', postgres: 'text', pgArray: 'text' },
};

export interface AnomalyColumn {
  /** The SQL column, and the key of the CLI's and the dashboard's exports (Zeek's names). */
  readonly column: string;
  /** The key in `AnomalyRow`. */
  readonly key: string;
  readonly kind: ColumnKind;
  /** NOT NULL. */
  readonly required: boolean;
  /** The conn.log field it is copied from, when it is one. */
  readonly from?: string;
  /** A conn.log text field with few distinct values: the candidate table numbers them rather than keeping each row's text. */
  readonly few?: true;
}

/** In the order of the table, of the exports and of every insert. `id` and `file_id` are the table's own. */
export const ANOMALY_COLUMNS = [
  { column: 'ts', key: 'ts', kind: 'real', required: true, from: 'ts' },
  { column: 'uid', key: 'uid', kind: 'text', required: false, from: 'uid' },
  { column: 'orig_h', key: 'origH', kind: 'text', required: true, from: 'id.orig_h' },
  { column: 'orig_p', key: 'origP', kind: 'integer', required: true, from: 'id.orig_p' },
  { column: 'resp_h', key: 'respH', kind: 'text', required: true, from: 'id.resp_h' },
  { column: 'resp_p', key: 'respP', kind: 'integer', required: true, from: 'id.resp_p' },
  { column: 'proto', key: 'proto', kind: 'text', required: true, from: 'proto', few: true },
  { column: 'service', key: 'service', kind: 'text', required: false, from: 'service', few: true },
  { column: 'duration', key: 'duration', kind: 'real', required: false, from: 'duration' },
  { column: 'orig_bytes', key: 'origBytes', kind: 'bigint', required: false, from: 'orig_bytes' },
  { column: 'resp_bytes', key: 'respBytes', kind: 'bigint', required: false, from: 'resp_bytes' },
  { column: 'conn_state', key: 'connState', kind: 'text', required: false, from: 'conn_state', few: true },
  { column: 'history', key: 'history', kind: 'text', required: false, from: 'history' },
  { column: 'orig_pkts', key: 'origPkts', kind: 'bigint', required: false, from: 'orig_pkts' },
  { column: 'resp_pkts', key: 'respPkts', kind: 'bigint', required: false, from: 'resp_pkts' },
  /** The per-connection error, or with a context model both errors combined (each over its baseline). */
  { column: 'score', key: 'score', kind: 'real', required: true },
  { column: 'threshold', key: 'threshold', kind: 'real', required: true },
  { column: 'model_version', key: 'modelVersion', kind: 'text', required: true },
  /** Why it was flagged: the features with the largest shares of its error, largest first (JSON). */
  { column: 'explanation', key: 'explanation', kind: 'json', required: true },
  /** The per-connection model's error; null for rows stored before it was kept. */
  { column: 'conn_score', key: 'connScore', kind: 'real', required: false },
  /** The context model's error; null without a context model. */
  { column: 'context_score', key: 'contextScore', kind: 'real', required: false },
] as const satisfies readonly AnomalyColumn[];

type Columns = (typeof ANOMALY_COLUMNS)[number];
type ValueOf<C extends Columns> = C['kind'] extends 'json' ? ExplainedFeature[] : C['kind'] extends 'text' ? string : number;

/** A flagged connection as it goes into the `anomalies` table (its file id is given apart): one key per column. */
export type AnomalyRow = { [C in Columns as C['key']]: C['required'] extends true ? ValueOf<C> : ValueOf<C> | null };

/** The columns' names, in order: `ts, uid, orig_h, …`. */
export const ANOMALY_COLUMN_NAMES: readonly string[] = ANOMALY_COLUMNS.map((c) => c.column);

type ConnColumn = Extract<Columns, { from: string }>;
const FROM_CONN = ANOMALY_COLUMNS.filter((c): c is ConnColumn => 'from' in c);

/** The columns copied from a conn record, by how the candidate table keeps them. */
export const CONN_COLUMNS = {
  numbers: FROM_CONN.filter((c) => c.kind !== 'text'),
  text: FROM_CONN.filter((c) => c.kind === 'text' && !('few' in c)),
  few: FROM_CONN.filter((c) => 'few' in c),
} as const;

/** A column as a migrated database describes it (`PRAGMA table_info`, `information_schema.columns`). */
export interface ActualColumn {
  name: string;
  type: string;
  notNull: boolean;
}

const TABLE_COLUMNS = {
  sqlite: `SELECT name, type, "notnull" AS "notNull" FROM pragma_table_info('anomalies') ORDER BY cid`,
  postgres: `SELECT column_name AS name, data_type AS type, is_nullable = 'NO' AS "notNull" FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = 'anomalies' ORDER BY ordinal_position`,
};

/** The `anomalies` table's columns as the migrations left them in `db`. */
export function anomaliesTableColumns(db: Db): ActualColumn[] {
  return db.all<{ name: string; type: string; notNull: number | boolean }>(TABLE_COLUMNS[db.engine]).map((c) => ({ ...c, notNull: c.notNull === true || c.notNull === 1 }));
}

/**
 * How the migrated table differs from `ANOMALY_COLUMNS` (or `expected`), one sentence a difference;
 * empty when they agree. The table's own `id` and `file_id` are left out.
 */
export function schemaDrift(engine: 'sqlite' | 'postgres', actual: readonly ActualColumn[], expected: readonly AnomalyColumn[] = ANOMALY_COLUMNS): string[] {
  const problems: string[] = [];
  const own = actual.filter((c) => c.name !== 'id' && c.name !== 'file_id');
  const byName = new Map(own.map((c) => [c.name, c]));
  for (const column of expected) {
    const found = byName.get(column.column);
    const type = SQL_TYPES[column.kind][engine];
    if (found === undefined) {
      problems.push(`anomalies has no column ${column.column} (${type}), which the column list defines`);
      continue;
    }
    if (found.type.toLowerCase() !== type.toLowerCase()) problems.push(`anomalies.${column.column} is ${found.type}; the column list says ${type}`);
    if (found.notNull !== column.required) problems.push(`anomalies.${column.column} is ${found.notNull ? 'NOT NULL' : 'nullable'}; the column list says ${column.required ? 'NOT NULL' : 'nullable'}`);
  }
  const defined = new Set(expected.map((c) => c.column));
  for (const column of own) if (!defined.has(column.name)) problems.push(`anomalies.${column.name} is in the database but not in the column list`);
  return problems;
}
