import { performance } from 'node:perf_hooks';
import type { Db, PostgresDb, SqliteDb } from './connection.js';
import { writeContextState } from './context-state.js';
import type { AnomalyRow } from './anomaly-columns.js';
import { findByPathAndSha256, findDoneBySha256, insertFile, type FileRow, type FileStatus } from './files.js';
import { checkLeaseHeld, type LeaseHolder } from './leases.js';
import { insertAnomalyBatches } from './postgres/anomaly-batches.js';
import { clearStagedAnomalies, insertStagedAnomalies, stageAnomalies } from './sqlite/staged-anomalies.js';

/** What is known of any file met: enough to recognise it again. */
export type FileIdentity = Pick<FileRow, 'sensor' | 'path' | 'size' | 'sha256' | 'startedAt' | 'finishedAt'>;

/** A scored file: no error, no duplicate, the rest as `FileRow`. */
export type ScoredFile = Omit<FileRow, 'id' | 'status' | 'error' | 'duplicateOf'>;

/** A file that could not be scored: whatever was learned before it failed is kept. */
export type FailedFile = FileIdentity & Partial<Pick<FileRow, 'rows' | 'badLines' | 'modelVersion' | 'firstTs' | 'lastTs'>>;

/**
 * This path with this content was in the ledger by the time the write lock was held (another
 * process recorded it meanwhile): nothing was written. `fileId` and `previous` are that row's.
 */
export type AlreadySeen = { status: 'already-seen'; fileId: number; previous: FileStatus };

/**
 * What `recordScoredFile` wrote: the file, or (when another process got there first) nothing new;
 * and how long it held the write lock, in seconds: on SQLite the database's (from BEGIN IMMEDIATE
 * having the lock to the end of COMMIT; not the WAL checkpoint that follows, which holds no lock),
 * on PostgreSQL the sensor's ledger lock (from having it to the end of COMMIT).
 */
export type RecordedScore = Recorded & { lockSeconds: number };
type Recorded = { status: 'done'; fileId: number } | AlreadySeen | { status: 'skipped'; fileId: number; duplicateOf: FileRow };

/** What `recordFailedFile` wrote: the failed file, or nothing when this path and content were recorded meanwhile. */
export type RecordedFailure = { status: 'failed'; fileId: number } | AlreadySeen;

/** What `recordSkippedFile` wrote: the skipped file, or nothing when this path and content were recorded meanwhile. */
export type RecordedSkip = { status: 'skipped'; fileId: number } | AlreadySeen;

/** The sensor lease the writer holds: checked inside the file's transaction (LeaseLostError when lost), see db/leases.ts. */
export type HeldLease = Pick<LeaseHolder, 'sensor' | 'holder'>;

export interface ScoredFileExtras {
  lease?: HeldLease;
  /** The context stage's state after this file, as byte parts: saved with its results. */
  contextState?: readonly Uint8Array[];
  /** Writes more of the file's results (its findings) inside the transaction, once the file has its id and its anomalies are in. */
  withinTransaction?: (fileId: number) => void;
}

/**
 * Records a scored file, status 'done', and all its anomalies in ONE transaction: after a crash
 * (or an insert that fails part-way) the file is either fully present or absent, and an absent
 * file is scored again on the next start. The ledger is checked again inside the transaction, under
 * the sensor's ledger lock, so that two processes scoring the same content at once cannot both
 * store it (and the unique index on done rows would refuse the second if they could).
 *
 * With `extras.contextState`, the context stage's state after this file is saved in the same
 * transaction, and `extras.withinTransaction` writes the rest (findings) there too: whatever it
 * throws rolls the whole file back.
 */
export function recordScoredFile(db: Db, file: ScoredFile, anomalies: Iterable<AnomalyRow>, extras: ScoredFileExtras = {}): RecordedScore {
  return db.engine === 'sqlite' ? recordScoredIntoSqlite(db, file, anomalies, extras) : recordScoredIntoPostgres(db, file, anomalies, extras);
}

/**
 * SQLite has one write lock for the whole file, so it is held only for what needs it. The
 * anomalies (500k rows for a 10M-row file) are made, checked and staged first, without the lock;
 * inside it go the ledger check, the file row and one INSERT … SELECT of the staged rows.
 */
function recordScoredIntoSqlite(db: SqliteDb, file: ScoredFile, anomalies: Iterable<AnomalyRow>, extras: ScoredFileExtras): RecordedScore {
  stageAnomalies(db, anomalies, file.path);
  // SQLite checkpoints the WAL inside COMMIT once it holds 1,000 pages (a 10M-row file writes
  // 50,000). That happens after the lock is released, but within the COMMIT call: it is run here
  // after the commit instead, so that lockSeconds is the time the lock was held and no more.
  const autoCheckpoint = db.raw.pragma('wal_autocheckpoint', { simple: true }) as number;
  db.raw.pragma('wal_autocheckpoint = 0');
  try {
    let locked = 0;
    const recorded = db.transaction(ledgerLock(file.sensor), () => {
      locked = performance.now();
      return recordWithin(db, file, extras, (fileId) => insertStagedAnomalies(db, fileId));
    });
    const lockSeconds = (performance.now() - locked) / 1000;
    // PASSIVE, as the automatic one: it copies what no reader still needs and waits for no one.
    if (autoCheckpoint > 0) db.raw.pragma('wal_checkpoint(PASSIVE)');
    return { ...recorded, lockSeconds };
  } finally {
    db.raw.pragma(`wal_autocheckpoint = ${autoCheckpoint}`);
    clearStagedAnomalies(db);
  }
}

/**
 * PostgreSQL locks rows, not the store: the sensor's ledger lock keeps out only another writer of
 * the same sensor, and readers never wait. So the anomalies are sent in batches inside the
 * transaction, as they are made, with no stage to hold them.
 */
function recordScoredIntoPostgres(db: PostgresDb, file: ScoredFile, anomalies: Iterable<AnomalyRow>, extras: ScoredFileExtras): RecordedScore {
  let locked = 0;
  const recorded = db.transaction(ledgerLock(file.sensor), () => {
    locked = performance.now();
    return recordWithin(db, file, extras, (fileId) => insertAnomalyBatches(db, fileId, anomalies, file.path));
  });
  return { ...recorded, lockSeconds: (performance.now() - locked) / 1000 };
}

/** The file's writes, inside its transaction: the ledger checked again, then the file and all it carries. */
function recordWithin(
  db: Db,
  file: ScoredFile,
  { contextState, withinTransaction, lease }: ScoredFileExtras,
  insertAnomalies: (fileId: number) => void,
): Recorded {
  const seen = alreadySeen(db, file, lease);
  if (seen !== undefined) return seen;
  const original = findDoneBySha256(db, file.sensor, file.sha256);
  if (original !== undefined) return { status: 'skipped', fileId: insertSkipped(db, file, original.id), duplicateOf: original };
  const fileId = insertFile(db, { ...file, status: 'done', error: null, duplicateOf: null });
  insertAnomalies(fileId);
  // The context state with this file counted: saved with its results, or not at all.
  if (contextState !== undefined) writeContextState(db, file.sensor, fileId, contextState);
  withinTransaction?.(fileId);
  return { status: 'done', fileId };
}

/**
 * Inserts file `fileId`'s anomalies. Opens no transaction of its own: the caller wraps it with the
 * file's own row, so that both are written or neither. For a file's worth of rows, use
 * `recordScoredFile`, which on SQLite stages them before taking the lock.
 */
export function insertAnomalies(db: Db, fileId: number, rows: Iterable<AnomalyRow>): number {
  if (db.engine === 'postgres') return insertAnomalyBatches(db, fileId, rows, `file ${fileId}`);
  stageAnomalies(db, rows, `file ${fileId}`);
  try {
    return insertStagedAnomalies(db, fileId);
  } finally {
    clearStagedAnomalies(db);
  }
}

/**
 * Records a file that could not be scored, with why, unless this path with this content is in the
 * ledger by the time the write lock is held: the check is made again inside the transaction, so
 * two processes failing on the same file add one row, not two.
 */
export function recordFailedFile(db: Db, file: FailedFile, error: string, lease?: HeldLease): RecordedFailure {
  return db.transaction(ledgerLock(file.sensor), (): RecordedFailure => {
    const seen = alreadySeen(db, file, lease);
    if (seen !== undefined) return seen;
    const fileId = insertFile(db, {
      rows: null,
      badLines: null,
      modelVersion: null,
      firstTs: null,
      lastTs: null,
      ...file,
      status: 'failed',
      flagged: null,
      threshold: null,
      thresholdMode: null,
      error,
      duplicateOf: null,
    });
    return { status: 'failed', fileId };
  });
}

/**
 * Records a file left out because its content was scored already, as file `duplicateOf`, unless
 * this path with this content is in the ledger by the time the write lock is held (checked again
 * inside the transaction, as for scored and failed files).
 */
export function recordSkippedFile(db: Db, file: FileIdentity, duplicateOf: number, lease?: HeldLease): RecordedSkip {
  return db.transaction(ledgerLock(file.sensor), (): RecordedSkip => {
    const seen = alreadySeen(db, file, lease);
    if (seen !== undefined) return seen;
    return { status: 'skipped', fileId: insertSkipped(db, file, duplicateOf) };
  });
}

/**
 * What every ledger write checks first, under its lock: that `lease`, when given, is still held
 * (LeaseLostError if not), and whether this path with this content was recorded meanwhile.
 */
function alreadySeen(db: Db, file: FileIdentity, lease: HeldLease | undefined): AlreadySeen | undefined {
  if (lease !== undefined) checkLeaseHeld(db, lease);
  const seen = findByPathAndSha256(db, file.sensor, file.path, file.sha256);
  return seen === undefined ? undefined : { status: 'already-seen', fileId: seen.id, previous: seen.status };
}

function insertSkipped(db: Db, file: FileIdentity, duplicateOf: number): number {
  return insertFile(db, {
    ...file,
    status: 'skipped',
    rows: null,
    badLines: null,
    flagged: null,
    threshold: null,
    thresholdMode: null,
    error: null,
    duplicateOf,
    modelVersion: null,
    firstTs: null,
    lastTs: null,
  });
}

/**
 * A sensor's ledger is written one transaction at a time, so the check inside it holds; a verdict on
 * one of its findings takes the same lock, so it is never interleaved with a file's findings.
 */
export function ledgerLock(sensor: string): string {
  return `ledger/${sensor}`;
}
