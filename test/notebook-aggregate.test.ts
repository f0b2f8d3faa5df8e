import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../model/random.js';
import { DailyTimeBins, LinearHistogram, LogHistogram, MissingShare, RunningCorrelation, TopK } from '../notebooks-ts/aggregate.js';
import { powersOfTen, prefixSvgIds } from '../notebooks-ts/charts.js';

/** Two-pass Pearson r over the rows where both are set: the reference the streaming one must match. */
function pearson(xs: (number | null)[], ys: (number | null)[]): number {
  const pairs = xs.map((x, i) => [x, ys[i]] as const).filter((p): p is readonly [number, number] => p[0] !== null && p[1] !== null);
  const mx = pairs.reduce((s, [x]) => s + x, 0) / pairs.length;
  const my = pairs.reduce((s, [, y]) => s + y, 0) / pairs.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const [x, y] of pairs) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
    syy += (y - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

describe('RunningCorrelation', () => {
  test('matches a two-pass Pearson r, pairwise over set values, even far from zero', () => {
    const random = seededRandom(7);
    const n = 5000;
    const a: (number | null)[] = [];
    const b: (number | null)[] = [];
    const c: (number | null)[] = [];
    for (let i = 0; i < n; i++) {
      const base = random();
      // A large offset with a small spread: naive sums of squares would cancel catastrophically.
      a.push(1e9 + base * 10);
      b.push(random() < 0.1 ? null : base * 3 + random());
      c.push(random() < 0.2 ? null : -base + random() * 0.5);
    }
    const corr = new RunningCorrelation(['a', 'b', 'c']);
    for (let i = 0; i < n; i++) corr.add([a[i]!, b[i]!, c[i]!]);
    const columns = [a, b, c];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        assert.ok(Math.abs(corr.correlation(i, j) - pearson(columns[i]!, columns[j]!)) < 1e-9, `r(${i}, ${j})`);
      }
    }
    assert.equal(corr.count(0, 1), b.filter((v) => v !== null).length);
  });

  test('is NaN for a constant column', () => {
    const corr = new RunningCorrelation(['x', 'zero']);
    for (let i = 0; i < 100; i++) corr.add([i, 0]);
    assert.ok(Number.isNaN(corr.correlation(0, 1)));
    assert.equal(corr.correlation(0, 0), 1);
  });
});

describe('histograms', () => {
  test('LogHistogram bins by powers of ten and counts what a log axis cannot place apart', () => {
    const h = new LogHistogram(1, -2, 3);
    for (const v of [0, 0, -1, 1e-5, 0.05, 1, 5, 9.99, 10, 999, 1e6, null]) h.add(v);
    assert.equal(h.zeros, 2);
    assert.equal(h.negatives, 1);
    assert.equal(h.below, 1);
    assert.equal(h.above, 1);
    assert.equal(h.unset, 1);
    assert.equal(h.total, 11);
    assert.deepEqual(h.bins(), [
      { lo: 0.01, hi: 0.1, count: 1 },
      { lo: 0.1, hi: 1, count: 0 },
      { lo: 1, hi: 10, count: 3 },
      { lo: 10, hi: 100, count: 1 },
      { lo: 100, hi: 1000, count: 1 },
    ]);
  });

  test('LinearHistogram', () => {
    const h = new LinearHistogram(0, 100, 4);
    for (const v of [0, 24.9, 25, 99.9, 100, -1, null]) h.add(v);
    assert.deepEqual(Array.from(h.counts), [2, 1, 0, 1]);
    assert.equal(h.outside, 2);
    assert.equal(h.unset, 1);
  });
});

describe('TopK (Space-Saving)', () => {
  test('is exact while the distinct keys fit', () => {
    const top = new TopK(10);
    for (const key of 'abracadabra') top.add(key);
    assert.deepEqual(top.top(3), [
      { key: 'a', count: 5, error: 0 },
      { key: 'b', count: 2, error: 0 },
      { key: 'r', count: 2, error: 0 },
    ]);
    assert.equal(top.exact, true);
  });

  test('keeps the heavy hitters of a long tail in bounded memory, each count within its error', () => {
    const random = seededRandom(3);
    const truth = new Map<string, number>();
    const top = new TopK(50);
    for (let i = 0; i < 50_000; i++) {
      // Three heavy keys (about 10% each) among 10,000 rare ones.
      const r = random();
      const key = r < 0.1 ? 'heavy-1' : r < 0.2 ? 'heavy-2' : r < 0.3 ? 'heavy-3' : `rare-${Math.floor(random() * 10_000)}`;
      truth.set(key, (truth.get(key) ?? 0) + 1);
      top.add(key);
    }
    assert.equal(top.exact, false);
    assert.equal(top.distinctKept, 50);
    const best = top.top(3);
    assert.deepEqual(best.map((e) => e.key).sort(), ['heavy-1', 'heavy-2', 'heavy-3']);
    for (const entry of top.top(50)) {
      const real = truth.get(entry.key)!;
      assert.ok(entry.count - entry.error <= real && real <= entry.count, `${entry.key}: ${real} in [${entry.count - entry.error}, ${entry.count}]`);
    }
  });
});

test('DailyTimeBins puts each connection in its UTC day and slot', () => {
  const bins = new DailyTimeBins(3600);
  const day = Date.UTC(2022, 2, 1) / 1000;
  for (const ts of [day, day + 3599.9, day + 3600, day + 86_399, day + 86_400]) bins.add(ts);
  assert.deepEqual(bins.dayNumbers(), [day / 86_400, day / 86_400 + 1]);
  assert.equal(bins.slots(day / 86_400)[0], 2);
  assert.equal(bins.slots(day / 86_400)[1], 1);
  assert.equal(bins.slots(day / 86_400)[23], 1);
  assert.equal(bins.total(day / 86_400 + 1), 1);
});

test('MissingShare', () => {
  const missing = new MissingShare(['a', 'b']);
  missing.addRow((i) => i === 0);
  missing.addRow(() => false);
  assert.equal(missing.share(0), 0.5);
  assert.equal(missing.share(1), 0);
});

test('chart helpers: log ticks at powers of ten, SVG ids made unique per chart', () => {
  assert.deepEqual(powersOfTen(1, 1000), [1, 10, 100, 1000]);
  assert.deepEqual(powersOfTen(0.002, 5), [0.001, 0.01, 0.1, 1, 10]);
  assert.deepEqual(powersOfTen(1e-6, 1e6), [1e-6, 1e-4, 0.01, 1, 100, 1e4, 1e6]);
  assert.equal(
    prefixSvgIds('<clipPath id="clip1"><rect/></clipPath><g clip-path="url(#clip1)"><use href="#clip1"/></g>', 'loss'),
    '<clipPath id="loss-clip1"><rect/></clipPath><g clip-path="url(#loss-clip1)"><use href="#loss-clip1"/></g>',
  );
});
