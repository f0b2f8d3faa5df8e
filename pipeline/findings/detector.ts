import type { FindingTrack } from '../../db/findings.js';
import type { FileActivity, PairActivity } from './file-activity.js';
import type { Grade } from './grade.js';

export type FindingType = 'beacon' | 'port-scan' | 'flood' | 'refused-retries' | 'exfiltration' | 'long-connection' | 'anomaly-cluster';

export const FINDING_TYPES: readonly FindingType[] = ['beacon', 'port-scan', 'flood', 'refused-retries', 'exfiltration', 'long-connection', 'anomaly-cluster'];

/**
 * What a detector saw of one entity: in one file (from `detect`), or gathered over several (after
 * `merge`). `evidence` holds the detector's own statistics, in a form `merge` can add to.
 */
export interface Candidate extends FindingTrack {
  type: FindingType;
}

/** What a detector may ask of the network beyond the file: the context state after it. */
export interface Surroundings {
  /** Internal hosts that contacted `dst` in the day before `now`; null when there is no context to ask. */
  destinationSources(dst: string, now: number): number | null;
  /** Internal hosts active in the day before `now`: 0 when none is known, and prevalence means nothing. */
  activeSources(now: number): number;
  /** When `src` first contacted `dst`, as far as the context remembers, or null. */
  pairFirstSeen(src: string, dst: string): number | null;
  /** The earliest first contact the context remembers: how far back its history goes; null without context. */
  historyStart(): number | null;
  /** Whether `address` is on the monitored network (config `findings.internalNetworks`). */
  isInternal(address: string): boolean;
}

export interface Assessment {
  grade: Grade;
  /** One line of evidence in words. */
  summary: string;
  /** Values worked out while grading (a beacon's histogram subscore), stored with the evidence. */
  derived?: Record<string, unknown>;
}

/**
 * One kind of finding. `detect` reads a file's activity and returns what it saw per entity,
 * `merge` folds a file's candidate into what earlier files gathered on the same entity, and
 * `assess` grades the result: a candidate whose measure reaches the detector's `min` threshold is a
 * finding; one below it is kept as a track until later files raise it (or a day passes).
 */
export interface Detector {
  type: FindingType;
  /** Reads the file's flagged connections (`FileActivity.flaggedBySource`), so it runs only once they are made. */
  readsFlags?: boolean;
  detect(activity: FileActivity, around: Surroundings): Candidate[];
  merge(earlier: Candidate, fresh: Candidate): Candidate;
  /** null while the candidate is below the detector's threshold. */
  assess(candidate: Candidate, around: Surroundings): Assessment | null;
}

/** A candidate on a whole pair (src → dst, any port): its span and totals in the file, and `evidence`. */
export function pairCandidate(type: FindingType, pair: PairActivity, evidence: Record<string, unknown>): Candidate {
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
  };
}

/** A number from a stored evidence object, or `fallback` when it is missing or not a number. */
export function numberIn(evidence: Record<string, unknown>, key: string, fallback = 0): number {
  const value = evidence[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}
