import { binStart, forEngine, perEngine, value, type Db } from './connection.js';

// The aggregates the `anomalies` report draws. Each is a GROUP BY (or a count), so SQLite streams
// the table and only the groups come back: memory grows with the number of bars, not of anomalies.
// Each takes a sensor: only that sensor's rows (an anomaly's is its file's), or every sensor's for null.

const SCOPED_ANOMALY = `(CAST(@sensor AS TEXT) IS NULL OR anomalies.file_id IN (SELECT id FROM files WHERE sensor = @sensor))`;
const SCOPED_FILE = `(CAST(@sensor AS TEXT) IS NULL OR sensor = @sensor)`;

const ANOMALY_TOTALS = `SELECT count(*) AS count, min(ts) AS first, max(ts) AS last FROM anomalies WHERE ${SCOPED_ANOMALY}`;

/** How many anomalies there are, and the `ts` of the first and last (null when there are none). */
export function anomalyTotals(db: Db, sensor: string | null = null): { count: number; first: number | null; last: number | null } {
  return db.get<{ count: number; first: number | null; last: number | null }>(ANOMALY_TOTALS, { sensor })!;
}

const ANOMALIES_PER_MODEL = `SELECT model_version AS model, count(*) AS count FROM anomalies WHERE ${SCOPED_ANOMALY} GROUP BY model_version ORDER BY count DESC, model`;

/** Anomalies per model version, most first. */
export function anomaliesPerModel(db: Db, sensor: string | null = null): { model: string; count: number }[] {
  return db.all<{ model: string; count: number }>(ANOMALIES_PER_MODEL, { sensor });
}

const SCORED_TOTALS = `SELECT coalesce(sum(rows), 0) AS rows, coalesce(sum(flagged), 0) AS flagged FROM files WHERE status = 'done' AND ${SCOPED_FILE}`;

/** Connections scored and flagged, over every file scored. */
export function scoredTotals(db: Db, sensor: string | null = null): { rows: number; flagged: number } {
  return db.get<{ rows: number; flagged: number }>(SCORED_TOTALS, { sensor })!;
}

const FILES_PER_THRESHOLD_MODE = `SELECT threshold_mode AS mode, count(*) AS files FROM files WHERE status = 'done' AND ${SCOPED_FILE}
  GROUP BY threshold_mode ORDER BY files DESC, mode`;

/** Scored files per threshold mode (null for a file recorded without one). */
export function scoredFilesPerThresholdMode(db: Db, sensor: string | null = null): { mode: string | null; files: number }[] {
  return db.all<{ mode: string | null; files: number }>(FILES_PER_THRESHOLD_MODE, { sensor });
}

/**
 * The CASE that puts a row in its score band, 0-based: band `i` holds the scores from
 * `@band<i>` times the row's threshold up to the next band's floor; a threshold of 0 or less
 * (every score is infinitely far above it) is the top band. The floors are bound parameters, so
 * the statement's text depends only on how many bands there are.
 */
function bandCase(bands: number): string {
  const steps: string[] = [];
  for (let i = bands - 1; i >= 1; i--) steps.push(`WHEN threshold > 0 AND score >= @band${i} * threshold THEN ${i}`);
  return `CASE ${steps.join(' ')} WHEN threshold <= 0 THEN ${bands - 1} ELSE 0 END`;
}

/** The floors as bound parameters, checked: finite, above 0 and rising. */
function bandParams(db: Db, floors: readonly number[]): Record<string, number> {
  if (floors.length === 0 || floors.some((floor, i) => !(Number.isFinite(floor) && floor > 0 && (i === 0 || floor > floors[i - 1]!)))) {
    throw new Error(`${db.name}: score bands are ${JSON.stringify(floors)}; expected one or more finite numbers above 0, rising`);
  }
  // The first band takes every row below the second's floor: its own floor is not in the SQL.
  return Object.fromEntries(floors.slice(1).map((floor, i) => [`band${i + 1}`, floor]));
}

/** Anomalies per score band (0-based index into `floors`, the bands' floors as multiples of the threshold). */
export function anomaliesPerBand(db: Db, floors: readonly number[], sensor: string | null = null): { band: number; count: number }[] {
  const params = { ...bandParams(db, floors), sensor };
  return db.all<{ band: number; count: number }>(
    `SELECT ${bandCase(floors.length)} AS band, count(*) AS count FROM anomalies WHERE ${SCOPED_ANOMALY} GROUP BY 1 ORDER BY 1`,
    params,
  );
}

/** Anomalies per time bin (`time`: the bin's start, epoch seconds, by `ts`) and score band, in time order. */
export function anomaliesPerTimeAndBand(
  db: Db,
  binSeconds: number,
  floors: readonly number[],
  sensor: string | null = null,
): { time: number; band: number; count: number }[] {
  if (!(Number.isSafeInteger(binSeconds) && binSeconds > 0)) throw new Error(`${db.name}: the time bin is ${binSeconds} s; expected a whole number above 0`);
  const params = { ...bandParams(db, floors), bin: binSeconds, sensor };
  return db.all<{ time: number; band: number; count: number }>(
    `SELECT ${binStart(db.engine, 'ts')} AS time, ${bandCase(floors.length)} AS band, count(*) AS count FROM anomalies WHERE ${SCOPED_ANOMALY}
     GROUP BY 1, 2 ORDER BY 1, 2`,
    params,
  );
}

/** Which end of a connection: the originator or the responder. */
export type HostSide = 'orig_h' | 'resp_h';

// One statement per side, so each is grouped through its own (host, ts) index: SQLite walks it in
// order and keeps one group at a time.
const TOP_HOSTS: Record<HostSide, string> = {
  orig_h: `SELECT orig_h AS host, count(*) AS count, max(score / CASE WHEN threshold > 0 THEN threshold ELSE 1 END) AS worst FROM anomalies
    WHERE ${SCOPED_ANOMALY} GROUP BY orig_h ORDER BY count DESC, host LIMIT @limit`,
  resp_h: `SELECT resp_h AS host, count(*) AS count, max(score / CASE WHEN threshold > 0 THEN threshold ELSE 1 END) AS worst FROM anomalies
    WHERE ${SCOPED_ANOMALY} GROUP BY resp_h ORDER BY count DESC, host LIMIT @limit`,
};

/** The `limit` hosts on `side` with the most anomalies, with the highest score among them as a multiple of its threshold. */
export function topHosts(db: Db, side: HostSide, limit: number, sensor: string | null = null): { host: string; count: number; worst: number }[] {
  return db.all<{ host: string; count: number; worst: number }>(TOP_HOSTS[side], { limit, sensor });
}

const DISTINCT_HOSTS: Record<HostSide, string> = {
  orig_h: `SELECT count(DISTINCT orig_h) FROM anomalies WHERE ${SCOPED_ANOMALY}`,
  resp_h: `SELECT count(DISTINCT resp_h) FROM anomalies WHERE ${SCOPED_ANOMALY}`,
};

/** How many different hosts appear on `side` of the anomalies. */
export function distinctHosts(db: Db, side: HostSide, sensor: string | null = null): number {
  return value<number>(db, DISTINCT_HOSTS[side], { sensor }) ?? 0;
}

// Each item's position in the explanation (0 is the feature with the largest share): json_each's
// key on SQLite, the ordinality (from 1) on PostgreSQL.
const EXPLANATION_FEATURE_RANKS = {
  sqlite: `SELECT json_extract(e.value, '$.feature') AS feature, e.key AS rank, count(*) AS count
    FROM anomalies, json_each(anomalies.explanation) AS e WHERE ${SCOPED_ANOMALY} GROUP BY 1, 2 ORDER BY 1, 2`,
  postgres: `SELECT e.item ->> 'feature' AS feature, e.position - 1 AS rank, count(*) AS count
    FROM anomalies, jsonb_array_elements(anomalies.explanation::jsonb) WITH ORDINALITY AS e(item, position) WHERE ${SCOPED_ANOMALY}
    GROUP BY 1, 2 ORDER BY 1, 2`,
};

/** How often each feature is named at each place (`rank`, 0 first) in the anomalies' explanations. */
export function explanationFeatureRanks(db: Db, sensor: string | null = null): { feature: string; rank: number; count: number }[] {
  return db
    .all<{ feature: unknown; rank: number; count: number }>(forEngine(db, EXPLANATION_FEATURE_RANKS), { sensor })
    .filter((row): row is { feature: string; rank: number; count: number } => typeof row.feature === 'string');
}

const SCORED_FILES_WITH_ROWS = `SELECT count(*) FROM files WHERE status = 'done' AND rows > 0 AND ${SCOPED_FILE}`;

/** Scored files that held at least one row. */
export function countScoredFilesWithRows(db: Db, sensor: string | null = null): number {
  return value<number>(db, SCORED_FILES_WITH_ROWS, { sensor }) ?? 0;
}

const FLAGGED_PER_DAY = perEngine(
  (engine) => `SELECT ${binStart(engine, 'coalesce(first_ts, 0)')} AS day, sum(rows) AS rows, coalesce(sum(flagged), 0) AS flagged, count(*) AS files
    FROM files WHERE status = 'done' AND rows > 0 AND ${SCOPED_FILE} GROUP BY 1 ORDER BY 1`,
);

/** Rows and flagged rows of the scored files, per UTC day of their first connection (`day`: epoch seconds). */
export function flaggedPerDay(db: Db, sensor: string | null = null): { day: number; rows: number; flagged: number; files: number }[] {
  return db.all<{ day: number; rows: number; flagged: number; files: number }>(forEngine(db, FLAGGED_PER_DAY), { sensor, bin: 86400 });
}

const FLAGGED_PER_FILE = `
  SELECT path, first_ts AS "firstTs", rows, coalesce(flagged, 0) AS flagged, threshold_mode AS mode
  FROM files WHERE status = 'done' AND rows > 0 AND ${SCOPED_FILE} ORDER BY first_ts, id`;

/** Rows and flagged rows of each scored file, by its first connection. */
export function flaggedPerFile(db: Db, sensor: string | null = null): { path: string; firstTs: number | null; rows: number; flagged: number; mode: string | null }[] {
  return db.all<{ path: string; firstTs: number | null; rows: number; flagged: number; mode: string | null }>(FLAGGED_PER_FILE, { sensor });
}
