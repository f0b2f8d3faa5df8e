import { checkedLimit, value, type Db } from './connection.js';
import type { FeatureShare } from '../preprocess/feature-share.js';
import { ANOMALY_COLUMNS, type AnomalyRow, type ExplainedFeature } from './anomaly-columns.js';

/** One feature's share of a connection's reconstruction error, 0 to 1. */
export type { FeatureShare };

/** An anomaly as read back, with its ids and the path of the file it came from. */
export interface StoredAnomalyRow extends AnomalyRow {
  id: number;
  fileId: number;
  filePath: string;
  /** The sensor of its file. */
  sensor: string;
}

export type AnomalyOrder = 'ts' | 'score';

export interface AnomalyQuery {
  /** Epoch seconds, inclusive. */
  since?: number;
  /** Epoch seconds, exclusive. */
  until?: number;
  /** Either end of the connection: matches orig_h or resp_h. */
  host?: string;
  /** Inclusive. */
  minScore?: number;
  fileId?: number;
  /** One sensor's anomalies (those of its files); all sensors' when not given. */
  sensor?: string;
  limit?: number;
  /** `ts` (default): newest first; `score`: highest first. Ties go newest id first. */
  order?: AnomalyOrder;
  /**
   * Only the rows that come after this one in the order (its `ts` or `score`, and its id): the
   * next page, found through the index however deep it is, where an OFFSET would read every row before it.
   */
  after?: { value: number; id: number };
}

/** The SELECT list of an anomaly read back (`a`: anomalies, `f`: its file), with `StoredAnomalyRow`'s keys. */
export const ANOMALY_SELECT = [
  'a.id AS id',
  'a.file_id AS "fileId"',
  'f.path AS "filePath"',
  'f.sensor AS sensor',
  ...ANOMALY_COLUMNS.map((c) => `a.${c.column} AS "${c.key}"`),
].join(', ');

type StoredAnomalyText = Omit<StoredAnomalyRow, 'explanation'> & { explanation: string };

/** Anomalies matching every filter given, newest (or highest scoring) first. */
export function queryAnomalies(db: Db, query: AnomalyQuery = {}): StoredAnomalyRow[] {
  const params = anomalyQueryParams(db, query);
  return db
    .all<StoredAnomalyText>(anomalyQuerySql(query, query.order ?? 'ts'), params)
    .map((row) => ({ ...row, explanation: parseExplanation(db, row.id, row.explanation) }));
}

/**
 * SQLite's plan for `queryAnomalies(db, query)`, one line per step (`SEARCH a USING INDEX
 * anomalies_by_ts (ts>? AND ts<?)`): the tests check that no query reads the whole table.
 */
export function explainAnomalyQuery(db: Db, query: AnomalyQuery = {}): string[] {
  const params = anomalyQueryParams(db, query);
  if (db.engine !== 'sqlite') throw new Error(`${db.name}: the query plans the tests check are SQLite's`);
  return db
    .all<{ detail: string }>(`EXPLAIN QUERY PLAN ${anomalyQuerySql(query, query.order ?? 'ts')}`, params)
    .map((step) => step.detail);
}

/** The bound values for `query`, checked. */
function anomalyQueryParams(db: Db, query: AnomalyQuery): Record<string, number | string | null> {
  const order = query.order ?? 'ts';
  if (order !== 'ts' && order !== 'score') throw new Error(`${db.name}: querying anomalies: order is '${String(order)}'; expected 'ts' or 'score'`);
  for (const key of ['since', 'until', 'minScore'] as const) {
    const value = query[key];
    if (value !== undefined && Number.isNaN(value)) throw new Error(`${db.name}: querying anomalies: ${key} is NaN; expected a number`);
  }
  if (query.fileId !== undefined && !Number.isSafeInteger(query.fileId)) {
    throw new Error(`${db.name}: querying anomalies: fileId is ${query.fileId}; expected a whole number`);
  }
  if (query.after !== undefined && !(Number.isFinite(query.after.value) && Number.isSafeInteger(query.after.id))) {
    throw new Error(`${db.name}: querying anomalies: after is ${JSON.stringify(query.after)}; expected { value: a finite number, id: a whole number }`);
  }
  return {
    since: query.since ?? null,
    until: query.until ?? null,
    host: query.host ?? null,
    minScore: query.minScore ?? null,
    fileId: query.fileId ?? null,
    sensor: query.sensor ?? null,
    afterValue: query.after?.value ?? null,
    afterId: query.after?.id ?? null,
    limit: checkedLimit(db, query.limit),
  };
}

/**
 * The query for the filters present. Each combination gets its own statement (at most 256, each
 * prepared once) rather than one with `(? IS NULL OR ts >= ?)` clauses, which would hide the
 * constraints from the planner and make it scan. It is built only from the constant fragments
 * below; every value is a bound parameter.
 */
function anomalyQuerySql(query: AnomalyQuery, order: AnomalyOrder): string {
  const filters: string[] = [];
  if (query.since !== undefined) filters.push('a.ts >= @since');
  if (query.until !== undefined) filters.push('a.ts < @until');
  if (query.minScore !== undefined) filters.push('a.score >= @minScore');
  if (query.fileId !== undefined) filters.push('a.file_id = @fileId');
  if (query.sensor !== undefined) filters.push('f.sensor = @sensor');
  // Written as a range on the sort column plus a tie-break, which the planner reads as a range on
  // its index; a row value (ts, id) < (…) would be too, but not on every SQLite this may meet.
  if (query.after !== undefined) filters.push(`a.${order} <= @afterValue AND (a.${order} < @afterValue OR a.id < @afterId)`);
  const orderBy = order === 'ts' ? 'ORDER BY ts DESC, id DESC' : 'ORDER BY score DESC, id DESC';
  const select = (hostFilters: string[]): string => {
    const where = [...hostFilters, ...filters];
    return `SELECT ${ANOMALY_SELECT} FROM anomalies a JOIN files f ON f.id = a.file_id${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`;
  };
  if (query.host === undefined) return `${select([])} ${orderBy} LIMIT @limit`;
  // Either end: one branch per index, (orig_h, ts) and (resp_h, ts), merged in order, so the
  // LIMIT stops both early. An OR would read every row of the host and sort them. The second
  // branch leaves out connections from the host to itself, which the first already has.
  return `${select(['a.orig_h = @host'])} UNION ALL ${select(['a.resp_h = @host', 'a.orig_h <> @host'])} ${orderBy} LIMIT @limit`;
}

const PRUNE_BEFORE = `DELETE FROM anomalies WHERE ts < ?`;

/** Deletes the anomalies older than `ts` (epoch seconds) and returns how many went. The files ledger is kept. */
export function pruneAnomaliesBefore(db: Db, ts: number): number {
  if (Number.isNaN(ts)) throw new Error(`${db.name}: pruning anomalies: ts is NaN; expected epoch seconds`);
  return db.run(PRUNE_BEFORE, [ts]);
}

const COUNT_ANOMALIES = `SELECT count(*) FROM anomalies`;

export function countAnomalies(db: Db): number {
  return value<number>(db, COUNT_ANOMALIES) ?? 0;
}

/** The explanation as stored: JSON, checked (a NaN share is refused, not turned into null). */
/** A row's values in `ANOMALY_COLUMNS`' order, as both engines bind them: unset as null, the explanation as its JSON. */
export function anomalyValues(row: AnomalyRow): unknown[] {
  return ANOMALY_COLUMNS.map((c) => (c.kind === 'json' ? explanationJson(row.explanation) : (row[c.key] ?? null)));
}

export function explanationJson(explanation: readonly ExplainedFeature[]): string {
  // Checked at run time too: the scorer's numbers can be NaN, which JSON would turn into null.
  const items: unknown = explanation;
  if (!Array.isArray(items)) throw new Error(`explanation is ${JSON.stringify(items)}; expected an array of { feature, share }`);
  const shares = items.map((item: unknown) => {
    const share = item as Partial<FeatureShare> | null;
    if (typeof share?.feature !== 'string' || typeof share.share !== 'number' || !Number.isFinite(share.share)) {
      throw new Error(`explanation item ${JSON.stringify(item)}: expected { feature: string, share: finite number }`);
    }
    const text = (item as ExplainedFeature).text;
    return typeof text === 'string' ? { feature: share.feature, share: share.share, text } : { feature: share.feature, share: share.share };
  });
  return JSON.stringify(shares);
}

export function parseExplanation(db: Db, id: number, text: string): ExplainedFeature[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.every((item: unknown) => {
      const share = item as Partial<FeatureShare> | null;
      return typeof share?.feature === 'string' && typeof share.share === 'number';
    });
  if (!valid) throw new Error(`${db.name}: anomaly ${id}: explanation is ${JSON.stringify(text.slice(0, 200))}; expected a JSON array of { feature, share }`);
  return parsed as ExplainedFeature[];
}
