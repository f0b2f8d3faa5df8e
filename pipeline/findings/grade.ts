import { z } from 'zod';
import type { Severity } from '../../db/findings.js';
import { MAX, numberFrom } from '../settings/schema-words.js';

/**
 * The values of a detector's measure at which a finding is raised (`min`) and each severity
 * begins, rising. Below `low` a finding is `info`; below `min` there is none.
 */
export const THRESHOLDS_SCHEMA = z
  .strictObject({ min: numberFrom(0, MAX), low: numberFrom(0, MAX), medium: numberFrom(0, MAX), high: numberFrom(0, MAX), critical: numberFrom(0, MAX) })
  .refine((t) => t.min <= t.low && t.low <= t.medium && t.medium <= t.high && t.high < t.critical, { error: 'must rise: min ≤ low ≤ medium ≤ high < critical' })
  .describe('{ min, low, medium, high, critical }, rising');

export type Thresholds = z.infer<typeof THRESHOLDS_SCHEMA>;

/** A part of the score added or taken for something around the finding (RITA's "modifiers"). */
export interface Modifier {
  name: string;
  points: number;
  /** Why, in words: "destination contacted by 1 of 40 active hosts in the last day". */
  reason: string;
}

/**
 * The order every finding is graded in, written once and applied only by `grade`:
 *  1. `measure`: the detector's measure against its thresholds gives the base score;
 *  2. `direction`: who started it, inside or outside the monitored network, adds or takes points;
 *  3. `modifiers`: what is around it (prevalence, a new pair, the detector's own) adds or takes points;
 *  4. `band`: a per-sensor shift of the severity bands (an alert budget) applies last.
 * Each step is kept in `evidence.grading.steps` with its points and the score after it, so a
 * finding's score can be read back step by step. No detector sets `direction` or `band` yet.
 */
export const GRADING_ORDER = ['measure', 'direction', 'modifiers', 'band'] as const;

export interface GradingStep {
  step: (typeof GRADING_ORDER)[number];
  points: number;
  /** The score after this step, 0 to 100. */
  score: number;
  /** What the step applied, in words; absent where it applied nothing. */
  reason?: string;
}

export interface Grade {
  score: number;
  severity: Severity;
  /** How the score was made, step by step, for the evidence. */
  parts: { measure: string; value: number; thresholds: Thresholds; base: number; direction: Modifier | null; modifiers: Modifier[]; band: Modifier | null; steps: GradingStep[] };
}

/** Beyond the measure: the steps after it, each optional. */
export interface GradeAdjustments {
  direction?: Modifier | null;
  band?: Modifier | null;
}

// Each severity is a band of 20 points: info 0–20, low 20–40, medium 40–60, high 60–80, critical 80–100.
const BAND = 20;

/**
 * The score (0–100) of a measure against its thresholds, then the steps of `GRADING_ORDER`: the
 * measure sets the base score, rising through each severity's band between its thresholds (on a
 * log scale, since the measures are counts and bytes that span orders of magnitude); direction,
 * the modifiers and a band shift add or take points in that order. The severity is the band the
 * final score falls in.
 */
export function grade(measure: string, value: number, thresholds: Thresholds, modifiers: Modifier[] = [], adjust: GradeAdjustments = {}): Grade {
  const base = baseScore(value, thresholds);
  const direction = adjust.direction ?? null;
  const band = adjust.band ?? null;
  const steps: GradingStep[] = [];
  let score = 0;
  const step = (name: GradingStep['step'], points: number, reason?: string): void => {
    score = clamp(score + points, 0, 100);
    steps.push(reason === undefined ? { step: name, points: round1(points), score: round1(score) } : { step: name, points: round1(points), score: round1(score), reason });
  };
  step('measure', base, `${measure} ${value}`);
  step('direction', direction?.points ?? 0, direction?.reason);
  const modifierPoints = modifiers.reduce((sum, m) => sum + m.points, 0);
  step('modifiers', modifierPoints, modifiers.length === 0 ? undefined : modifiers.map((m) => m.name).join(', '));
  step('band', band?.points ?? 0, band?.reason);
  score = round1(score);
  return { score, severity: severityOf(score), parts: { measure, value, thresholds, base: round1(base), direction, modifiers, band, steps } };
}

export function severityOf(score: number): Severity {
  if (score >= 4 * BAND) return 'critical';
  if (score >= 3 * BAND) return 'high';
  if (score >= 2 * BAND) return 'medium';
  if (score >= BAND) return 'low';
  return 'info';
}

/** Whether a measure reaches a finding at all. */
export function reaches(value: number, thresholds: Thresholds): boolean {
  return value >= thresholds.min;
}

function baseScore(value: number, t: Thresholds): number {
  // min → 10 (the middle of info), then each threshold the start of its band; past critical, one
  // more such step (critical × critical / high) reaches 100.
  const steps: [number, number][] = [
    [t.min, BAND / 2],
    [t.low, BAND],
    [t.medium, 2 * BAND],
    [t.high, 3 * BAND],
    [t.critical, 4 * BAND],
    [t.critical * (t.critical / t.high), 5 * BAND],
  ];
  if (value < t.min) return 0;
  for (let i = 1; i < steps.length; i++) {
    const [from, fromScore] = steps[i - 1]!;
    const [to, toScore] = steps[i]!;
    if (value < to) return fromScore + (toScore - fromScore) * fraction(value, from, to);
  }
  return 5 * BAND;
}

/** How far `value` is from `from` to `to`, on a log scale when both are positive. */
function fraction(value: number, from: number, to: number): number {
  if (to <= from) return 1;
  if (from > 0) return Math.log(value / from) / Math.log(to / from);
  return (value - from) / (to - from);
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
