import type { Db } from '../../db/connection.js';
import type { ContextState } from '../context/context-state.js';
import { detectCandidates } from './detect-findings.js';
import type { Candidate, Detector } from './detector.js';
import { AllowList } from './allow-list.js';
import { FileActivity } from './file-activity.js';
import type { FindingsOptions } from './findings-settings.js';
import { makeModifiers } from './modifier-registry.js';
import { makeDetectors } from './registry.js';
import { recordFindings, type FindingsWritten } from './record-findings.js';
import { networkTest, surroundingsOf } from './surroundings.js';

const DAY = 86_400;

/** A file's findings, worked out and ready to be written inside its transaction. */
export interface DetectedFindings {
  candidates: Candidate[];
  write(db: Db, file: { id: number; sensor: string }): FindingsWritten;
}

/**
 * The findings stage as the scorer uses it: a `FileActivity` gathers each file's connections while
 * it is scored, `detect` runs the detectors over it (before the write lock), and the result's
 * `write` folds it into the stored findings inside the file's transaction.
 */
export class FindingsStage {
  readonly options: Readonly<FindingsOptions>;
  private readonly allowList: AllowList;
  private readonly detectors: ReadonlyMap<string, Detector>;
  private readonly isInternal: (address: string) => boolean;
  /** Internal source hosts seen in the last day of log time, with the end of the last file each was in. */
  private readonly internalHosts = new Map<string, number>();

  constructor(options: Readonly<FindingsOptions>) {
    this.options = options;
    this.detectors = makeDetectors(options, makeModifiers(options.modifiers));
    this.isInternal = networkTest(options.internalNetworks);
    this.allowList = new AllowList(options.allow);
  }

  newActivity(): FileActivity {
    return new FileActivity({ maxPairs: this.options.maxPairs, longConnectionSeconds: this.options.longConnection.thresholds.min });
  }

  /** `context`: the context state with this file counted, or null when scoring without context. */
  detect(activity: FileActivity, context: ContextState | null, modelVersion: string): DetectedFindings {
    for (const host of activity.sourceRows.keys()) if (this.isInternal(host)) this.internalHosts.set(host, activity.lastTs);
    for (const [host, seen] of this.internalHosts) if (seen < activity.lastTs - DAY) this.internalHosts.delete(host);
    const around = surroundingsOf(context, this.isInternal, this.internalHosts);
    const allowed = (c: Candidate): boolean => this.allowList.allowing(c) === null;
    const candidates = detectCandidates(this.detectors, activity, around).filter(allowed);
    return {
      candidates,
      // The file's flags are counted as its anomalies are staged, before its transaction: the
      // detectors that read them run here, inside it.
      write: (db, file) =>
        recordFindings(db, {
          fileId: file.id,
          sensor: file.sensor,
          candidates: [...candidates, ...detectCandidates(this.detectors, activity, around, true).filter(allowed)],
          detectors: this.detectors,
          around,
          modelVersion,
          mergeGapHours: this.options.mergeGapHours,
          fileLastTs: activity.lastTs,
        }),
    };
  }
}
