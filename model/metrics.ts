/**
 * Detection metrics over anomaly scores and ground-truth labels, as scikit-learn and numpy define
 * them, so that figures from the notebooks and from this code can be compared digit for digit.
 *
 * They are meant for millions of rows: work is O(n log n) or O(n) over typed-array copies, and no
 * object is made per row.
 */

/** Anomaly scores, one per row; higher is more anomalous. */
export type Scores = Float64Array | Float32Array | readonly number[];

/** Ground truth, one per row: true (or non-zero) means malicious. */
export type Labels = readonly boolean[] | Uint8Array;

/**
 * ROC-AUC: the probability that a random malicious row scores above a random benign one, a tie
 * counting one half — scikit-learn's `roc_auc_score`. Computed as the Mann-Whitney U from the
 * rank sum of the malicious rows with tied scores given their average rank, which is exact (every
 * partial sum is a multiple of 1/2 well below 2^53). NaN when either class is absent: the
 * question has no answer then, and a number would be mistaken for one.
 */
export function rocAuc(scores: Scores, labels: Labels): number {
  const { positives, negatives } = splitByLabel(scores, labels, 'rocAuc');
  const p = positives.length;
  const n = negatives.length;
  if (p === 0 || n === 0) return NaN;

  let i = 0;
  let j = 0;
  let nextRank = 1;
  let positiveRankSum = 0;
  while (i < p || j < n) {
    const value = Math.min(i < p ? at(positives, i) : Infinity, j < n ? at(negatives, j) : Infinity);
    const tiedPositives = runLength(positives, i, value);
    const tiedNegatives = runLength(negatives, j, value);
    const tied = tiedPositives + tiedNegatives;
    positiveRankSum += tiedPositives * (nextRank + (tied - 1) / 2);
    nextRank += tied;
    i += tiedPositives;
    j += tiedNegatives;
  }
  const u = positiveRankSum - (p * (p + 1)) / 2;
  return u / (p * n);
}

/**
 * PR-AUC as average precision, scikit-learn's `average_precision_score`: Σ (Rₙ − Rₙ₋₁)·Pₙ over the
 * thresholds from the highest score down, where rows with the same score pass a threshold together
 * (so a tie is one step, not an order the caller happened to pass). NaN when there is no malicious
 * row, since recall is undefined.
 */
export function averagePrecision(scores: Scores, labels: Labels): number {
  const { positives, negatives } = splitByLabel(scores, labels, 'averagePrecision');
  const p = positives.length;
  if (p === 0) return NaN;

  let i = p - 1;
  let j = negatives.length - 1;
  let truePositives = 0;
  let falsePositives = 0;
  let previousRecall = 0;
  let sum = 0;
  while (i >= 0) {
    const value = Math.max(at(positives, i), j >= 0 ? at(negatives, j) : -Infinity);
    const tiedPositives = runLengthDown(positives, i, value);
    const tiedNegatives = runLengthDown(negatives, j, value);
    truePositives += tiedPositives;
    falsePositives += tiedNegatives;
    i -= tiedPositives;
    j -= tiedNegatives;
    if (tiedPositives > 0) {
      // Recall as tp / P and its difference, as scikit-learn computes it, rather than tied / P:
      // the two can differ in the last bit.
      const recall = truePositives / p;
      sum += (recall - previousRecall) * (truePositives / (truePositives + falsePositives));
      previousRecall = recall;
    }
  }
  return sum;
}

/**
 * The q-th quantile with linear interpolation between the two nearest sorted values, computed as
 * numpy's default `quantile(values, q, method='linear')` computes it (the same virtual index and
 * the same two-sided interpolation), so results agree bit for bit. The input is not changed. NaN
 * when a value is NaN, as in numpy.
 */
export function quantile(values: Scores, q: number): number {
  checkQuantile(q);
  if (values.length === 0) throw new RangeError('quantile: values is empty; it needs at least one value');
  const sorted = Float64Array.from(values).sort();
  return quantileOfSorted(sorted, q);
}

/**
 * `quantile` over values already sorted ascending (NaN last, as typed-array sort leaves them), for
 * callers that ask for several quantiles of one array. The order is not checked.
 */
export function quantileOfSorted(sorted: Scores, q: number): number {
  checkQuantile(q);
  const n = sorted.length;
  if (n === 0) throw new RangeError('quantileOfSorted: sorted is empty; it needs at least one value');
  const last = at(sorted, n - 1);
  if (Number.isNaN(last)) return NaN;

  // Written as numpy's 'linear' method writes it: the algebraically equal n·q + (1 − q) − 1 of its
  // other methods rounds differently.
  const virtualIndex = (n - 1) * q;
  if (virtualIndex >= n - 1) return last;
  if (virtualIndex < 0) return at(sorted, 0);
  const below = Math.floor(virtualIndex);
  const gamma = virtualIndex - below;
  const a = at(sorted, below);
  const b = at(sorted, below + 1);
  const difference = b - a;
  // numpy interpolates from the nearer end, which keeps the result monotonic in q and inside [a, b].
  return gamma >= 0.5 ? b - difference * (1 - gamma) : a + difference * gamma;
}

export interface ThresholdOutcome {
  /** Rows whose score is strictly greater than the threshold. */
  flagged: number;
  truePositives: number;
  falsePositives: number;
  /** truePositives / flagged, or 0 when nothing is flagged. */
  precision: number;
  /** truePositives / malicious rows, or 0 when there are none. */
  recall: number;
  /** flagged / rows, or 0 when there are no rows. */
  flagRate: number;
}

/**
 * What flagging every row that scores strictly above `threshold` would catch. Strictly: a file in
 * which every row scores the same (a constant feature, a degenerate model) has its threshold equal
 * to that score, and `>=` would then flag all of it. Where a ratio has no rows under it, it is 0,
 * as with scikit-learn's default `zero_division` (which also warns; here the counts are returned
 * alongside, so a caller can tell "0 of 0" from "0 of 100").
 */
export function atThreshold(scores: Scores, labels: Labels, threshold: number): ThresholdOutcome {
  checkPair(scores, labels, 'atThreshold');
  checkScores(scores, 'atThreshold');
  if (Number.isNaN(threshold)) throw new RangeError('atThreshold: threshold is NaN; it must be a number');
  const n = scores.length;
  let flagged = 0;
  let truePositives = 0;
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const malicious = isMalicious(labels, i);
    if (malicious) positives++;
    if (at(scores, i) > threshold) {
      flagged++;
      if (malicious) truePositives++;
    }
  }
  return {
    flagged,
    truePositives,
    falsePositives: flagged - truePositives,
    precision: flagged === 0 ? 0 : truePositives / flagged,
    recall: positives === 0 ? 0 : truePositives / positives,
    flagRate: n === 0 ? 0 : flagged / n,
  };
}

export interface TopFraction {
  /** The rows chosen, ascending. */
  indices: Uint32Array;
  /** The score of the k-th highest row (the lowest chosen score); Infinity when none is chosen. */
  threshold: number;
}

/**
 * The k = ⌈fraction·n⌉ rows with the highest scores. Where several rows share the boundary score,
 * the earlier rows are chosen, so exactly k rows come back whatever the ties. (Unlike
 * `atThreshold`, the boundary score itself can be in: "the top 5%" is a count, not a cut-off.)
 *
 * A product fraction·n within rounding noise of an integer counts as that integer, so 7% of 100
 * rows is 7 rows, though 0.07·100 is 7.000000000000001 in floating point.
 *
 * O(n) expected: a few passes over the rows and one quickselect over a copy of the highest scores
 * only: a strided sample of the scores (at most SAMPLE_ROWS) gives a score that somewhat more than
 * k rows reach, and only the rows at or above it are copied (all rows, should fewer than k reach
 * it). The result is exact either way; the copy is about 1.2·k values, not n (40 MB for 10M rows).
 */
export function topFraction(scores: Scores, fraction: number): TopFraction {
  if (!(fraction >= 0 && fraction <= 1)) {
    throw new RangeError(`topFraction: fraction is ${fraction}; it must be between 0 and 1`);
  }
  checkScores(scores, 'topFraction');
  const n = scores.length;
  const k = rowsFor(fraction, n);
  if (k === 0) return { indices: new Uint32Array(0), threshold: Infinity };

  const copy = highScores(scores, k);
  const threshold = select(copy, copy.length - k);
  let above = 0;
  for (let i = 0; i < n; i++) if (at(scores, i) > threshold) above++;

  const indices = new Uint32Array(k);
  let tiesWanted = k - above;
  let filled = 0;
  for (let i = 0; i < n; i++) {
    const score = at(scores, i);
    if (score > threshold) {
      indices[filled++] = i;
    } else if (score === threshold && tiesWanted > 0) {
      indices[filled++] = i;
      tiesWanted--;
    }
  }
  return { indices, threshold };
}

// ---------------------------------------------------------------------------------------------

/** The scores of the malicious and of the benign rows, each sorted ascending. */
function splitByLabel(scores: Scores, labels: Labels, caller: string): { positives: Float64Array; negatives: Float64Array } {
  checkPair(scores, labels, caller);
  checkScores(scores, caller);
  const n = scores.length;
  let p = 0;
  for (let i = 0; i < n; i++) if (isMalicious(labels, i)) p++;
  const positives = new Float64Array(p);
  const negatives = new Float64Array(n - p);
  let pi = 0;
  let ni = 0;
  for (let i = 0; i < n; i++) {
    if (isMalicious(labels, i)) positives[pi++] = at(scores, i);
    else negatives[ni++] = at(scores, i);
  }
  // Typed-array sort is numeric, in place and far faster than sorting an index array with a comparator.
  return { positives: positives.sort(), negatives: negatives.sort() };
}

function checkPair(scores: Scores, labels: Labels, caller: string): void {
  if (scores.length !== labels.length) {
    throw new RangeError(`${caller}: scores has ${scores.length} rows and labels ${labels.length}; they must have one entry per row`);
  }
}

/** NaN has no place in an order: a NaN score would make ranks, and so every figure, meaningless. */
function checkScores(scores: Scores, caller: string): void {
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(at(scores, i))) throw new RangeError(`${caller}: the score of row ${i} is NaN; scores must be numbers`);
  }
}

function checkQuantile(q: number): void {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q is ${q}; it must be between 0 and 1`);
}

// The sample that places the cut-off: enough rows that its estimate of a share is within a few
// per cent of the truth, few enough to cost nothing beside the passes over all rows.
const SAMPLE_ROWS = 65_536;
// The sample's cut-off is set for this many times k rows: slack so that it is rarely above the
// k-th highest score (which would mean copying every row).
const SAMPLE_SLACK = 1.2;

/** At least the k highest scores, copied for selecting in: those at or above a sampled cut-off, or all of them. */
function highScores(scores: Scores, k: number): Float32Array | Float64Array {
  // Float32 scores are selected in a Float32 copy: the same values at half the memory.
  const make = (length: number): Float32Array | Float64Array => (scores instanceof Float32Array ? new Float32Array(length) : new Float64Array(length));
  const n = scores.length;
  const stride = Math.ceil(n / SAMPLE_ROWS);
  if (stride > 1) {
    const sample = make(Math.ceil(n / stride));
    for (let i = 0, j = 0; i < n; i += stride) sample[j++] = at(scores, i);
    const above = Math.min(sample.length, Math.ceil((SAMPLE_SLACK * k * sample.length) / n));
    const cutOff = select(sample, sample.length - above);
    let reaching = 0;
    for (let i = 0; i < n; i++) if (at(scores, i) >= cutOff) reaching++;
    if (reaching >= k) {
      const copy = make(reaching);
      for (let i = 0, j = 0; i < n; i++) {
        const score = at(scores, i);
        if (score >= cutOff) copy[j++] = score;
      }
      return copy;
    }
  }
  const all = make(n);
  all.set(scores);
  return all;
}

function rowsFor(fraction: number, n: number): number {
  const exact = fraction * n;
  const nearest = Math.round(exact);
  return Math.abs(exact - nearest) <= 1e-9 * Math.max(1, exact) ? nearest : Math.ceil(exact);
}

/**
 * Rearranges `values` so that position `k` holds the value it would hold if sorted ascending, and
 * returns it. Three-way partitioning keeps it linear when many values are equal (a constant score
 * is common); the pivot is the median of three, with a random middle to defeat adversarial orders.
 * The randomness changes only the work done: the k-th value is the same whatever the pivots.
 */
function select(values: Float64Array | Float32Array, k: number): number {
  let low = 0;
  let high = values.length - 1;
  while (high > low) {
    const pivot = medianOf3(at(values, low), at(values, low + Math.floor(Math.random() * (high - low + 1))), at(values, high));
    // Dutch national flag: [low, lt) < pivot, [lt, i) == pivot, (gt, high] > pivot.
    let lt = low;
    let gt = high;
    let i = low;
    while (i <= gt) {
      const v = at(values, i);
      if (v < pivot) swap(values, lt++, i++);
      else if (v > pivot) swap(values, i, gt--);
      else i++;
    }
    if (k < lt) high = lt - 1;
    else if (k > gt) low = gt + 1;
    else return pivot;
  }
  return at(values, k);
}

function medianOf3(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}

function swap(values: Float64Array | Float32Array, a: number, b: number): void {
  const t = at(values, a);
  values[a] = at(values, b);
  values[b] = t;
}

/** How many values from `start` upwards equal `value`. */
function runLength(sorted: Float64Array, start: number, value: number): number {
  let end = start;
  while (end < sorted.length && sorted[end] === value) end++;
  return end - start;
}

/** How many values from `start` downwards equal `value`. */
function runLengthDown(sorted: Float64Array, start: number, value: number): number {
  let end = start;
  while (end >= 0 && sorted[end] === value) end--;
  return start - end;
}

function isMalicious(labels: Labels, i: number): boolean {
  return Boolean(labels[i]);
}

/** An element known to be in range; `noUncheckedIndexedAccess` cannot see the loop bounds. */
function at(values: Scores, i: number): number {
  return values[i] as number;
}

/** Detection over entities (hosts) rather than rows: each entity's rows pooled into one score and one label. */
export interface EntityFigures {
  entities: number;
  malicious: number;
  /** ROC-AUC over entities ranked by their worst (highest) row score. */
  rocAuc: number;
  /** Of the top k entities by worst score, the share that is malicious, for each k asked for (those beyond the entity count left out). */
  precisionAt: { k: number; precision: number }[];
  /** The rank (1 = top) of the highest-ranked malicious entity; null when none is malicious. */
  firstMaliciousRank: number | null;
}

/**
 * Ranks the entities (`keys[i]` is row i's) by their worst row score; an entity is malicious when
 * more than half of its rows are. Ties among entity scores count as `rocAuc` counts them; for
 * precision at k, tied entities are taken in the order they were first met.
 */
export function entityFigures(keys: readonly string[], scores: Scores, labels: Labels, ks: readonly number[]): EntityFigures {
  const worst = new Map<string, { score: number; rows: number; malicious: number }>();
  for (let i = 0; i < keys.length; i++) {
    const entry = worst.get(keys[i]!) ?? { score: -Infinity, rows: 0, malicious: 0 };
    entry.score = Math.max(entry.score, Number(scores[i]));
    entry.rows++;
    if (labels[i]) entry.malicious++;
    worst.set(keys[i]!, entry);
  }
  const entries = [...worst.values()];
  const entityScores = entries.map((e) => e.score);
  const entityLabels = entries.map((e) => e.malicious * 2 > e.rows);
  const ranked = entries.map((_, i) => i).sort((a, b) => entityScores[b]! - entityScores[a]! || a - b);
  const first = ranked.findIndex((i) => entityLabels[i]);
  return {
    entities: entries.length,
    malicious: entityLabels.filter(Boolean).length,
    rocAuc: rocAuc(entityScores, entityLabels),
    precisionAt: ks
      .filter((k) => k >= 1 && k <= entries.length)
      .map((k) => ({ k, precision: ranked.slice(0, k).filter((i) => entityLabels[i]).length / k })),
    firstMaliciousRank: first < 0 ? null : first + 1,
  };
}
