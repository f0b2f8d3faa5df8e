import type { z } from 'zod';
import type { FindingTrack } from '../../db/findings.js';
import type { Surroundings, ZeekLog } from './around.js';
import type { FileActivity, PairActivity } from './file-activity.js';
import type { Grade } from './grade.js';
import type { Modifiers } from './modifier-registry.js';

/**
 * What a detector saw of one entity: in one file (from `detect`), or gathered over several (after
 * `merge`). `evidence` holds the detector's own statistics, in a form `merge` can add to.
 */
export interface Candidate extends FindingTrack {
  /** The finding type (a detector's `type`). */
  type: string;
}

export interface Assessment {
  grade: Grade;
  /** One line of evidence in words. */
  summary: string;
  /** Values worked out while grading (a beacon's histogram subscore), stored with the evidence. */
  derived?: Record<string, unknown>;
}

/**
 * One kind of finding, configured. `detect` reads a file's activity and returns what it saw per
 * entity, `merge` folds a file's candidate into what earlier files gathered on the same entity, and
 * `assess` grades the result: a candidate whose measure reaches the detector's `min` threshold is a
 * finding; one below it is kept as a track until later files raise it (or `mergeGapHours` pass).
 */
export interface Detector {
  type: string;
  /** Reads the file's flagged connections (`FileActivity.flaggedBySource`), so it runs only once they are made. */
  readsFlags?: boolean;
  detect(activity: FileActivity, around: Surroundings): Candidate[];
  merge(earlier: Candidate, fresh: Candidate): Candidate;
  /** null while the candidate is below the detector's threshold. */
  assess(candidate: Candidate, around: Surroundings): Assessment | null;
}

/**
 * A detector's module: the finding type it raises, its config section (`findings.<key>`), its
 * options' schema and defaults, the logs it reads, and `make`, which configures it with its
 * options and the shared modifiers. The registry (registry.ts) lists them; the type names, the
 * config schema and the docs' table follow from it.
 */
export interface DetectorDefinition<Type extends string, Key extends string, Schema extends z.ZodObject> {
  type: Type;
  key: Key;
  logs: readonly ZeekLog[];
  /** What it finds, in a line, for docs/findings.md. */
  about: string;
  options: Schema;
  defaults: Readonly<z.infer<Schema>>;
  make(options: Readonly<z.infer<Schema>>, modifiers: Modifiers): Detector;
}

export function defineDetector<const Type extends string, const Key extends string, Schema extends z.ZodObject>(
  definition: DetectorDefinition<Type, Key, Schema>,
): DetectorDefinition<Type, Key, Schema> {
  return definition;
}

/** A candidate on a whole pair (src → dst, any port): its span, totals and uids in the file, and `evidence`. */
export function pairCandidate(type: string, activity: FileActivity, pair: PairActivity, evidence: Record<string, unknown>): Candidate {
  return {
    type,
    src: pair.src,
    dst: pair.dst,
    port: null,
    proto: null,
    firstTs: pair.firstTs,
    lastTs: pair.lastTs,
    connections: pair.connections,
    bytesOut: pair.bytesOut,
    bytesIn: pair.bytesIn,
    evidence,
    uids: { ...activity.uidsOf(pair), top: null },
  };
}

/** The parts every merge shares: the span covered and the sums; `evidence` is the detector's. */
export function mergedTotals(earlier: Candidate, fresh: Candidate, evidence: Record<string, unknown>): Candidate {
  return {
    ...fresh,
    firstTs: Math.min(earlier.firstTs, fresh.firstTs),
    lastTs: Math.max(earlier.lastTs, fresh.lastTs),
    connections: earlier.connections + fresh.connections,
    bytesOut: earlier.bytesOut + fresh.bytesOut,
    bytesIn: earlier.bytesIn + fresh.bytesIn,
    evidence,
    // The entity's earliest and latest connections seen: where each end of the span came from.
    uids: {
      first: fresh.firstTs < earlier.firstTs ? fresh.uids.first : (earlier.uids.first ?? fresh.uids.first),
      last: fresh.lastTs >= earlier.lastTs ? fresh.uids.last : (earlier.uids.last ?? fresh.uids.last),
      top: null,
    },
  };
}

/** A number from a stored evidence object, or `fallback` when it is missing or not a number. */
export function numberIn(evidence: Record<string, unknown>, key: string, fallback = 0): number {
  const value = evidence[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}
