// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { quantile } from '../model/metrics.js';
import { seededRandom } from '../model/random.js';
import { weightedMean, weightedQuantile } from '../model/weighted-stats.js';

describe('weighted statistics', () => {
  const random = seededRandom(17);
  const values = Float32Array.from({ length: 1001 }, () => random() * 10);

  test('with every weight 1 the weighted quantile is the unweighted one', () => {
    const ones = new Float64Array(values.length).fill(1);
    for (const q of [0, 0.1, 0.5, 0.95, 0.999, 1]) assert.equal(weightedQuantile(values, ones, q), quantile(values, q), `q = ${q}`);
  });

  test('without weights it is the unweighted quantile and mean, to the bit', () => {
    assert.equal(weightedQuantile(values, null, 0.95), quantile(values, 0.95));
    let sum = 0;
    for (const v of values) sum += v;
    assert.equal(weightedMean(values, null), sum / values.length);
  });

  test('a whole-number weight counts its value that many times', () => {
    const small = [3, 1, 4, 1.5, 9, 2.6];
    const weights = Float64Array.from([2, 1, 3, 1, 1, 4]);
    const repeated = small.flatMap((v, i) => new Array<number>(weights[i]!).fill(v));
    for (const q of [0, 0.05, 0.3, 0.5, 0.77, 0.95, 1]) {
      assert.ok(Math.abs(weightedQuantile(small, weights, q) - quantile(repeated, q)) < 1e-12, `q = ${q}`);
    }
    assert.ok(Math.abs(weightedMean(small, weights) - repeated.reduce((a, b) => a + b, 0) / repeated.length) < 1e-12);
  });

  test('a heavy value pulls the quantile towards it', () => {
    // 99 rows of 1 stand behind the first value: the 95th percentile is that value, not the top one.
    assert.equal(weightedQuantile([1, 2, 3, 4, 5], Float64Array.from([99, 1, 1, 1, 1]), 0.95), 1);
    assert.equal(weightedQuantile([1, 2, 3, 4, 5], null, 0.95), 4.8);
  });

  test('weights of another length and a quantile outside 0 to 1 are refused', () => {
    assert.throws(() => weightedQuantile([1, 2], Float64Array.from([1]), 0.5), /2 values but 1 weights/);
    assert.throws(() => weightedQuantile([1, 2], Float64Array.from([1, 1]), 1.5), /q is 1.5/);
  });
});
