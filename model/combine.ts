/**
 * How a row's per-connection error and its context error become one score. Each error is divided
 * by its own model's baseline (the 95th percentile of its validation errors), so 1 means "as
 * unusual as the top 5% of ordinary rows" on either scale, and the two are summed: a row unusual
 * in one way and ordinary in the other still stands out, and one unusual in both stands out more.
 * (Measured against the larger of the two in docs/evaluation.md.)
 */
export interface ScoreScales {
  conn: number;
  context: number;
}

export function combinedScore(connError: number, contextError: number, scales: ScoreScales): number {
  return connError / scales.conn + contextError / scales.context;
}

/** The baseline a scale is taken from must be positive and finite; a model that reconstructs everything perfectly gets 1. */
export function scaleOf(baseline: number): number {
  return Number.isFinite(baseline) && baseline > 0 ? baseline : 1;
}
