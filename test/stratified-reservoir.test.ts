// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../model/random.js';
import { StratifiedReservoir } from '../model/stratified-reservoir.js';

interface Offered {
  key: string;
  n: number;
}

/** A stream of `rows` items in a few large groups and some small ones, shuffled by `seed`: group `g` gets a share falling as 1 / (g + 1)². */
function skewedStream(rows: number, groups: number, seed: number): Offered[] {
  const random = seededRandom(seed);
  const shares = Array.from({ length: groups }, (_, g) => 1 / (g + 1) ** 2);
  const total = shares.reduce((a, b) => a + b, 0);
  const stream: Offered[] = [];
  for (let n = 0; n < rows; n++) {
    let pick = random() * total;
    let g = 0;
    while (g < groups - 1 && pick >= shares[g]!) pick -= shares[g++]!;
    stream.push({ key: `g${g}`, n });
  }
  return stream;
}

function drawn(stream: readonly Offered[], budget: number, seed: number): { items: Offered[]; weights: Float64Array; reservoir: StratifiedReservoir<Offered> } {
  const reservoir = new StratifiedReservoir<Offered>(budget, seededRandom(seed));
  for (const item of stream) reservoir.offer(item.key, item);
  return { ...reservoir.sample(), reservoir };
}

describe('the stratified reservoir', () => {
  test('every row of a rare group is kept, with weight 1, while a common group is sampled down', () => {
    const common = Array.from({ length: 20_000 }, (_, n): Offered => ({ key: 'common', n }));
    const rare = Array.from({ length: 7 }, (_, i): Offered => ({ key: 'rare', n: 20_000 + i }));
    // The rare rows arrive spread through the stream, the last one at its very end.
    const stream = [...common];
    rare.forEach((row, i) => stream.splice(Math.floor(((i + 1) * stream.length) / rare.length), 0, row));
    const { items, weights } = drawn(stream, 1000, 3);
    const kept = items.flatMap((item, i) => (item.key === 'rare' ? [{ n: item.n, weight: weights[i]! }] : []));
    assert.deepEqual(
      kept.map((k) => k.n).sort((a, b) => a - b),
      rare.map((r) => r.n),
    );
    assert.ok(kept.every((k) => k.weight === 1));
    const commonKept = items.filter((item) => item.key === 'common').length;
    assert.ok(commonKept < 1000 && commonKept > 900, `the common group fills what the rare one leaves of the budget (${commonKept})`);
  });

  test('the weights sum to the rows seen, overall and per group', () => {
    const stream = skewedStream(50_000, 40, 11);
    const { items, weights, reservoir } = drawn(stream, 2000, 5);
    assert.equal(reservoir.seen, stream.length);
    const sum = weights.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - stream.length) < 1e-6 * stream.length, `weights sum to ${sum}, not ${stream.length}`);
    const seenOf = new Map<string, number>();
    for (const item of stream) seenOf.set(item.key, (seenOf.get(item.key) ?? 0) + 1);
    const weightOf = new Map<string, number>();
    items.forEach((item, i) => weightOf.set(item.key, (weightOf.get(item.key) ?? 0) + weights[i]!));
    for (const [key, seen] of seenOf) assert.ok(Math.abs(weightOf.get(key)! - seen) < 1e-6 * seen, `group ${key}: weights ${weightOf.get(key)}, rows ${seen}`);
  });

  test('it holds no more than its budget, and uses most of it', () => {
    const { items, reservoir } = drawn(skewedStream(50_000, 40, 11), 2000, 5);
    assert.ok(items.length <= 2000 && items.length >= 1900, `${items.length} items`);
    assert.equal(reservoir.size, items.length);
  });

  test('a common group keeps a uniform sample of its rows: early and late rows alike', () => {
    const stream = Array.from({ length: 100_000 }, (_, n): Offered => ({ key: 'one', n }));
    const { items } = drawn(stream, 5000, 9);
    const early = items.filter((item) => item.n < 50_000).length;
    // Binomial(5000, 1/2): a standard deviation of 35 rows.
    assert.ok(Math.abs(early - 2500) < 200, `${early} of 5000 kept rows from the first half`);
  });

  test('the same seed draws the same sample, and another seed another', () => {
    const stream = skewedStream(20_000, 30, 2);
    const first = drawn(stream, 1000, 42);
    const again = drawn(stream, 1000, 42);
    const other = drawn(stream, 1000, 43);
    assert.deepEqual(
      again.items.map((item) => item.n),
      first.items.map((item) => item.n),
    );
    assert.deepEqual(again.weights, first.weights);
    assert.notDeepEqual(
      other.items.map((item) => item.n),
      first.items.map((item) => item.n),
    );
  });

  test('a rollback undoes every row offered since the checkpoint, groups, cuts and all', () => {
    const reservoir = new StratifiedReservoir<Offered>(500, seededRandom(1));
    const firstFile = skewedStream(5000, 20, 1);
    for (const item of firstFile) reservoir.offer(item.key, item);
    const before = reservoir.sample();
    reservoir.begin();
    // A second "file" with new groups and enough rows to force cuts, which fails half-way.
    for (const item of skewedStream(20_000, 60, 2)) reservoir.offer(`late-${item.key}`, item);
    reservoir.rollback();
    assert.equal(reservoir.seen, firstFile.length);
    const after = reservoir.sample();
    assert.deepEqual(after.items, before.items);
    assert.deepEqual(after.weights, before.weights);
  });

  test('rows offered after a commit stay', () => {
    const reservoir = new StratifiedReservoir<Offered>(100, seededRandom(1));
    reservoir.begin();
    reservoir.offer('a', { key: 'a', n: 0 });
    reservoir.commit();
    reservoir.rollback();
    assert.equal(reservoir.seen, 1);
    assert.equal(reservoir.sample().items.length, 1);
  });

  test('a kept item is stored as `keep` copies it, and a new group under the key `keepKey` gives', () => {
    const keys: string[] = [];
    const reservoir = new StratifiedReservoir<Offered>(
      10,
      seededRandom(1),
      (item) => ({ ...item, n: item.n + 1000 }),
      (key) => {
        keys.push(key);
        return key;
      },
    );
    reservoir.offer('a', { key: 'a', n: 1 });
    reservoir.offer('a', { key: 'a', n: 2 });
    reservoir.offer('b', { key: 'b', n: 3 });
    assert.deepEqual(
      reservoir.sample().items.map((item) => item.n),
      [1001, 1002, 1003],
    );
    assert.deepEqual(keys, ['a', 'b']);
  });

  test('a budget that is not a whole number of at least 1 is refused', () => {
    assert.throws(() => new StratifiedReservoir<number>(0, seededRandom(1)), /budget is 0/);
    assert.throws(() => new StratifiedReservoir<number>(2.5, seededRandom(1)), /budget is 2.5/);
  });
});
