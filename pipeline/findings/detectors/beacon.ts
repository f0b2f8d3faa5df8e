import { z } from 'zod';
import { wholeFrom } from '../../settings/schema-words.js';
import type { Modifiers } from '../modifier-registry.js';
import type { Surroundings } from '../around.js';
import type { FileActivity } from '../file-activity.js';
import { type Candidate, defineDetector, type Detector, mergedTotals, numberIn, pairCandidate } from '../detector.js';
import { grade, reaches, THRESHOLDS_SCHEMA, type Modifier } from '../grade.js';
import { bothInternal, clock, count, duration } from '../words.js';

const OPTIONS = z.strictObject({
  /** The beacon score, 0 to 1: RITA's four subscores, weighed equally. */
  thresholds: THRESHOLDS_SCHEMA,
  /** The fewest connections of a pair in a file for its rhythm to be measured (RITA: 4). */
  minConnections: wholeFrom(4),
});

export type BeaconOptions = z.infer<typeof OPTIONS>;

// A perfect beacon reaches high, not critical (critical is out of reach on a 0–1 score): as in
// RITA, what raises it further is around it (a destination nobody else reaches, a new pair).
export const DEFAULT_BEACON: Readonly<BeaconOptions> = { thresholds: { min: 0.7, low: 0.8, medium: 0.9, high: 0.95, critical: 1.01 }, minConnections: 4 };

// A file's pair whose timing and sizes score below this on average is not followed at all: most
// pairs are not periodic, and each followed one is a row written with every file.
const TRACK_FROM = 0.6;
const HOUR = 3600;
const DAY_HOURS = 24;
// RITA's defaults (default_config.hjson): the duration subscore needs 6 hours seen, and is full at
// 12 consecutive; the bimodal fit needs 11 hours, drops 1 outlier bar, and groups bars within 5%.
const DURATION_MIN_HOURS = 6;
const DURATION_IDEAL_HOURS = 12;
const BIMODAL_MIN_HOURS = 11;
const BIMODAL_OUTLIERS = 1;
const MODE_SENSITIVITY = 0.05;

/**
 * `beacon`: a source → destination pair contacted at a regular rhythm with regular sizes, scored
 * as RITA v5 does (`analysis/beacons.go`): the timestamp subscore (Bowley skewness and median
 * absolute deviation of the intervals), the data-size subscore (the same over sizes), the
 * histogram subscore (how flat the connections per hour are over the last day, or how well two
 * levels fit them) and the duration subscore (how much of the day it covers, or its longest run
 * of hours), each 0 to 1, weighed equally.
 *
 * RITA measures a day's timestamps at once; here each file (an hour of a zeekctl archive) gives its
 * intervals and sizes, the finding keeps their scores weighed by connections, and its connections
 * per hour over the last 24 hours. A pair with fewer than 4 connections in a file (a beacon slower
 * than one every 15 minutes, with hourly files) is not measured, nor (as in RITA) one with both
 * ends on the monitored network.
 */
function beacon(options: Readonly<BeaconOptions>, shared: Modifiers): Detector {
  return {
    type: 'beacon',
    detect(activity: FileActivity, around: Surroundings): Candidate[] {
      const found: Candidate[] = [];
      for (const pair of activity.pairs) {
        if (pair.connections < options.minConnections || bothInternal(pair.src, pair.dst, around)) continue;
        const times = activity.timesOf(pair);
        const timing = timingOf(times);
        if (timing === null) continue;
        const sizes = spreadScore(Float64Array.from(activity.sizesOf(pair)).sort(), 0);
        if ((timing.score + sizes.score) / 2 < TRACK_FROM) continue;
        const hours: Record<string, number> = {};
        for (const ts of times) {
          const hour = String(Math.floor(ts / HOUR));
          hours[hour] = (hours[hour] ?? 0) + 1;
        }
        found.push(
          pairCandidate('beacon', activity, pair, {
            tsScore: timing.score,
            tsWeight: timing.intervals,
            dsScore: sizes.score,
            dsWeight: pair.connections,
            medianInterval: timing.median,
            intervalMad: timing.mad,
            medianSize: sizes.median,
            sizeMad: sizes.mad,
            hours,
          }),
        );
      }
      return found;
    },
    merge(earlier, fresh) {
      const e = earlier.evidence;
      const f = fresh.evidence;
      const lastHour = Math.floor(Math.max(earlier.lastTs, fresh.lastTs) / HOUR);
      const hours: Record<string, number> = {};
      for (const source of [e.hours, f.hours] as Record<string, number>[]) {
        for (const [hour, n] of Object.entries(source ?? {})) if (Number(hour) > lastHour - DAY_HOURS) hours[hour] = (hours[hour] ?? 0) + n;
      }
      return mergedTotals(earlier, fresh, {
        ...f,
        tsScore: weighted(numberIn(e, 'tsScore'), numberIn(e, 'tsWeight'), numberIn(f, 'tsScore'), numberIn(f, 'tsWeight')),
        tsWeight: numberIn(e, 'tsWeight') + numberIn(f, 'tsWeight'),
        dsScore: weighted(numberIn(e, 'dsScore'), numberIn(e, 'dsWeight'), numberIn(f, 'dsScore'), numberIn(f, 'dsWeight')),
        dsWeight: numberIn(e, 'dsWeight') + numberIn(f, 'dsWeight'),
        hours,
      });
    },
    assess(candidate: Candidate, around: Surroundings) {
      const e = candidate.evidence;
      const bars = hourBars(e.hours as Record<string, number>, Math.floor(candidate.lastTs / HOUR));
      const histScore = histogramScore(bars);
      const durScore = durationScore(bars, Math.max(candidate.firstTs, candidate.lastTs - DAY_HOURS * HOUR), candidate.lastTs);
      const score = round3((numberIn(e, 'tsScore') + numberIn(e, 'dsScore') + histScore + durScore) / 4);
      if (!reaches(score, options.thresholds)) return null;
      const modifiers = [shared.prevalence(candidate.src!, candidate.dst!, candidate.lastTs, around), shared.firstSeen(candidate.src!, candidate.dst!, candidate.firstTs, around)].filter(
        (m): m is Modifier => m !== null,
      );
      return {
        grade: grade('beacon score (0–1)', score, options.thresholds, modifiers),
        derived: { histScore, durScore, beaconScore: score },
        summary:
          `${candidate.src} → ${candidate.dst} every ${duration(numberIn(e, 'medianInterval'))} ± ${duration(numberIn(e, 'intervalMad'))}, ` +
          `${count(numberIn(e, 'medianSize'))} ± ${count(numberIn(e, 'sizeMad'))} bytes, ${count(candidate.connections)} connections over ` +
          `${bars.filter((n) => n > 0).length} of the last 24 hours (beacon score ${score.toFixed(2)}: timing ${numberIn(e, 'tsScore').toFixed(2)}, ` +
          `sizes ${numberIn(e, 'dsScore').toFixed(2)}, hourly histogram ${histScore.toFixed(2)}, duration ${durScore.toFixed(2)}), until ${clock(candidate.lastTs)}`,
      };
    },
  };
}

/** The timestamp subscore of RITA: over whole-second times, the non-zero intervals (at least 3). */
function timingOf(times: Float64Array): { score: number; intervals: number; median: number; mad: number } | null {
  const seconds = times.map(Math.floor).sort();
  const intervals: number[] = [];
  for (let i = 1; i < seconds.length; i++) {
    const interval = seconds[i]! - seconds[i - 1]!;
    if (interval > 0) intervals.push(interval);
  }
  if (intervals.length < 3) return null;
  return { ...spreadScore(Float64Array.from(intervals).sort(), 1), intervals: intervals.length };
}

/**
 * RITA's statistical score of sorted values: the mean of 1 − |Bowley skewness| (taken as 0 when
 * the interquartile range is under 10 or the median is a quartile) and (median − MAD) / median
 * (`defaultMad` when the median is below 1), each at least 0.
 */
function spreadScore(sorted: Float64Array, defaultMad: number): { score: number; median: number; mad: number } {
  const { q1, q2, q3 } = quartiles(sorted);
  const spread = q3 - q1;
  const skew = spread >= 10 && q2 !== q1 && q2 !== q3 ? (q1 + q3 - 2 * q2) / spread : 0;
  const skewScore = 1 - Math.abs(skew);
  const mad = medianOf(sorted.map((v) => Math.abs(v - q2)).sort());
  const madScore = q2 >= 1 ? Math.max(0, (q2 - mad) / q2) : defaultMad;
  return { score: round3((skewScore + madScore) / 2), median: q2, mad };
}

/** Quartiles as RITA's statistics library takes them: Q2 the median, Q1 and Q3 the medians of the halves below and above it. */
function quartiles(sorted: Float64Array): { q1: number; q2: number; q3: number } {
  const n = sorted.length;
  const half = Math.floor(n / 2);
  return { q1: medianOf(sorted.slice(0, half)), q2: medianOf(sorted), q3: medianOf(sorted.slice(n % 2 === 0 ? half : half + 1)) };
}

function medianOf(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Connections in each of the 24 hours up to `lastHour`, oldest first. */
function hourBars(hours: Record<string, number> | undefined, lastHour: number): number[] {
  return Array.from({ length: DAY_HOURS }, (_, i) => hours?.[String(lastHour - DAY_HOURS + 1 + i)] ?? 0);
}

/** RITA's histogram subscore: the larger of 1 − the bars' coefficient of variation, and the bimodal fit. */
function histogramScore(bars: readonly number[]): number {
  const total = bars.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const mean = total / bars.length;
  const sd = Math.sqrt(bars.reduce((sum, n) => sum + (n - mean) ** 2, 0) / bars.length);
  const cv = sd / mean;
  const cvScore = cv > 1 ? 0 : round3(1 - cv);
  const barCount = bars.filter((n) => n > 0).length;
  let bimodal = 0;
  if (barCount >= BIMODAL_MIN_HOURS) {
    const binSize = Math.ceil(Math.max(...bars) * MODE_SENSITIVITY);
    const levels = new Map<number, number>();
    for (const n of bars) if (n > 0) levels.set(Math.floor(n / binSize) * binSize, (levels.get(Math.floor(n / binSize) * binSize) ?? 0) + 1);
    const [largest = 0, second = 0] = [...levels.values()].sort((a, b) => b - a);
    bimodal = Math.min(1, round3((largest + second) / Math.max(barCount - BIMODAL_OUTLIERS, 1)));
  }
  return Math.max(cvScore, bimodal);
}

/** RITA's duration subscore, once 6 hours are seen: the larger of the share of the day covered and the longest run of hours over 12. */
function durationScore(bars: readonly number[], first: number, last: number): number {
  const barCount = bars.filter((n) => n > 0).length;
  if (barCount < DURATION_MIN_HOURS) return 0;
  const coverage = Math.min(1, Math.ceil(((last - first) / (DAY_HOURS * HOUR)) * 1000) / 1000);
  // The longest run of consecutive hours, wrapping from the end of the day to its start as RITA does.
  let longest = 0;
  let run = 0;
  for (let i = 0; i < bars.length * 2; i++) {
    run = bars[i % bars.length]! > 0 ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  const consistency = Math.min(1, Math.ceil((Math.min(longest, bars.length) / DURATION_IDEAL_HOURS) * 1000) / 1000);
  return Math.max(coverage, consistency);
}

function weighted(a: number, wa: number, b: number, wb: number): number {
  return wa + wb > 0 ? round3((a * wa + b * wb) / (wa + wb)) : 0;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

export const beaconDetector = defineDetector({
  type: 'beacon',
  key: 'beacon',
  logs: ['conn'],
  about: 'a source → destination pair contacted at a regular rhythm with regular sizes, scored as RITA v5 scores beacons',
  options: OPTIONS,
  defaults: DEFAULT_BEACON,
  make: beacon,
});
