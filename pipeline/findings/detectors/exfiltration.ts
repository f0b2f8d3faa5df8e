import { z } from 'zod';
import { MAX, numberFrom } from '../../settings/schema-words.js';
import type { Modifiers } from '../modifier-registry.js';
import type { Surroundings } from '../around.js';
import type { FileActivity } from '../file-activity.js';
import { type Candidate, defineDetector, type Detector, mergedTotals, pairCandidate } from '../detector.js';
import { grade, reaches, THRESHOLDS_SCHEMA, type Modifier } from '../grade.js';
import { bytes, clock, count } from '../words.js';

const OPTIONS = z.strictObject({
  /** Bytes one internal source sent one external destination in the 24 hours up to its last connection. */
  thresholds: THRESHOLDS_SCHEMA,
  /** At least this many times more bytes out than back: an upload, not a download or a call. */
  minRatio: numberFrom(0, MAX),
});

export type ExfiltrationOptions = z.infer<typeof OPTIONS>;

const HOUR = 3600;

export const DEFAULT_EXFILTRATION: Readonly<ExfiltrationOptions> = {
  thresholds: { min: 50e6, low: 100e6, medium: 500e6, high: 2e9, critical: 10e9 },
  minRatio: 5,
};

/**
 * `exfiltration`: large outbound volume from one internal source to one external destination
 * (`findings.internalNetworks` says which are internal). Measured by the bytes sent in the last 24
 * hours (so a nightly backup reads as one night's worth, however many nights it has run); a destination few hosts reach and a pair first seen within the day add to the
 * score (RITA's prevalence and first-seen modifiers), one most hosts reach takes from it.
 */
function exfiltration(options: Readonly<ExfiltrationOptions>, shared: Modifiers): Detector {
  return {
    type: 'exfiltration',
    detect(activity: FileActivity, around: Surroundings): Candidate[] {
      const found: Candidate[] = [];
      for (const pair of activity.pairs) {
        // A tenth of the minimum in a file is worth a track: a slow upload adds up over hours.
        if (pair.bytesOut < options.thresholds.min / 10 || pair.bytesOut < options.minRatio * pair.bytesIn) continue;
        if (!around.isInternal(pair.src) || around.isInternal(pair.dst)) continue;
        // Files are an hour or so: the file's bytes go to the hour of its last connection.
        found.push(pairCandidate('exfiltration', activity, pair, { hourly: { [String(Math.floor(pair.lastTs / HOUR))]: pair.bytesOut } }));
      }
      return found;
    },
    merge(earlier, fresh) {
      const lastHour = Math.floor(Math.max(earlier.lastTs, fresh.lastTs) / HOUR);
      const hourly: Record<string, number> = {};
      for (const source of [earlier.evidence.hourly, fresh.evidence.hourly] as (Record<string, number> | undefined)[]) {
        for (const [hour, sent] of Object.entries(source ?? {})) if (Number(hour) > lastHour - 24) hourly[hour] = (hourly[hour] ?? 0) + sent;
      }
      return mergedTotals(earlier, fresh, { hourly });
    },
    assess(candidate: Candidate, around: Surroundings) {
      const lastDay = Object.values((candidate.evidence.hourly as Record<string, number> | undefined) ?? {}).reduce((a, b) => a + b, 0);
      if (!reaches(lastDay, options.thresholds) || candidate.bytesOut < options.minRatio * candidate.bytesIn) return null;
      const modifiers = [shared.prevalence(candidate.src!, candidate.dst!, candidate.lastTs, around), shared.firstSeen(candidate.src!, candidate.dst!, candidate.firstTs, around)].filter(
        (m): m is Modifier => m !== null,
      );
      return {
        grade: grade('bytes sent in the last 24 hours', lastDay, options.thresholds, modifiers),
        summary:
          `${candidate.src} sent ${bytes(lastDay)} to ${candidate.dst} in the 24 hours to ${clock(candidate.lastTs)}` +
          ` (${bytes(candidate.bytesOut)} out and ${bytes(candidate.bytesIn)} back in ${count(candidate.connections)} connections since ${clock(candidate.firstTs)})`,
      };
    },
  };
}

export const exfiltrationDetector = defineDetector({
  type: 'exfiltration',
  key: 'exfiltration',
  logs: ['conn'],
  about: 'large outbound volume from one internal source to one external destination in a day',
  options: OPTIONS,
  defaults: DEFAULT_EXFILTRATION,
  make: exfiltration,
});
