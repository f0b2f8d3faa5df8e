import type { Db } from '../../db/connection.js';
import {
  deleteTrack,
  type FindingFields,
  insertFinding,
  latestFindingOf,
  linkFindingAnomalies,
  linkFindingFile,
  pruneTracksBefore,
  saveTrack,
  setFindingUids,
  type StoredFinding,
  topFlaggedUid,
  trackOf,
  type UidSample,
  updateFinding,
  SEVERITIES,
  type Severity,
} from '../../db/findings.js';
import { activeSuppressions } from '../../db/suppressions.js';
import { reopenFinding } from '../../db/triage.js';
import { SuppressionSet } from './suppression-set.js';
import type { Surroundings } from './around.js';
import type { Assessment, Candidate, Detector } from './detector.js';
import type { Grade } from './grade.js';

/** What one file did to the findings. */
export interface FindingsWritten {
  raised: number;
  updated: number;
  /** Candidates below their threshold, kept (or added to) as tracks. */
  tracked: number;
  /** Findings set aside as benign or closed that came back (`whyReopen`). */
  reopened: number;
}

export interface RecordFindingsInput {
  fileId: number;
  /** The file's sensor: the findings and tracks it adds to are that sensor's. */
  sensor: string;
  candidates: readonly Candidate[];
  detectors: ReadonlyMap<string, Detector>;
  around: Surroundings;
  modelVersion: string;
  mergeGapHours: number;
  /** The file's last connection time: tracks idle longer than the merge gap before it are dropped. */
  fileLastTs: number;
}

/**
 * Folds a file's candidates into the stored findings: each one updates the latest finding of its
 * type and entity when that finding's last connection is within the merge gap, else it adds to the
 * entity's track (what earlier files gathered below the threshold) and becomes a new finding once
 * it reaches the threshold. Opens no transaction: run it inside the file's (record-file.ts'
 * `withinTransaction`), so a file's part in the findings is written once or not at all.
 */
export function recordFindings(db: Db, input: RecordFindingsInput): FindingsWritten {
  const { fileId, sensor, candidates, detectors, around, modelVersion } = input;
  const gap = input.mergeGapHours * 3600;
  const now = new Date().toISOString();
  const written: FindingsWritten = { raised: 0, updated: 0, tracked: 0, reopened: 0 };
  // Read once a file, when a finding is first updated: a suppression made or revoked since the last file counts.
  let suppressions: SuppressionSet | undefined;
  // Sources another detector speaks for in this file: the model's flags on them are its evidence.
  const explained = new Set<string>();
  for (const fresh of candidates) {
    const detector = detectors.get(fresh.type);
    if (detector === undefined) throw new Error(`no detector for finding type '${fresh.type}'`);
    if (detector.readsFlags === true && fresh.src !== null && explained.has(fresh.src)) continue;
    const stored = latestFindingOf(db, sensor, fresh);
    if (stored !== undefined && fresh.firstTs - stored.lastTs <= gap) {
      const merged = detector.merge(candidateOf(stored), fresh);
      // Below the threshold after all (an upload whose replies caught up): the finding keeps its grade.
      const assessment = detector.assess(merged, around) ?? { grade: { score: stored.score, severity: stored.severity }, summary: stored.summary };
      const fields = fieldsOf(merged, assessment, modelVersion);
      updateFinding(db, stored.id, { ...fields, uids: { ...fields.uids, top: stored.uids.top } }, now);
      suppressions ??= new SuppressionSet(activeSuppressions(db, now));
      const reopening = suppressions.covering(stored, sensor) === null ? whyReopen(stored, fields.severity, fresh) : null;
      if (reopening !== null) {
        reopenFinding(db, stored.id, sensor, stored.status, reopening, now);
        written.reopened++;
      }
      link(db, stored.id, fileId, fresh, fresh.connections, { ...fields.uids, top: stored.uids.top });
      if (fresh.src !== null) explained.add(fresh.src);
      written.updated++;
      continue;
    }
    const track = trackOf(db, sensor, fresh);
    const gathered = track !== undefined && fresh.firstTs - track.lastTs <= gap ? detector.merge({ ...track, type: fresh.type }, fresh) : fresh;
    const assessment = detector.assess(gathered, around);
    if (assessment === null) {
      saveTrack(db, sensor, gathered);
      written.tracked++;
      continue;
    }
    const fields = fieldsOf(gathered, assessment, modelVersion);
    const id = insertFinding(db, sensor, fields, now);
    // The file that raises a finding is credited with what its track gathered before it, too.
    link(db, id, fileId, fresh, gathered.connections, fields.uids);
    if (track !== undefined) deleteTrack(db, sensor, fresh);
    if (fresh.src !== null) explained.add(fresh.src);
    written.raised++;
  }
  pruneTracksBefore(db, sensor, input.fileLastTs - gap);
  return written;
}

function link(db: Db, findingId: number, fileId: number, fresh: Candidate, connections: number, uids: UidSample): void {
  linkFindingFile(db, findingId, fileId, connections);
  if (linkFindingAnomalies(db, findingId, fileId, fresh, fresh) > 0) {
    // The sample's third uid: the highest-scored flagged connection of all the finding's files.
    setFindingUids(db, findingId, { ...uids, top: topFlaggedUid(db, findingId) });
  }
}

/**
 * Why a finding an analyst set aside (`benign` or `closed`) must be looked at again, or null: its
 * severity rose, or its entity is active again after the verdict (connections logged after it was
 * given). A finding marked `threat` or `acknowledged` is being dealt with, and stays as it is; one
 * a suppression covers is not asked about (the caller checks).
 */
function whyReopen(stored: StoredFinding, severity: Severity, fresh: Candidate): string | null {
  if (stored.status !== 'benign' && stored.status !== 'closed') return null;
  if (SEVERITIES.indexOf(severity) > SEVERITIES.indexOf(stored.severity)) {
    return `reopened: its severity rose from ${stored.severity} to ${severity} after it was marked ${stored.status}`;
  }
  const verdictAt = stored.statusAt === null ? Number.NaN : Date.parse(stored.statusAt) / 1000;
  if (Number.isFinite(verdictAt) && fresh.lastTs > verdictAt) {
    return `reopened: active again after it was marked ${stored.status} at ${stored.statusAt}: ${fresh.connections} more connections, the last at ${new Date(fresh.lastTs * 1000).toISOString()}`;
  }
  return null;
}

/** An assessment, or a stored finding's grade kept as it was (which has no parts to show). */
type Graded = Omit<Assessment, 'grade'> & { grade: Pick<Grade, 'score' | 'severity'> & Partial<Pick<Grade, 'parts'>> };

function fieldsOf(candidate: Candidate, assessment: Graded, modelVersion: string): FindingFields {
  return {
    type: candidate.type,
    src: candidate.src,
    dst: candidate.dst,
    port: candidate.port,
    proto: candidate.proto,
    severity: assessment.grade.severity,
    score: assessment.grade.score,
    firstTs: candidate.firstTs,
    lastTs: candidate.lastTs,
    connections: candidate.connections,
    bytesOut: candidate.bytesOut,
    bytesIn: candidate.bytesIn,
    summary: assessment.summary,
    evidence: { ...candidate.evidence, ...assessment.derived, ...(assessment.grade.parts === undefined ? {} : { grading: assessment.grade.parts }) },
    modelVersion,
    uids: candidate.uids,
  };
}

/** A stored finding as the candidate its detector merges into: the evidence without its grading, which is made anew. */
function candidateOf(stored: StoredFinding): Candidate {
  const evidence = { ...stored.evidence };
  delete evidence.grading;
  return { ...stored, evidence };
}
