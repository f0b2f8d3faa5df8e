import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { TextColumns } from '../pipeline/first-read/text-columns.js';

const row = (i: number): (string | null)[] => [
  i % 5 === 0 ? null : `C${i}uid`,
  `10.0.${i % 256}.${i % 7}`,
  i % 3 === 0 ? '' : `2001:db8::${i.toString(16)}`,
  i % 4 === 0 ? 'ShADadfF ünïcödé ✓' : null,
];

test('text columns give back each value as set, nulls, empty strings and non-ASCII text included, past their first buffer', () => {
  const text = new TextColumns(4);
  const rows = 20_000;
  for (let i = 0; i < rows; i++) text.set(i, row(i));
  for (const i of [0, 1, 3, 4, 4095, 4096, 12_345, rows - 1]) {
    assert.deepEqual([0, 1, 2, 3].map((k) => text.get(i, k)), row(i), `row ${i}`);
  }
});

test('pruning in place by moving kept rows down keeps their values, and rows set after it follow on', () => {
  const text = new TextColumns(4);
  for (let i = 0; i < 100; i++) text.set(i, row(i));
  const kept = Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 3 === 1 || i < 5);
  kept.forEach((from, to) => {
    if (from !== to) text.move(from, to);
  });
  text.truncate(kept.length);
  text.set(kept.length, row(1000));
  kept.forEach((from, to) => assert.deepEqual([0, 1, 2, 3].map((k) => text.get(to, k)), row(from), `row ${from}, now ${to}`));
  assert.deepEqual([0, 1, 2, 3].map((k) => text.get(kept.length, k)), row(1000));
});
