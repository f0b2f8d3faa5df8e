import type { Db } from './connection.js';
import { checkedLimit, contextError } from './connection.js';

export const FILE_STATUSES = ['done', 'failed', 'skipped'] as const;
export type FileStatus = (typeof FILE_STATUSES)[number];
/** How a file's flagging threshold is set: the top share of the file, or the model's saved baseline. */
export const THRESHOLD_MODES = ['per-file', 'baseline'] as const;
export type ThresholdMode = (typeof THRESHOLD_MODES)[number];

/** One row of the `files` ledger: one per file met, whatever became of it. */
export interface FileRow {
  id: number;
  /** The sensor whose log this is: exactly once holds per sensor and content. */
  sensor: string;
  path: string;
  size: number;
  sha256: string;
  status: FileStatus;
  rows: number | null;
  badLines: number | null;
  flagged: number | null;
  threshold: number | null;
  thresholdMode: ThresholdMode | null;
  error: string | null;
  /** The id of the 'done' file with the same content, for a 'skipped' file. */
  duplicateOf: number | null;
  modelVersion: string | null;
  /** Epoch seconds of the file's first and last connection. */
  firstTs: number | null;
  lastTs: number | null;
  /** ISO 8601. */
  startedAt: string;
  finishedAt: string;
}

export type NewFileRow = Omit<FileRow, 'id'>;

const COLUMNS = `
  id, sensor, path, size, sha256, status, rows, bad_lines AS "badLines", flagged, threshold,
  threshold_mode AS "thresholdMode", error, duplicate_of AS "duplicateOf", model_version AS "modelVersion",
  first_ts AS "firstTs", last_ts AS "lastTs", started_at AS "startedAt", finished_at AS "finishedAt"`;

const INSERT_FILE = `
  INSERT INTO files (sensor, path, size, sha256, status, rows, bad_lines, flagged, threshold, threshold_mode, error,
                     duplicate_of, model_version, first_ts, last_ts, started_at, finished_at)
  VALUES (@sensor, @path, @size, @sha256, @status, @rows, @badLines, @flagged, @threshold, @thresholdMode, @error,
          @duplicateOf, @modelVersion, @firstTs, @lastTs, @startedAt, @finishedAt)
  RETURNING id`;

/** Adds a row to the ledger and returns its id. */
export function insertFile(db: Db, row: NewFileRow): number {
  // Spelled out rather than passing `row`: a caller's object may carry other keys, and an
  // undefined optional must go in as NULL.
  const params = {
    sensor: row.sensor,
    path: row.path,
    size: row.size,
    sha256: row.sha256,
    status: row.status,
    rows: row.rows ?? null,
    badLines: row.badLines ?? null,
    flagged: row.flagged ?? null,
    threshold: row.threshold ?? null,
    thresholdMode: row.thresholdMode ?? null,
    error: row.error ?? null,
    duplicateOf: row.duplicateOf ?? null,
    modelVersion: row.modelVersion ?? null,
    firstTs: row.firstTs ?? null,
    lastTs: row.lastTs ?? null,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
  try {
    return db.get<{ id: number }>(INSERT_FILE, params)!.id;
  } catch (error) {
    const duplicate = row.duplicateOf != null ? `, duplicate of file ${row.duplicateOf}` : '';
    throw contextError(`${db.name}: recording file ${row.path} of sensor ${row.sensor} (status ${row.status}${duplicate})`, error);
  }
}

const FIND_DONE_BY_SHA256 = `SELECT ${COLUMNS} FROM files WHERE sha256 = ? AND sensor = ? AND status = 'done' ORDER BY id LIMIT 1`;

/** The first file `sensor` scored with this content: a later copy of it is a duplicate of this one. */
export function findDoneBySha256(db: Db, sensor: string, sha256: string): FileRow | undefined {
  return db.get<FileRow>(FIND_DONE_BY_SHA256, [sha256, sensor]);
}

const FIND_BY_PATH_AND_SHA256 = `SELECT ${COLUMNS} FROM files WHERE path = ? AND sha256 = ? AND sensor = ? ORDER BY id DESC LIMIT 1`;

/** `sensor`'s latest attempt at this path with this content, if any. */
export function findByPathAndSha256(db: Db, sensor: string, path: string, sha256: string): FileRow | undefined {
  return db.get<FileRow>(FIND_BY_PATH_AND_SHA256, [path, sha256, sensor]);
}

// The same path at the same size (a restart, a rescan), or a scored file of exactly this size (a
// copy under another name: gzip archives rarely share a size to the byte). The files table holds a
// row per archive, some thousands a year, so the size test's scan costs nothing.
const MAY_KNOW_CONTENT = `SELECT 1 FROM files WHERE sensor = @sensor AND ((path = @path AND size = @size) OR (status = 'done' AND size = @size)) LIMIT 1`;

/**
 * Whether `sensor`'s ledger may already know a file of this path and size. When it cannot, the content
 * is new for certain, and the file can be hashed in the read that scores it rather than read once more.
 */
export function mayKnowContent(db: Db, sensor: string, path: string, size: number): boolean {
  return db.get(MAY_KNOW_CONTENT, { sensor, path, size }) !== undefined;
}

const FIND_BY_ID = `SELECT ${COLUMNS} FROM files WHERE id = ?`;

export function findFileById(db: Db, id: number): FileRow | undefined {
  return db.get<FileRow>(FIND_BY_ID, [id]);
}

// A NULL filter is no filter.
const LIST_FILES = `SELECT ${COLUMNS} FROM files WHERE (CAST(@status AS TEXT) IS NULL OR status = @status) AND (CAST(@sensor AS TEXT) IS NULL OR sensor = @sensor)
  AND (CAST(@before AS BIGINT) IS NULL OR id < @before) ORDER BY id DESC LIMIT @limit`;

export interface FileListing {
  status?: FileStatus;
  /** One sensor's files; all sensors' when not given. */
  sensor?: string;
  /** The page after the one that ended with this id: only files with a lower one. */
  before?: number;
  limit?: number;
}

/** The ledger, newest first (by insertion, which is the order files were finished in). */
export function listFiles(db: Db, options: FileListing = {}): FileRow[] {
  const limit = checkedLimit(db, options.limit);
  if (options.status !== undefined && !FILE_STATUSES.includes(options.status)) {
    throw new Error(`${db.name}: listing files: status is '${String(options.status)}'; expected one of ${FILE_STATUSES.join(', ')}`);
  }
  return db.all<FileRow>(LIST_FILES, {
    status: options.status ?? null,
    sensor: options.sensor ?? null,
    before: options.before ?? null,
    limit,
  });
}

const COUNT_FILES = `SELECT status, count(*) AS n FROM files WHERE (CAST(@sensor AS TEXT) IS NULL OR sensor = @sensor) GROUP BY status`;

/** How many files the ledger holds in each status (0 for a status it has none of): all sensors', or `sensor`'s. */
export function countFiles(db: Db, sensor?: string): Record<FileStatus, number> {
  const counts: Record<FileStatus, number> = { done: 0, failed: 0, skipped: 0 };
  for (const { status, n } of db.all<{ status: FileStatus; n: number }>(COUNT_FILES, { sensor: sensor ?? null })) {
    counts[status] = n;
  }
  return counts;
}
