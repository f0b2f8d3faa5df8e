import { quantile, type Scores } from './metrics.js';

/**
 * Statistics of a weighted sample (each value standing for `weight` rows of the traffic it was
 * drawn from), so that a threshold or a mean fitted on the sample is that of the whole traffic.
 * Without weights each is its unweighted counterpart, to the bit.
 */

/**
 * The `q` quantile with each value counting `weight` times: numpy's 'linear' method over the list
 * in which each value is repeated `weight` times, so a weight of 3 is exactly three copies. A
 * fractional weight stretches its value's run the same way (the runs laid end to end, the value
 * at a place is the one whose run covers it).
 */
export function weightedQuantile(values: Scores, weights: Float64Array | Float32Array | null, q: number): number {
  if (weights === null) return quantile(values, q);
  if (weights.length !== values.length) throw new RangeError(`weightedQuantile: ${values.length} values but ${weights.length} weights`);
  if (!(q >= 0 && q <= 1)) throw new RangeError(`weightedQuantile: q is ${q}; it must be from 0 to 1`);
  const n = values.length;
  if (n === 0) throw new RangeError('weightedQuantile: values is empty; it needs at least one value');
  const value = (i: number): number => Number(values[i]);
  // NaN sorts last, as `quantile`'s typed-array sort leaves it.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (Number.isNaN(value(a)) ? 1 : 0) - (Number.isNaN(value(b)) ? 1 : 0) || value(a) - value(b) || a - b);
  if (Number.isNaN(value(order[n - 1]!))) return NaN;
  let total = 0;
  for (const w of weights) total += w;
  const place = Math.max(0, (total - 1) * q);
  const below = Math.floor(place);
  // The values at places `below` and `below + 1`: the first whose run reaches past each.
  let runEnd = 0;
  let k = 0;
  const at = (p: number): number => {
    while (k < n - 1 && runEnd + weights[order[k]!]! <= p) runEnd += weights[order[k++]!]!;
    return value(order[k]!);
  };
  const a = at(below);
  const gamma = place - below;
  if (gamma === 0) return a;
  const b = at(below + 1);
  return gamma >= 0.5 ? b - (b - a) * (1 - gamma) : a + (b - a) * gamma;
}

/** The mean with each value counting `weight` times; NaN for no values. */
export function weightedMean(values: Scores, weights: Float64Array | Float32Array | null): number {
  if (values.length === 0) return NaN;
  let sum = 0;
  let weightSum = 0;
  for (let i = 0; i < values.length; i++) {
    const w = weights === null ? 1 : weights[i]!;
    sum += Number(values[i]) * w;
    weightSum += w;
  }
  return sum / weightSum;
}
