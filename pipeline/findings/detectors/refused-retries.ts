import { z } from 'zod';
import { numberFrom } from '../../settings/schema-words.js';
import type { Modifiers } from '../modifier-registry.js';
import type { Surroundings } from '../around.js';
import type { FileActivity } from '../file-activity.js';
import { type Candidate, defineDetector, type Detector, mergedTotals, numberIn } from '../detector.js';
import { grade, reaches, THRESHOLDS_SCHEMA, type Modifier } from '../grade.js';
import { clock, count, isGroupAddress } from '../words.js';

const OPTIONS = z.strictObject({
  /** Refused or unanswered attempts on one channel, over the finding's life. */
  thresholds: THRESHOLDS_SCHEMA,
  /** The least share of a channel's connections (in a file) refused or unanswered for it to count. */
  minFailedShare: numberFrom(0, 1),
});

export type RefusedRetriesOptions = z.infer<typeof OPTIONS>;

export const DEFAULT_REFUSED_RETRIES: Readonly<RefusedRetriesOptions> = {
  thresholds: { min: 30, low: 60, medium: 300, high: 1000, critical: 5000 },
  minFailedShare: 0.8,
};

// A channel refused fewer times than this in a file is left out: one-off refusals are everywhere.
const MIN_ATTEMPTS_PER_FILE = 3;

/**
 * `refused-retries`: one source trying the same channel (destination:port/proto) again and again
 * while it is refused or unanswered (Zeek's S0, REJ, RSTOS0, RSTRH, SH, SHR, OTH): a piece of
 * malware calling a C2 server that is down or blocked, a misconfigured client. Measured by the
 * attempts over the finding's life; lasting over an hour and a destination few hosts reach add to
 * the score.
 */
function refusedRetries(options: Readonly<RefusedRetriesOptions>, shared: Modifiers): Detector {
  return {
    type: 'refused-retries',
    detect(activity: FileActivity): Candidate[] {
      const found: Candidate[] = [];
      for (const channel of activity.channelFailures()) {
        if (channel.failed < MIN_ATTEMPTS_PER_FILE || channel.failed < options.minFailedShare * channel.connections || isGroupAddress(channel.dst)) continue;
        found.push({
          type: 'refused-retries',
          src: channel.src,
          dst: channel.dst,
          port: channel.port,
          proto: channel.proto,
          firstTs: channel.firstTs,
          lastTs: channel.lastTs,
          connections: channel.connections,
          bytesOut: 0,
          bytesIn: 0,
          evidence: { attempts: channel.failed, states: channel.states },
          uids: { first: channel.firstUid, last: channel.lastUid, top: null },
        });
      }
      return found;
    },
    merge(earlier, fresh) {
      const states = { ...(earlier.evidence.states as Record<string, number>) };
      for (const [state, n] of Object.entries(fresh.evidence.states as Record<string, number>)) states[state] = (states[state] ?? 0) + n;
      return mergedTotals(earlier, fresh, { attempts: numberIn(earlier.evidence, 'attempts') + numberIn(fresh.evidence, 'attempts'), states });
    },
    assess(candidate: Candidate, around: Surroundings) {
      const attempts = numberIn(candidate.evidence, 'attempts');
      if (!reaches(attempts, options.thresholds)) return null;
      const modifiers: Modifier[] = [];
      const hours = (candidate.lastTs - candidate.firstTs) / 3600;
      if (hours >= 1) modifiers.push({ name: 'persistent', points: 10, reason: `going on for ${hours.toFixed(1)} h` });
      // The rare half of prevalence alone: a common destination refusing a channel says nothing here.
      const prevalence = shared.prevalence(candidate.src!, candidate.dst!, candidate.lastTs, around);
      const rare = prevalence !== null && prevalence.points > 0 ? prevalence : null;
      if (rare !== null) modifiers.push(rare);
      const states = Object.entries(candidate.evidence.states as Record<string, number>)
        .sort((a, b) => b[1] - a[1])
        .map(([state, n]) => `${state} ${count(n)}`)
        .join(', ');
      return {
        grade: grade('refused or unanswered attempts', attempts, options.thresholds, modifiers),
        summary: `${count(attempts)} refused or unanswered attempts (${states}) from ${candidate.src} to ${candidate.dst}:${candidate.port}/${candidate.proto}, ${clock(candidate.firstTs)} to ${clock(candidate.lastTs)}`,
      };
    },
  };
}

export const refusedRetriesDetector = defineDetector({
  type: 'refused-retries',
  key: 'refusedRetries',
  logs: ['conn'],
  about: 'one source trying the same channel again and again while it is refused or unanswered (malware calling a C2 server that is down or blocked)',
  options: OPTIONS,
  defaults: DEFAULT_REFUSED_RETRIES,
  make: refusedRetries,
});
