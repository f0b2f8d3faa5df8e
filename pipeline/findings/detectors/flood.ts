import { z } from 'zod';
import type { FileActivity } from '../file-activity.js';
import { type Candidate, defineDetector, type Detector, mergedTotals, numberIn } from '../detector.js';
import { grade, reaches, THRESHOLDS_SCHEMA, type Modifier } from '../grade.js';
import { clock, count, isGroupAddress } from '../words.js';

const OPTIONS = z.strictObject({
  /** Refused or unanswered connections to one service in its busiest minute. */
  thresholds: THRESHOLDS_SCHEMA,
});

export type FloodOptions = z.infer<typeof OPTIONS>;

export const DEFAULT_FLOOD: Readonly<FloodOptions> = { thresholds: { min: 100, low: 300, medium: 1000, high: 3000, critical: 10_000 } };

// Past this many distinct sources, the flood is distributed (or its sources spoofed).
const MANY_SOURCES = 100;

/**
 * `flood`: many half-open, refused or unanswered connections to one service (destination:port/
 * proto) in a short time, from any sources: a SYN flood, a service overwhelmed. Measured by the
 * busiest minute; many distinct sources add to the score.
 */
function flood(options: Readonly<FloodOptions>): Detector {
  return {
    type: 'flood',
    detect(activity: FileActivity): Candidate[] {
      const found: Candidate[] = [];
      // Half the minimum in a file is worth a track: a flood across two files' boundary splits.
      for (const service of activity.serviceFailures(options.thresholds.min / 2)) {
        const peak = service.peakPerMinute;
        if (isGroupAddress(service.dst)) continue;
        found.push({
          type: 'flood',
          src: null,
          dst: service.dst,
          port: service.port,
          proto: service.proto,
          firstTs: service.firstTs,
          lastTs: service.lastTs,
          connections: service.failed,
          bytesOut: 0,
          bytesIn: 0,
          evidence: { peakPerMinute: peak, failed: service.failed, sources: service.sources },
          uids: { first: service.firstUid, last: service.lastUid, top: null },
        });
      }
      return found;
    },
    merge(earlier, fresh) {
      return mergedTotals(earlier, fresh, {
        peakPerMinute: Math.max(numberIn(earlier.evidence, 'peakPerMinute'), numberIn(fresh.evidence, 'peakPerMinute')),
        failed: numberIn(earlier.evidence, 'failed') + numberIn(fresh.evidence, 'failed'),
        // Distinct per file; across files the largest is a lower bound.
        sources: Math.max(numberIn(earlier.evidence, 'sources'), numberIn(fresh.evidence, 'sources')),
      });
    },
    assess(candidate: Candidate) {
      const peak = numberIn(candidate.evidence, 'peakPerMinute');
      if (!reaches(peak, options.thresholds)) return null;
      const sources = numberIn(candidate.evidence, 'sources');
      const modifiers: Modifier[] = [];
      if (sources >= MANY_SOURCES) modifiers.push({ name: 'many sources', points: 10, reason: `from ${count(sources)} distinct sources` });
      return {
        grade: grade('refused or unanswered connections in the busiest minute', peak, options.thresholds, modifiers),
        summary: `${count(numberIn(candidate.evidence, 'failed'))} refused or unanswered connections to ${candidate.dst}:${candidate.port}/${candidate.proto} from ${count(sources)} source${sources === 1 ? '' : 's'}, ${count(peak)} in the busiest minute, ${clock(candidate.firstTs)} to ${clock(candidate.lastTs)}`,
      };
    },
  };
}

export const floodDetector = defineDetector({
  type: 'flood',
  key: 'flood',
  logs: ['conn'],
  about: 'many refused or unanswered connections to one service in a short time (a SYN flood, a service overwhelmed), from any sources',
  options: OPTIONS,
  defaults: DEFAULT_FLOOD,
  make: flood,
});
