import type { Db } from '../../db/connection.js';
import { findByPathAndSha256, findDoneBySha256, mayKnowContent, type FileRow } from '../../db/files.js';
import { LeaseLostError } from '../../db/leases.js';
import { recordFailedFile, recordScoredFile, recordSkippedFile, type HeldLease, type RecordedScore } from '../../db/record-file.js';
import type { Tf } from '../../model/backend.js';
import type { ScoringModel } from '../../model/load-scoring-model.js';
import type { ContextKeeper } from './context-keeper.js';
import type { DetectedFindings, FindingsStage } from '../findings/findings-stage.js';
import type { FindingsWritten } from '../findings/record-findings.js';
import type { FileActivity } from '../findings/file-activity.js';
import type { FlaggedConnection } from '../first-read/candidate-table.js';
import { changeSince, hashedIdentity, identifyFile, statFile, UNKNOWN_CONTENT, type FileIdentity } from './file-identity.js';
import type { ReadThread } from '../first-read/read-thread.js';
import { scoreFile, type ScoreOptions, type ScoreOutcome } from '../score/score-file.js';

/** What happened to one file: the same outcome whether `score` or the service met it. */
export type FileOutcome =
  | {
      status: 'done';
      file: string;
      fileId: number;
      rows: number;
      badLines: number;
      flagged: number;
      threshold: number;
      modelVersion: string;
      seconds: number;
      rowsPerSecond: number;
      /** How long the database's write lock was held to store the file and its anomalies. */
      lockSeconds: number;
      /** What the file did to the findings; null without the findings stage. */
      findings: FindingsWritten | null;
    }
  | { status: 'failed'; file: string; fileId: number; error: string }
  | { status: 'skipped'; file: string; fileId: number; duplicateOf: { id: number; path: string } }
  /** This path with this content is in the ledger already (a restart, a rescan): nothing is written. */
  | { status: 'already-seen'; file: string; fileId: number; previous: string }
  /** Stopped before the file was finished (SIGINT, SIGTERM, or the `signal` of a lease found lost): nothing is written; it is scored again. */
  | { status: 'aborted'; file: string }
  /** The sensor's lease went to another scorer before the file was written: nothing is written; that scorer takes the file. */
  | { status: 'lease-lost'; file: string; heldBy: string | null };

export interface ProcessContext {
  db: Db;
  /** The sensor whose logs these are: the ledger, findings and context state written are its own. */
  sensor: string;
  tf: Tf;
  model: ScoringModel;
  options: ScoreOptions;
  /** The context state carried from file to file and saved with each stored file; without it, no context is counted. */
  context?: ContextKeeper;
  /** Reads, counts and featurises each file's first read on a thread of its own while this one scores. */
  readThread?: ReadThread;
  /** Detects findings in each file and writes them with its results; without it, none are. */
  findings?: FindingsStage;
  /** The sensor's lease this scorer holds: each write checks it is still held (db/leases.ts). */
  lease?: HeldLease;
}

/**
 * Scores one file into the database, exactly once: files are known by their content, so the
 * same content under a new name is skipped as a duplicate, a path whose content changed is
 * scored again, and a file seen before (done or failed) is not retried. A scored file and its
 * anomalies are written in one transaction.
 */
export async function processFile(context: ProcessContext, file: string): Promise<FileOutcome> {
  try {
    return await processFileOnce(context, file);
  } catch (error) {
    // The write's transaction found the lease gone and rolled back: the context state went back with it.
    if (error instanceof LeaseLostError) return { status: 'lease-lost', file, heldBy: error.heldBy };
    throw error;
  }
}

async function processFileOnce(context: ProcessContext, file: string): Promise<FileOutcome> {
  const { db, sensor, tf, model, options, context: keeper, readThread, findings, lease } = context;
  const startedAt = new Date().toISOString();
  const failedUnread = (size: number, error: string): FileOutcome => {
    // The failed row's content is unknown: the path alone says it was met, and it is recorded once.
    const recorded = recordFailedFile(db, { sensor, path: file, size, sha256: UNKNOWN_CONTENT, startedAt, finishedAt: new Date().toISOString() }, error, lease);
    if (recorded.status === 'already-seen') return { status: 'already-seen', file, fileId: recorded.fileId, previous: recorded.previous };
    return { status: 'failed', file, fileId: recorded.fileId, error };
  };
  const looked = await lookUp(db, sensor, file);
  if (looked.status === 'unreadable') return failedUnread(looked.size, looked.error);
  if (looked.status === 'known') {
    const { identity: known, seen } = looked;
    if (seen !== undefined) return { status: 'already-seen', file, fileId: seen.id, previous: seen.status };
    const original = findDoneBySha256(db, sensor, known.sha256);
    if (original !== undefined) {
      const recorded = recordSkippedFile(db, { sensor, path: file, size: known.size, sha256: known.sha256, startedAt, finishedAt: new Date().toISOString() }, original.id, lease);
      // Another process recorded this path with this content between the check above and the write.
      if (recorded.status === 'already-seen') return { status: 'already-seen', file, fileId: recorded.fileId, previous: recorded.previous };
      return { status: 'skipped', file, fileId: recorded.fileId, duplicateOf: { id: original.id, path: original.path } };
    }
  }
  // New content is hashed in the read that scores it.
  const sha256 = looked.status === 'new';

  // From here on, a file that is not stored must not stay counted in the context state: each way
  // out that stores nothing (a throw included) sends the state back to its saved copy.
  let outcome: ScoreOutcome;
  let detected: DetectedFindings | null = null;
  let activity: FileActivity | undefined;
  try {
    activity = findings?.newActivity();
    const withContext = keeper === undefined ? options : { ...options, context: { state: keeper.state, rewound: () => keeper.rewound() } };
    outcome = await scoreFile(tf, model, file, { ...withContext, activity, sha256, thread: readThread });
    detected = activity === undefined || findings === undefined || outcome.status !== 'scored' ? null : findings.detect(activity, keeper?.state ?? null, model.version);
  } catch (error) {
    keeper?.discard();
    throw error;
  }
  if (outcome.status !== 'scored') keeper?.discard();
  if (outcome.status === 'aborted') return { status: 'aborted', file };
  const finishedAt = new Date().toISOString();
  const identity: FileIdentity = looked.status === 'known' ? looked.identity : { path: file, size: looked.size, modifiedMs: looked.modifiedMs, sha256: await newContentHash(file, outcome) };
  const base = { sensor, path: file, size: identity.size, sha256: identity.sha256, startedAt };
  // What was scored must be the content that was hashed, or the ledger would vouch for rows it never saw.
  const change = outcome.status === 'scored' ? await changeSince(identity) : null;
  if (outcome.status === 'failed' || change !== null) {
    if (outcome.status === 'scored') keeper?.discard();
    const error = outcome.status === 'failed' ? outcome.error.message : `${file}: ${change}; it is scored again once it is stable`;
    const recorded = recordFailedFile(db, { ...base, finishedAt, modelVersion: model.version }, error, lease);
    if (recorded.status === 'already-seen') return { status: 'already-seen', file, fileId: recorded.fileId, previous: recorded.previous };
    return { status: 'failed', file, fileId: recorded.fileId, error };
  }
  const scored = {
    ...base,
    finishedAt,
    rows: outcome.rows,
    badLines: outcome.badLines,
    flagged: outcome.flaggedCount,
    threshold: outcome.threshold,
    thresholdMode: options.mode,
    modelVersion: model.version,
    firstTs: outcome.firstTs,
    lastTs: outcome.lastTs,
  };
  let recorded: RecordedScore;
  let findingsWritten: FindingsWritten | null = null;
  try {
    recorded = recordScoredFile(db, scored, activity === undefined ? outcome.flagged : countingFlags(outcome.flagged, activity), {
      contextState: keeper?.encode(),
      lease,
      withinTransaction: detected === null ? undefined : (fileId) => (findingsWritten = detected.write(db, { id: fileId, sensor })),
    });
  } catch (error) {
    keeper?.discard();
    throw error;
  }
  if (recorded.status !== 'done') keeper?.discard();
  // Another process (a `score` beside the service) stored this content while it was being scored.
  if (recorded.status === 'already-seen') return { status: 'already-seen', file, fileId: recorded.fileId, previous: recorded.previous };
  if (recorded.status === 'skipped') {
    return { status: 'skipped', file, fileId: recorded.fileId, duplicateOf: { id: recorded.duplicateOf.id, path: recorded.duplicateOf.path } };
  }
  return {
    status: 'done',
    file,
    fileId: recorded.fileId,
    rows: outcome.rows,
    badLines: outcome.badLines,
    flagged: outcome.flaggedCount,
    threshold: outcome.threshold,
    modelVersion: model.version,
    seconds: outcome.seconds,
    rowsPerSecond: outcome.seconds > 0 ? Math.round(outcome.rows / outcome.seconds) : 0,
    lockSeconds: recorded.lockSeconds,
    findings: findingsWritten,
  };
}

/**
 * Whether this path, with the content it has now, is in the sensor's ledger already (done, failed
 * or skipped): `processFile` would then write nothing for it. It writes nothing itself, so a scorer
 * waiting for the sensor's lease may ask it, and drop a file another scorer has finished meanwhile
 * instead of waiting for a turn that would only find it done. Content the ledger cannot know (no
 * row of this path and size, no scored file of this size) is not hashed.
 */
export async function inLedgerAlready(db: Db, sensor: string, file: string): Promise<boolean> {
  const looked = await lookUp(db, sensor, file);
  if (looked.status === 'known') return looked.seen !== undefined;
  if (looked.status === 'new') return false;
  // A file that cannot be read is recorded failed under its path alone, with no content.
  return findByPathAndSha256(db, sensor, file, UNKNOWN_CONTENT) !== undefined;
}

/** What the ledger can say of a file before it is read to be scored. */
type LookedUp =
  | { status: 'unreadable'; size: number; error: string }
  /** Content the ledger cannot know: new for certain, not hashed. */
  | { status: 'new'; size: number; modifiedMs: number }
  /** Hashed, and this path's latest row with this content, if any. */
  | { status: 'known'; identity: FileIdentity; seen: FileRow | undefined };

/**
 * Content the ledger may know (the same path and size, or a scored file of this very size) is
 * hashed first, so that a restart's rescan or a renamed copy costs a hash, not a scoring. Any other
 * file is new for certain: it is hashed in the read that scores it, one read in all.
 */
async function lookUp(db: Db, sensor: string, file: string): Promise<LookedUp> {
  const stated = await statFile(file);
  if (stated.status === 'unreadable') return stated;
  if (!mayKnowContent(db, sensor, file, stated.size)) return { status: 'new', size: stated.size, modifiedMs: stated.modifiedMs };
  const identified = await hashedIdentity(file, stated.size, stated.modifiedMs);
  if (identified.status === 'unreadable') return identified;
  return { status: 'known', identity: identified.identity, seen: findByPathAndSha256(db, sensor, file, identified.identity.sha256) };
}

/** The flagged rows, each counted into the file's activity as it is stored (the anomaly-cluster detector reads the counts). */
function* countingFlags(rows: Iterable<FlaggedConnection>, activity: FileActivity): Generator<FlaggedConnection> {
  for (const row of rows) {
    activity.countFlagged(row.origH);
    yield row;
  }
}

/**
 * The SHA-256 of a file hashed while it was scored. A scored file was read to its end; a failed one
 * may have been given up part-way (a rejected file), and is hashed in full in a read of its own, or
 * has unknown content when that read fails too.
 */
async function newContentHash(file: string, outcome: ScoreOutcome): Promise<string> {
  if (outcome.status === 'scored' && outcome.sha256 !== null) return outcome.sha256;
  const identified = await identifyFile(file);
  return identified.status === 'identified' ? identified.identity.sha256 : UNKNOWN_CONTENT;
}
