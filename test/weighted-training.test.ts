// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { DEFAULT_SCORE_BATCH, buildAutoencoder, evaluateLoss, scoreAll, trainAutoencoder, type TrainOptions } from '../model/autoencoder.js';
import { initBackend, type Tf } from '../model/backend.js';
import { syntheticFeatures } from '../model/synthetic-features.js';
import { trainAutoencoderInWorker } from '../model/train-in-worker.js';
import { MatrixScaler } from '../preprocess/matrix-scaler.js';

const WIDTH = 20;
const ROWS = 1000;
const FAST: TrainOptions = { learningRate: 1e-2, maxEpochs: 4, batchSize: 64, patience: 3, seed: 5 };

/** Rows of two kinds that one small model cannot both fit well: the second kind is another structure. */
function twoKinds(rowSeed: number): { x: Float32Array; kind: Uint8Array } {
  const a = syntheticFeatures({ rows: ROWS, width: WIDTH, latent: 3, structureSeed: 7, rowSeed });
  const b = syntheticFeatures({ rows: ROWS, width: WIDTH, latent: 3, structureSeed: 8, rowSeed: rowSeed + 100 });
  const x = new Float32Array(2 * ROWS * WIDTH);
  x.set(a, 0);
  x.set(b, ROWS * WIDTH);
  return { x, kind: Uint8Array.from({ length: 2 * ROWS }, (_, i) => (i < ROWS ? 0 : 1)) };
}

function meanScore(scores: Float32Array, kind: Uint8Array, of: number): number {
  let sum = 0;
  let n = 0;
  kind.forEach((k, i) => {
    if (k !== of) return;
    sum += scores[i]!;
    n++;
  });
  return sum / n;
}

describe('training on weighted rows', () => {
  let tf: Tf;
  const train = twoKinds(1);
  const validation = twoKinds(2);
  const ones = (rows: number): Float32Array => new Float32Array(rows).fill(1);

  before(async () => {
    tf = (await initBackend({ prefer: 'wasm' })).tf;
  });

  test('with every weight 1 the weighted validation loss is the unweighted one', () => {
    const model = buildAutoencoder(tf, WIDTH, 3);
    try {
      const plain = evaluateLoss(tf, model, validation.x, 2 * ROWS, WIDTH);
      const weighted = evaluateLoss(tf, model, validation.x, 2 * ROWS, WIDTH, DEFAULT_SCORE_BATCH, ones(2 * ROWS));
      // The same sum taken in another order in float32: equal to a few parts in a million.
      assert.ok(Math.abs(weighted - plain) < 1e-5 * plain, `weighted ${weighted}, unweighted ${plain}`);
    } finally {
      model.dispose();
    }
  });

  test('a weighted validation loss is the weighted mean of the rows’ errors', () => {
    const model = buildAutoencoder(tf, WIDTH, 3);
    try {
      const weights = Float32Array.from(validation.kind, (k) => (k === 0 ? 3 : 1));
      const { scores } = scoreAll(tf, model, validation.x, 2 * ROWS, WIDTH);
      const expected = (3 * meanScore(scores, validation.kind, 0) + meanScore(scores, validation.kind, 1)) / 4;
      const weighted = evaluateLoss(tf, model, validation.x, 2 * ROWS, WIDTH, DEFAULT_SCORE_BATCH, weights);
      assert.ok(Math.abs(weighted - expected) < 1e-5 * expected, `weighted ${weighted}, expected ${expected}`);
    } finally {
      model.dispose();
    }
  });

  test('with every weight 1 training follows the unweighted loss, epoch by epoch', async () => {
    const plain = await trainAutoencoder(tf, train.x.slice(), validation.x.slice(), WIDTH, FAST);
    const weighted = await trainAutoencoder(tf, train.x.slice(), validation.x.slice(), WIDTH, FAST, { train: ones(2 * ROWS), validation: ones(2 * ROWS) });
    try {
      assert.equal(weighted.epochs.length, plain.epochs.length);
      plain.epochs.forEach((epoch, i) => {
        const other = weighted.epochs[i]!;
        assert.ok(Math.abs(other.loss - epoch.loss) < 1e-3 * epoch.loss, `epoch ${epoch.epoch}: loss ${other.loss} against ${epoch.loss}`);
        assert.ok(Math.abs(other.valLoss - epoch.valLoss) < 1e-3 * epoch.valLoss, `epoch ${epoch.epoch}: validation ${other.valLoss} against ${epoch.valLoss}`);
      });
    } finally {
      plain.model.dispose();
      weighted.model.dispose();
    }
  });

  test('the rows that weigh more are the ones the model learns to reconstruct better', async () => {
    const errorsWhenHeavy = async (heavy: number): Promise<number[]> => {
      const weights = { train: Float32Array.from(train.kind, (k) => (k === heavy ? 50 : 1)), validation: Float32Array.from(validation.kind, (k) => (k === heavy ? 50 : 1)) };
      const result = await trainAutoencoder(tf, train.x.slice(), validation.x.slice(), WIDTH, { ...FAST, maxEpochs: 8 }, weights);
      try {
        const { scores } = scoreAll(tf, result.model, validation.x, 2 * ROWS, WIDTH);
        return [meanScore(scores, validation.kind, 0), meanScore(scores, validation.kind, 1)];
      } finally {
        result.model.dispose();
      }
    };
    const [aWhenA, bWhenA] = await errorsWhenHeavy(0);
    const [aWhenB, bWhenB] = await errorsWhenHeavy(1);
    assert.ok(aWhenA! < aWhenB!, `kind A's error: ${aWhenA} when it weighs more, ${aWhenB} when B does`);
    assert.ok(bWhenB! < bWhenA!, `kind B's error: ${bWhenB} when it weighs more, ${bWhenA} when A does`);
  });

  test('on a worker thread, weighted training gives the same weights as here', async () => {
    const weights = () => ({ train: Float32Array.from(train.kind, (k) => (k === 0 ? 5 : 1)), validation: Float32Array.from(validation.kind, (k) => (k === 0 ? 5 : 1)) });
    const here = await trainAutoencoder(tf, train.x.slice(), validation.x.slice(), WIDTH, FAST, weights());
    const there = await trainAutoencoderInWorker(tf, train.x.slice(), validation.x.slice(), WIDTH, FAST, weights());
    try {
      assert.deepEqual(
        there.epochs.map((e) => e.valLoss),
        here.epochs.map((e) => e.valLoss),
      );
      const a = here.model.getWeights().map((w) => w.dataSync());
      const b = there.model.getWeights().map((w) => w.dataSync());
      assert.deepEqual(b, a);
    } finally {
      here.model.dispose();
      there.model.dispose();
    }
  });

  test('weights of the wrong length, or not above 0, are refused', async () => {
    await assert.rejects(trainAutoencoder(tf, train.x, validation.x, WIDTH, FAST, { train: ones(3), validation: ones(2 * ROWS) }), /2000 train rows but 3 weights/);
    await assert.rejects(trainAutoencoder(tf, train.x, validation.x, WIDTH, FAST, { train: new Float32Array(2 * ROWS), validation: ones(2 * ROWS) }), /every train weight must be a finite number > 0/);
  });

  test('a scaler fitted with weights has the weighted mean and deviation; with every weight 1, the unweighted ones', () => {
    const columns = [{ name: 'v', transform: 'linear' as const }];
    const x = Float32Array.from([1, 2, 3, 10]);
    const plain = MatrixScaler.fit(x, 4, columns).toJSON();
    assert.deepEqual(MatrixScaler.fit(x, 4, columns, Float64Array.from([1, 1, 1, 1])).toJSON(), plain);
    // Weights 1, 1, 1, 3 are the values 1, 2, 3, 10, 10, 10.
    const weighted = MatrixScaler.fit(x, 4, columns, Float64Array.from([1, 1, 1, 3])).toJSON();
    const repeated = MatrixScaler.fit(Float32Array.from([1, 2, 3, 10, 10, 10]), 6, columns).toJSON();
    assert.ok(Math.abs(weighted.mean[0]! - repeated.mean[0]!) < 1e-12);
    assert.ok(Math.abs(weighted.std[0]! - repeated.std[0]!) < 1e-12);
  });
});
