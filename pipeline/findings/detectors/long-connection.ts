import { z } from 'zod';
import type { Modifiers } from '../modifier-registry.js';
import type { Surroundings } from '../around.js';
import type { FileActivity } from '../file-activity.js';
import { type Candidate, defineDetector, type Detector, mergedTotals, numberIn } from '../detector.js';
import { grade, reaches, THRESHOLDS_SCHEMA } from '../grade.js';
import { bothInternal, bytes, clock, count, duration } from '../words.js';

const OPTIONS = z.strictObject({
  /** The longest single connection on a channel, in seconds. */
  thresholds: THRESHOLDS_SCHEMA,
});

export type LongConnectionOptions = z.infer<typeof OPTIONS>;

// RITA starts at 1 h, with low at 4 h, medium 8 h and high 12 h. Workstations hold TLS sessions to
// cloud services (mail, chat, push) open for a working day: on the demo office's normal days those
// made 7 findings of medium or above at RITA's levels. Here a connection stands out (medium) once
// it outlasts a long working day (12 h), and high once it lasts a day.
export const DEFAULT_LONG_CONNECTION: Readonly<LongConnectionOptions> = { thresholds: { min: 3600, low: 28_800, medium: 43_200, high: 86_400, critical: 259_200 } };

/**
 * `long-connection`: a connection on one channel lasting hours (an interactive session left open,
 * a tunnel). Zeek logs a connection when it ends, so it is found in the file of its end. Measured
 * by the longest connection; the finding also counts every long one on the channel. A destination
 * few hosts reach adds to the score, one most reach takes from it; as in RITA, pairs with both ends
 * on the monitored network are left out (file shares and databases hold sessions for days).
 */
function longConnection(options: Readonly<LongConnectionOptions>, shared: Modifiers): Detector {
  return {
    type: 'long-connection',
    detect(activity: FileActivity, around: Surroundings): Candidate[] {
      const byChannel = new Map<string, Candidate>();
      for (const conn of activity.longConnections) {
        if (bothInternal(conn.src, conn.dst, around)) continue;
        const key = `${conn.src}>${conn.dst}:${conn.port}/${conn.proto}`;
        const fresh: Candidate = {
          type: 'long-connection',
          src: conn.src,
          dst: conn.dst,
          port: conn.port,
          proto: conn.proto,
          firstTs: conn.ts,
          lastTs: conn.ts + conn.duration,
          connections: 1,
          bytesOut: conn.bytesOut,
          bytesIn: conn.bytesIn,
          evidence: { longest: conn.duration, total: conn.duration, service: conn.service },
          uids: { first: conn.uid, last: conn.uid, top: null },
        };
        const earlier = byChannel.get(key);
        byChannel.set(key, earlier === undefined ? fresh : this.merge(earlier, fresh));
      }
      return [...byChannel.values()];
    },
    merge(earlier, fresh) {
      return mergedTotals(earlier, fresh, {
        longest: Math.max(numberIn(earlier.evidence, 'longest'), numberIn(fresh.evidence, 'longest')),
        total: numberIn(earlier.evidence, 'total') + numberIn(fresh.evidence, 'total'),
        service: fresh.evidence.service ?? earlier.evidence.service ?? null,
      });
    },
    assess(candidate: Candidate, around: Surroundings) {
      const longest = numberIn(candidate.evidence, 'longest');
      if (!reaches(longest, options.thresholds)) return null;
      const common = shared.prevalence(candidate.src!, candidate.dst!, candidate.lastTs, around);
      const service = typeof candidate.evidence.service === 'string' ? ` (${candidate.evidence.service})` : '';
      return {
        grade: grade('longest connection, seconds', longest, options.thresholds, common === null ? [] : [common]),
        summary: `${candidate.src} → ${candidate.dst}:${candidate.port}/${candidate.proto}${service}: a connection of ${duration(longest)}, ${count(candidate.connections)} long one${candidate.connections === 1 ? '' : 's'} in all, ${bytes(candidate.bytesOut)} out and ${bytes(candidate.bytesIn)} in, from ${clock(candidate.firstTs)}`,
      };
    },
  };
}

export const longConnectionDetector = defineDetector({
  type: 'long-connection',
  key: 'longConnection',
  logs: ['conn'],
  about: 'a connection on one channel lasting hours (an interactive session left open, a tunnel)',
  options: OPTIONS,
  defaults: DEFAULT_LONG_CONNECTION,
  make: longConnection,
});
