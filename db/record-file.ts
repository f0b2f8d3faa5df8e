import { performance } from 'node:perf_hooks';
import type { Database } from 'better-sqlite3';
import { writeContextState } from './context-state.js';
import { clearStagedAnomalies, insertStagedAnomalies, stageAnomalies, type AnomalyRow } from './anomalies.js';
import { findByPathAndSha256, findDoneBySha256, insertFile, type FileRow, type FileStatus } from './files.js';

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
 * and how long it held the database's write lock, in seconds (from BEGIN IMMEDIATE having the
 * lock to the end of COMMIT; not the WAL checkpoint that follows, which holds no lock).
 */
export type RecordedScore = ({ status: 'done'; fileId: number } | AlreadySeen | { status: 'skipped'; fileId: number; duplicateOf: FileRow }) & {
  lockSeconds: number;
};

/** What `recordFailedFile` wrote: the failed file, or nothing when this path and content were recorded meanwhile. */
export type RecordedFailure = { status: 'failed'; fileId: number } | AlreadySeen;

/** What `recordSkippedFile` wrote: the skipped file, or nothing when this path and content were recorded meanwhile. */
export type RecordedSkip = { status: 'skipped'; fileId: number } | AlreadySeen;

export interface ScoredFileExtras {
  /** The context stage's state after this file, as byte parts: saved with its results. */
  contextState?: readonly Uint8Array[];
  /** Writes more of the file's results (its findings) inside the transaction, once the file has its id and its anomalies are in. */
  withinTransaction?: (fileId: number) => void;
}

/**
 * Records a scored file, status 'done', and all its anomalies in ONE transaction: after a crash
 * (or an insert that fails part-way) the file is either fully present or absent, and an absent
 * file is scored again on the next start. The ledger is checked again inside the transaction, so
 * that `score` and the service scoring the same content at once cannot both store it.
 *
 * The write lock is held only for what needs it. The anomalies (500k rows for a 10M-row file)
 * are made, checked and staged first, without the lock; inside it go the ledger check, the file
 * row and one INSERT … SELECT of the staged rows. With `extras.contextState`, the context stage's
 * state after this file is saved in the same transaction, and `extras.withinTransaction` writes the
 * rest (findings) there too: whatever it throws rolls the whole file back.
 */
export function recordScoredFile(db: Database, file: ScoredFile, anomalies: Iterable<AnomalyRow>, extras: ScoredFileExtras = {}): RecordedScore {
  const { contextState, withinTransaction } = extras;
  stageAnomalies(db, anomalies, file.path);
  // SQLite checkpoints the WAL inside COMMIT once it holds 1,000 pages (a 10M-row file writes
  // 50,000). That happens after the lock is released, but within the COMMIT call: it is run here
  // after the commit instead, so that lockSeconds is the time the lock was held and no more.
  const autoCheckpoint = db.pragma('wal_autocheckpoint', { simple: true }) as number;
  db.pragma('wal_autocheckpoint = 0');
  try {
    let locked = 0;
    // IMMEDIATE: the write lock is taken at BEGIN, so waiting for another writer happens before any
    // work, within busy_timeout, instead of failing half-way.
    const recorded = db
      .transaction(() => {
        locked = performance.now();
        const seen = alreadySeen(db, file);
        if (seen !== undefined) return seen;
        const original = findDoneBySha256(db, file.sensor, file.sha256);
        if (original !== undefined) return { status: 'skipped' as const, fileId: insertSkipped(db, file, original.id), duplicateOf: original };
        const fileId = insertFile(db, { ...file, status: 'done', error: null, duplicateOf: null });
        insertStagedAnomalies(db, fileId);
        // The context state with this file counted: saved with its results, or not at all.
        if (contextState !== undefined) writeContextState(db, file.sensor, fileId, contextState);
        withinTransaction?.(fileId);
        return { status: 'done' as const, fileId };
      })
      .immediate();
    const lockSeconds = (performance.now() - locked) / 1000;
    // PASSIVE, as the automatic one: it copies what no reader still needs and waits for no one.
    if (autoCheckpoint > 0) db.pragma('wal_checkpoint(PASSIVE)');
    return { ...recorded, lockSeconds };
  } finally {
    db.pragma(`wal_autocheckpoint = ${autoCheckpoint}`);
    clearStagedAnomalies(db);
  }
}

/**
 * Records a file that could not be scored, with why, unless this path with this content is in the
 * ledger by the time the write lock is held: the check is made again inside the transaction, so
 * two processes failing on the same file add one row, not two.
 */
export function recordFailedFile(db: Database, file: FailedFile, error: string): RecordedFailure {
  return db
    .transaction((): RecordedFailure => {
      const seen = alreadySeen(db, file);
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
    })
    .immediate();
}

/**
 * Records a file left out because its content was scored already, as file `duplicateOf`, unless
 * this path with this content is in the ledger by the time the write lock is held (checked again
 * inside the transaction, as for scored and failed files).
 */
export function recordSkippedFile(db: Database, file: FileIdentity, duplicateOf: number): RecordedSkip {
  return db
    .transaction((): RecordedSkip => {
      const seen = alreadySeen(db, file);
      if (seen !== undefined) return seen;
      return { status: 'skipped', fileId: insertSkipped(db, file, duplicateOf) };
    })
    .immediate();
}

function alreadySeen(db: Database, file: FileIdentity): AlreadySeen | undefined {
  const seen = findByPathAndSha256(db, file.sensor, file.path, file.sha256);
  return seen === undefined ? undefined : { status: 'already-seen', fileId: seen.id, previous: seen.status };
}

function insertSkipped(db: Database, file: FileIdentity, duplicateOf: number): number {
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
