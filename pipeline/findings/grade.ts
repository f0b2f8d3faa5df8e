import type { Severity } from '../../db/findings.js';

/**
 * The values of a detector's measure at which each severity begins. Below `low` a finding is
 * `info`; below `min` there is none.
 */
export interface Thresholds {
  min: number;
  low: number;
  medium: number;
  high: number;
  critical: number;
}

/** A part of the score added or taken for something around the finding (RITA's "modifiers"). */
export interface Modifier {
  name: string;
  points: number;
  /** Why, in words: "destination contacted by 1 of 40 active hosts in the last day". */
  reason: string;
}

export interface Grade {
  score: number;
  severity: Severity;
  /** How the score was made, part by part, for the evidence. */
  parts: { measure: string; value: number; thresholds: Thresholds; base: number; modifiers: Modifier[] };
}

// Each severity is a band of 20 points: info 0–20, low 20–40, medium 40–60, high 60–80, critical 80–100.
const BAND = 20;

/**
 * The score (0–100) of a measure against its thresholds, with modifiers: the measure sets the base
 * score, rising through each severity's band between its thresholds (on a log scale, since the
 * measures are counts and bytes that span orders of magnitude), and the modifiers add or take
 * points. The severity is the band the final score falls in.
 */
export function grade(measure: string, value: number, thresholds: Thresholds, modifiers: Modifier[] = []): Grade {
  const base = baseScore(value, thresholds);
  const score = round1(clamp(base + modifiers.reduce((sum, m) => sum + m.points, 0), 0, 100));
  return { score, severity: severityOf(score), parts: { measure, value, thresholds, base: round1(base), modifiers } };
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
