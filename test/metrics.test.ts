// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { atThreshold, averagePrecision, entityFigures, quantile, quantileOfSorted, rocAuc, topFraction } from '../model/metrics.js';
import { seededRandom } from '../model/random.js';

// The reference values below come from scikit-learn 1.x (`roc_auc_score`, `average_precision_score`)
// and numpy 2.x (`quantile`, default method), or are worked out by hand where a comment says so.

const bools = (labels: number[]): boolean[] => labels.map((l) => l === 1);

describe('rocAuc', () => {
  test("scikit-learn's documented example: 0.75", () => {
    assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], bools([0, 0, 1, 1])), 0.75);
  });

  test('all scores tied is 0.5, each pair counting one half', () => {
    assert.equal(rocAuc([0.5, 0.5, 0.5, 0.5], bools([0, 1, 0, 1])), 0.5);
  });

  test('partial ties, by hand: pairs (0.9,0.9)=½ (0.9,0.5)=1 (0.5,0.5)=½ out of 6 → 1/3', () => {
    assert.equal(rocAuc([0.9, 0.9, 0.5, 0.5, 0.1], bools([1, 0, 1, 0, 1])), 2 / 6);
  });

  test('perfect and reversed orders give 1 and 0', () => {
    assert.equal(rocAuc([1, 2, 3, 4], bools([0, 0, 1, 1])), 1);
    assert.equal(rocAuc([4, 3, 2, 1], bools([0, 0, 1, 1])), 0);
  });

  test('Float32Array scores and Uint8Array labels give the same answer as plain arrays', () => {
    const scores = [0.1, 0.4, 0.35, 0.8];
    assert.equal(rocAuc(Float32Array.from(scores), Uint8Array.from([0, 0, 1, 1])), 0.75);
    assert.equal(rocAuc(Float64Array.from(scores), Uint8Array.from([0, 0, 7, 1])), 0.75, 'any non-zero byte is malicious');
  });

  test('is NaN when a class is absent, or there are no rows', () => {
    assert.ok(Number.isNaN(rocAuc([0.1, 0.2], bools([1, 1]))));
    assert.ok(Number.isNaN(rocAuc([0.1, 0.2], bools([0, 0]))));
    assert.ok(Number.isNaN(rocAuc([], [])));
  });

  test('-0 and +0 are one score, and ±Infinity are ordinary scores', () => {
    assert.equal(rocAuc([-0, 0], bools([1, 0])), 0.5);
    assert.equal(rocAuc([-Infinity, Infinity, 0], bools([0, 1, 0])), 1);
  });

  test('matches a brute-force count over all pairs on 500 random rows with many ties', () => {
    const random = seededRandom(7);
    for (let round = 0; round < 20; round++) {
      const { scores, labels } = randomRows(random, 500, 25);
      assert.ok(Math.abs(rocAuc(scores, labels) - bruteForceAuc(scores, labels)) < 1e-12, `round ${round}`);
    }
  });
});

describe('averagePrecision', () => {
  test("scikit-learn's documented example: 0.8333…", () => {
    assert.ok(Math.abs(averagePrecision([0.1, 0.4, 0.35, 0.8], bools([0, 0, 1, 1])) - 0.8333333333333333) < 1e-12);
  });

  test('all scores tied is one threshold: precision 0.5 at recall 1', () => {
    assert.equal(averagePrecision([0.5, 0.5, 0.5, 0.5], bools([0, 1, 0, 1])), 0.5);
  });

  test('partial ties, by hand: ⅓·½ + ⅓·½ + ⅓·⅗ = 0.5333…', () => {
    const expected = (1 / 3) * 0.5 + (1 / 3) * 0.5 + (1 / 3) * 0.6;
    assert.ok(Math.abs(averagePrecision([0.9, 0.9, 0.5, 0.5, 0.1], bools([1, 0, 1, 0, 1])) - expected) < 1e-12);
  });

  test('a tie is one threshold whatever the order the rows come in', () => {
    const forward = averagePrecision([0.5, 0.5, 0.2], bools([1, 0, 1]));
    const backward = averagePrecision([0.5, 0.5, 0.2], bools([0, 1, 1]));
    assert.equal(forward, backward);
  });

  test('is 1 with no benign rows and NaN with no malicious ones', () => {
    assert.equal(averagePrecision([0.3, 0.1], bools([1, 1])), 1);
    assert.ok(Number.isNaN(averagePrecision([0.3, 0.1], bools([0, 0]))));
  });

  test('matches a threshold-by-threshold reference on random rows with many ties', () => {
    const random = seededRandom(11);
    for (let round = 0; round < 20; round++) {
      const { scores, labels } = randomRows(random, 500, 25);
      assert.ok(Math.abs(averagePrecision(scores, labels) - referenceAveragePrecision(scores, labels)) < 1e-12, `round ${round}`);
    }
  });
});

describe('quantile', () => {
  test('numpy.quantile([1,2,3,4], 0.95) is 3.8499999999999996, bit for bit', () => {
    assert.equal(quantile([1, 2, 3, 4], 0.95), 3.8499999999999996);
  });

  test('agrees with numpy on more cases, bit for bit', () => {
    const cases: [number[], number, number][] = [
      [[1, 2, 3, 4], 0.5, 2.5],
      [[1, 2, 3, 4], 0.25, 1.75],
      [[3, 1, 2], 0.1, 1.2],
      [[0.1, 0.7, 0.2, 0.9, 0.4], 0.99, 0.892],
      [[5], 0.3, 5],
      [[1, 2, 3, 4], 0, 1],
      [[1, 2, 3, 4], 1, 4],
      [[1.5, -2, 7, 7, 7, 0.25, 3], 0.95, 7],
      [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], 0.37, 0.43300000000000005],
    ];
    for (const [values, q, expected] of cases) assert.equal(quantile(values, q), expected, `quantile(${JSON.stringify(values)}, ${q})`);
  });

  test('does not change its input', () => {
    const values = Float64Array.from([3, 1, 2]);
    const list = [3, 1, 2];
    quantile(values, 0.5);
    quantile(list, 0.5);
    assert.deepEqual(Array.from(values), [3, 1, 2]);
    assert.deepEqual(list, [3, 1, 2]);
  });

  test('quantileOfSorted gives the same answer on sorted input', () => {
    const random = seededRandom(3);
    const values = Array.from({ length: 101 }, () => random());
    const sorted = Float64Array.from(values).sort();
    for (const q of [0, 0.01, 0.05, 0.5, 0.95, 0.999, 1]) assert.equal(quantileOfSorted(sorted, q), quantile(values, q));
  });

  test('is NaN when a value is NaN, as in numpy', () => {
    assert.ok(Number.isNaN(quantile([1, NaN, 3], 0.5)));
  });

  test('rejects an empty input and a q outside [0, 1], naming the value', () => {
    assert.throws(() => quantile([], 0.5), /values is empty/);
    assert.throws(() => quantile([1], 1.5), /q is 1\.5; it must be between 0 and 1/);
    assert.throws(() => quantileOfSorted([1], NaN), /q is NaN/);
  });
});

describe('atThreshold', () => {
  test('flags scores strictly above the threshold', () => {
    const outcome = atThreshold([0.1, 0.5, 0.5, 0.9, 0.7], bools([0, 1, 0, 1, 0]), 0.5);
    assert.deepEqual(outcome, { flagged: 2, truePositives: 1, falsePositives: 1, precision: 0.5, recall: 0.5, flagRate: 0.4 });
  });

  test('a file of one constant score flags nothing at that score', () => {
    const outcome = atThreshold([2, 2, 2], bools([0, 1, 0]), 2);
    assert.equal(outcome.flagged, 0);
  });

  test('precision is 0 when nothing is flagged, recall 0 when nothing is malicious, flagRate 0 with no rows', () => {
    assert.equal(atThreshold([0.1, 0.2], bools([1, 0]), 1).precision, 0);
    assert.equal(atThreshold([0.1, 0.2], bools([0, 0]), 0).recall, 0);
    assert.equal(atThreshold([], [], 0).flagRate, 0);
  });

  test('rejects scores and labels of different lengths, and a NaN score or threshold, naming them', () => {
    assert.throws(() => atThreshold([1, 2], bools([1]), 0), /scores has 2 rows and labels 1/);
    assert.throws(() => atThreshold([1], bools([1]), NaN), /threshold is NaN/);
    assert.throws(() => atThreshold([1, NaN], bools([1, 0]), 0), /atThreshold: the score of row 1 is NaN/);
    for (const metric of [rocAuc, averagePrecision]) assert.throws(() => metric([1, NaN], bools([1, 0])), /the score of row 1 is NaN/);
    assert.throws(() => topFraction([NaN], 0.5), /topFraction: the score of row 0 is NaN/);
  });
});

describe('topFraction', () => {
  test('on more rows than its sample, it chooses exactly the rows a full sort would, ties and a flat top included', () => {
    const random = seededRandom(7);
    const cases = {
      // Few distinct values, so the boundary score is shared by many rows.
      ties: Float32Array.from({ length: 300_000 }, () => Math.floor(random() * 200) / 8),
      // Rising scores: a strided sample sees the order, not a shuffle.
      rising: Float64Array.from({ length: 200_001 }, (_, i) => i / 7),
      // Most rows at the top value: the sampled cut-off is reached by nearly all, and the copy is large but exact.
      flatTop: Float32Array.from({ length: 150_000 }, (_, i) => (i % 10 === 0 ? random() : 1)),
      // Every sampled row (each 4th of 200,000) high, the others low: too few reach the sampled cut-off, so all rows are copied.
      sampledHigh: Float32Array.from({ length: 200_000 }, (_, i) => (i % 4 === 0 ? 100 : random())),
    };
    for (const [name, scores] of Object.entries(cases)) {
      for (const fraction of [0.05, 0.0625, 0.5]) {
        const k = Math.ceil(fraction * scores.length);
        const expected = byScoreDescending(scores).slice(0, k).sort((a, b) => a - b);
        const { indices, threshold } = topFraction(scores, fraction);
        assert.deepEqual(Array.from(indices), expected, `${name}, ${fraction}`);
        assert.equal(threshold, expected.reduce((low, i) => Math.min(low, scores[i]!), Infinity), `${name}, ${fraction}: the lowest chosen score`);
      }
    }
  });

  test('takes the ceil(fraction·n) highest scores, earlier rows winning ties at the boundary', () => {
    const scores = [0.3, 0.9, 0.5, 0.9, 0.5, 0.5, 0.1];
    // ceil(0.5 · 7) = 4: both 0.9s, then two of the three 0.5s, the earliest (rows 2 and 4).
    const { indices, threshold } = topFraction(scores, 0.5);
    assert.deepEqual(Array.from(indices), [1, 2, 3, 4]);
    assert.equal(threshold, 0.5);
  });

  test('a constant score still gives exactly k rows: the first k', () => {
    const { indices, threshold } = topFraction(new Float32Array(100).fill(1), 0.05);
    assert.deepEqual(Array.from(indices), [0, 1, 2, 3, 4]);
    assert.equal(threshold, 1);
  });

  test('a product just above an integer through rounding is that integer: 7% of 100 rows is 7', () => {
    assert.equal(0.07 * 100 > 7, true, 'the premise: 0.07 · 100 rounds above 7');
    assert.equal(topFraction(Array.from({ length: 100 }, (_, i) => i), 0.07).indices.length, 7);
    assert.equal(topFraction(Array.from({ length: 101 }, (_, i) => i), 0.07).indices.length, 8, 'ceil(7.07) = 8');
  });

  test('fraction 0 chooses nothing, with an Infinity threshold; fraction 1 chooses every row', () => {
    assert.deepEqual(topFraction([1, 2], 0), { indices: new Uint32Array(0), threshold: Infinity });
    const all = topFraction([3, 1, 2], 1);
    assert.deepEqual(Array.from(all.indices), [0, 1, 2]);
    assert.equal(all.threshold, 1);
    assert.equal(topFraction([], 0.05).indices.length, 0);
  });

  test('rejects a fraction outside [0, 1], naming it', () => {
    assert.throws(() => topFraction([1], 5), /fraction is 5; it must be between 0 and 1/);
    assert.throws(() => topFraction([1], -0.1), /fraction is -0\.1/);
  });

  test('matches a sort-based reference on 10,000 random rows with ties, for several fractions', () => {
    const random = seededRandom(42);
    for (const distinct of [10, 1000, 1_000_000]) {
      const scores = Float64Array.from({ length: 10_000 }, () => Math.floor(random() * distinct) / distinct);
      for (const fraction of [0.0001, 0.01, 0.05, 0.333, 0.5, 0.99, 1]) {
        const { indices, threshold } = topFraction(scores, fraction);
        const reference = referenceTop(scores, fraction);
        assert.deepEqual(Array.from(indices), reference.indices, `${distinct} distinct scores, fraction ${fraction}`);
        assert.equal(threshold, reference.threshold);
      }
    }
  });

  test('does not change its input', () => {
    const scores = Float64Array.from([5, 1, 4, 2, 3]);
    topFraction(scores, 0.4);
    assert.deepEqual(Array.from(scores), [5, 1, 4, 2, 3]);
  });
});


/** Rows with scores drawn from `distinct` values (so ties are common) and about a third malicious. */
function randomRows(random: () => number, n: number, distinct: number): { scores: number[]; labels: boolean[] } {
  const scores = Array.from({ length: n }, () => Math.floor(random() * distinct) / distinct);
  const labels = scores.map((s) => random() < 0.15 + s * 0.4);
  return { scores, labels };
}

function bruteForceAuc(scores: number[], labels: boolean[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!labels[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j]) continue;
      pairs++;
      const si = scores[i] ?? NaN;
      const sj = scores[j] ?? NaN;
      wins += si > sj ? 1 : si === sj ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

/** Σ (Rₙ − Rₙ₋₁)·Pₙ over the distinct scores from the highest down, each counted over all rows. */
function referenceAveragePrecision(scores: number[], labels: boolean[]): number {
  const positives = labels.filter(Boolean).length;
  const thresholds = [...new Set(scores)].sort((a, b) => b - a);
  let previousRecall = 0;
  let sum = 0;
  for (const threshold of thresholds) {
    let tp = 0;
    let flagged = 0;
    scores.forEach((s, i) => {
      if (s >= threshold) {
        flagged++;
        if (labels[i]) tp++;
      }
    });
    const recall = tp / positives;
    sum += (recall - previousRecall) * (tp / flagged);
    previousRecall = recall;
  }
  return sum;
}

function referenceTop(scores: Float64Array, fraction: number): { indices: number[]; threshold: number } {
  const k = Math.ceil(Number((fraction * scores.length).toFixed(6)));
  const order = Array.from(scores.keys()).sort((a, b) => (scores[b] ?? 0) - (scores[a] ?? 0) || a - b);
  const chosen = order.slice(0, k);
  const last = chosen[chosen.length - 1];
  return { indices: chosen.sort((a, b) => a - b), threshold: last === undefined ? Infinity : (scores[last] ?? NaN) };
}

test('entity figures rank hosts by their worst row, and call a host malicious when most of its rows are', () => {
  const keys = ['a', 'a', 'b', 'b', 'c', 'd', 'd', 'd'];
  const scores = [0.1, 0.9, 0.5, 0.6, 0.95, 0.99, 0.2, 0.3];
  const labels = [false, false, true, true, false, true, false, false];
  const figures = entityFigures(keys, scores, labels, [1, 2, 4, 5]);
  // Worst rows: d 0.99 (1 of 3 malicious: benign), c 0.95, a 0.9, b 0.6 (malicious).
  assert.equal(figures.entities, 4);
  assert.equal(figures.malicious, 1);
  assert.equal(figures.rocAuc, 0, 'the one malicious host ranks below all three benign ones');
  assert.equal(figures.firstMaliciousRank, 4);
  assert.deepEqual(figures.precisionAt, [
    { k: 1, precision: 0 },
    { k: 2, precision: 0 },
    { k: 4, precision: 0.25 },
  ]);
  assert.equal(entityFigures(['x'], [1], [false], [1]).firstMaliciousRank, null);
});

/** Row indices by score, highest first, ties going to the earlier row. */
function byScoreDescending(scores: Float32Array | Float64Array): number[] {
  return Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b);
}
