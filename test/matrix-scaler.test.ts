import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { MatrixScaler } from '../preprocess/matrix-scaler.js';
import { PreprocessStateError } from '../preprocess/preprocessor.js';

const COLUMNS = [
  { name: 'count', transform: 'log1p' as const },
  { name: 'share', transform: 'linear' as const },
  { name: 'constant', transform: 'linear' as const },
];

test('each column is transformed as declared, then centred and scaled by the training rows', () => {
  const x = Float32Array.from([0, 0, 5, Math.E - 1, 1, 5]);
  const scaler = MatrixScaler.fit(x, 2, COLUMNS);
  // log1p(0) = 0 and log1p(e − 1) = 1: mean 0.5, deviation 0.5. The share: mean 0.5, deviation 0.5.
  const out = scaler.transform(x, 2);
  const expected = [-1, -1, 0, 1, 1, 0];
  out.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-6, `value ${i}: ${v}, expected ${expected[i]}`));
  assert.deepEqual(scaler.toJSON().std[2], 1, 'a constant column is scaled by 1, not divided by 0');
});

test('a negative or NaN count is read as 0, and every output is finite', () => {
  const scaler = MatrixScaler.fit(Float32Array.from([1, 0.5, 0, 3, 0.5, 0]), 2, COLUMNS);
  const out = scaler.transform(Float32Array.from([-5, Number.NaN, Number.POSITIVE_INFINITY]), 1);
  assert.ok(out.every(Number.isFinite), String(Array.from(out)));
  assert.equal(out[0], scaler.transform(Float32Array.from([0, 0, 0]), 1)[0], 'a negative count reads as 0');
});

test('a scaler saved and read back transforms bit for bit alike, and explains by column name', () => {
  const x = Float32Array.from({ length: 30 }, (_, i) => (i * 7) % 11);
  const scaler = MatrixScaler.fit(x, 10, COLUMNS);
  const again = MatrixScaler.fromJSON(JSON.parse(JSON.stringify(scaler.toJSON())));
  assert.deepEqual(again.transform(x, 10), scaler.transform(x, 10));
  const explained = again.explain(Float32Array.from([0.1, 0.6, 0.3]), 0, 2);
  assert.deepEqual(explained.map((e) => e.feature), ['share', 'constant']);
  assert.ok(Math.abs(explained[0]!.share - 0.6) < 1e-6);
});

test('saved state of another kind, or with a column of no known transform, is refused saying what is wrong', () => {
  const state = MatrixScaler.fit(Float32Array.from([1, 2, 3]), 1, COLUMNS).toJSON();
  assert.throws(() => MatrixScaler.fromJSON({ ...state, kind: 'other' }, 'x.json'), (error: unknown) =>
    error instanceof PreprocessStateError && error.message === 'x.json: kind is "other", expected "zeek-anomaly/matrix-scaler"');
  assert.throws(() => MatrixScaler.fromJSON({ ...state, columns: [{ name: 'a', transform: 'sqrt' }, ...state.columns.slice(1)] }, 'x.json'), (error: unknown) =>
    error instanceof PreprocessStateError && /columns\[0\] is \{"name":"a","transform":"sqrt"\}/.test(error.message));
  assert.throws(() => MatrixScaler.fromJSON({ ...state, std: [1, 0, 1] }, 'x.json'), /std has a value that is not positive/);
});
