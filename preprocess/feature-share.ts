/** One feature's contribution to a row's reconstruction error. */
export interface FeatureShare {
  feature: string;
  /** The feature's share of the row's squared error, 0 to 1. */
  share: number;
}

/**
 * The `top` largest of `totals` as shares of `sum`, largest first, ties in the order of `names`
 * (as a stable sort would give them). Picked by `top` scans instead of sorting an object per feature:
 * explanations are made for every candidate row, a hundred thousand in a million-row file.
 */
export function topShares(totals: ArrayLike<number>, sum: number, names: readonly string[], top: number): FeatureShare[] {
  const picked: FeatureShare[] = [];
  const taken: number[] = [];
  const count = Math.min(top, totals.length);
  while (picked.length < count) {
    let best = -1;
    for (let i = 0; i < totals.length; i++) {
      if (!taken.includes(i) && (best < 0 || totals[i]! > totals[best]!)) best = i;
    }
    taken.push(best);
    picked.push({ feature: names[best]!, share: totals[best]! / sum });
  }
  return picked;
}
