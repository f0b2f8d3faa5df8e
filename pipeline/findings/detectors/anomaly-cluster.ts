import { z } from 'zod';
import { wholeFrom } from '../../settings/schema-words.js';
import type { FileActivity } from '../file-activity.js';
import { type Candidate, defineDetector, type Detector, mergedTotals, numberIn } from '../detector.js';
import { grade, reaches, THRESHOLDS_SCHEMA } from '../grade.js';
import { clock, count } from '../words.js';

const OPTIONS = z.strictObject({
  /** How many times the file's flag rate a source's connections were flagged at (its lift). */
  thresholds: THRESHOLDS_SCHEMA,
  /** The fewest flagged connections of a source for a finding. */
  minFlagged: wholeFrom(1),
});

export type AnomalyClusterOptions = z.infer<typeof OPTIONS>;

// At the default 5% flagged per file, a source whose every connection is flagged has a lift of 20.
export const DEFAULT_ANOMALY_CLUSTER: Readonly<AnomalyClusterOptions> = { thresholds: { min: 4, low: 6, medium: 10, high: 15, critical: 19.5 }, minFlagged: 20 };

/**
 * `anomaly-cluster`: a source whose connections the autoencoder flagged far above the file's rate,
 * the model's own voice in the list. It reads the file's flags, so it runs once they are made
 * (`readsFlags`), and a source another detector raised or updated a finding on in the same file is
 * left to that finding, which already says why.
 */
function anomalyCluster(options: Readonly<AnomalyClusterOptions>): Detector {
  return {
    type: 'anomaly-cluster',
    readsFlags: true,
    detect(activity: FileActivity): Candidate[] {
      const flaggedInFile = [...activity.flaggedBySource.values()].reduce((a, b) => a + b, 0);
      if (flaggedInFile === 0 || activity.rows === 0) return [];
      const rate = flaggedInFile / activity.rows;
      const found: Candidate[] = [];
      for (const [src, flagged] of activity.flaggedBySource) {
        const rows = activity.sourceRows.get(src) ?? flagged;
        // Half the flags a finding needs is worth a track: a host flagged all evening adds up.
        if (flagged < options.minFlagged / 2 || flagged / rows / rate < options.thresholds.min) continue;
        found.push({
          type: 'anomaly-cluster',
          src,
          dst: null,
          port: null,
          proto: null,
          // A source's earliest and latest connections are not followed; its top flagged one is the finding's sample.
          uids: { first: null, last: null, top: null },
          firstTs: activity.firstTs,
          lastTs: activity.lastTs,
          connections: rows,
          bytesOut: 0,
          bytesIn: 0,
          evidence: { flagged, rows, expected: rows * rate },
        });
      }
      return found;
    },
    merge(earlier, fresh) {
      const sum = (key: string): number => numberIn(earlier.evidence, key) + numberIn(fresh.evidence, key);
      return mergedTotals(earlier, fresh, { flagged: sum('flagged'), rows: sum('rows'), expected: sum('expected') });
    },
    assess(candidate: Candidate) {
      const flagged = numberIn(candidate.evidence, 'flagged');
      const expected = numberIn(candidate.evidence, 'expected');
      const lift = expected > 0 ? flagged / expected : 0;
      if (flagged < options.minFlagged || !reaches(lift, options.thresholds)) return null;
      return {
        grade: grade("times the files' flag rate", lift, options.thresholds),
        summary: `${count(flagged)} of ${count(numberIn(candidate.evidence, 'rows'))} connections from ${candidate.src} flagged by the autoencoder, ${lift.toFixed(1)} times the rate of their files (${count(expected)} expected), ${clock(candidate.firstTs)} to ${clock(candidate.lastTs)}`,
      };
    },
  };
}

export const anomalyClusterDetector = defineDetector({
  type: 'anomaly-cluster',
  key: 'anomalyCluster',
  logs: ['conn'],
  about: "a source whose connections the autoencoder flagged far above the file's rate: the model's own voice in the list",
  options: OPTIONS,
  defaults: DEFAULT_ANOMALY_CLUSTER,
  make: anomalyCluster,
});
