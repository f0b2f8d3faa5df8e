// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  DEFAULT_TRAIN_OPTIONS,
  buildAutoencoder,
  evaluateLoss,
  scoreAll,
  scoreBatch,
  trainAutoencoder,
  type EpochLog,
  type TrainOptions,
} from '../model/autoencoder.js';
import { BACKEND_ENV, initBackend, type Tf } from '../model/backend.js';
import { trainAutoencoderInWorker } from '../model/train-in-worker.js';
import { syntheticFeatures, unstructuredRows } from '../model/synthetic-features.js';

const WIDTH = 20;
const STRUCTURE = { width: WIDTH, latent: 3, structureSeed: 7 };
const TRAIN_ROWS = 2000;
const VALIDATION_ROWS = 500;
const FAST: TrainOptions = { learningRate: 1e-2, maxEpochs: 30, batchSize: 64, patience: 3, seed: 5 };

// The selection is the first thing checked, before any preference is set. Whether tfjs-node can
// run is found by loading it (an installed package without its native binding cannot), and each
// test asserts what initBackend must do in that case: use it, or fall back to wasm saying why.
delete process.env[BACKEND_ENV];

describe('backend selection', () => {
  let tfjsNode: TfjsNodeProbe;
  before(async () => {
    tfjsNode = await loadTfjsNode();
  });

  test('initBackend uses tfjs-node when it loads, and otherwise wasm, saying why tfjs-node could not run; a second call returns the same backend', async (t) => {
    t.diagnostic(tfjsNode.loads ? 'tfjs-node loads here' : tfjsNode.reason);
    const messages: string[] = [];
    const first = await initBackend({ log: (msg) => messages.push(msg) });
    assert.equal(messages.length, 1, messages.join('\n'));
    if (tfjsNode.loads) {
      assert.equal(first.name, 'tensorflow');
      assert.equal(first.tf.getBackend(), 'tensorflow');
      assert.match(messages[0]!, /^tfjs backend: tensorflow, native libtensorflow/);
    } else {
      assert.equal(first.name, 'wasm');
      assert.equal(first.tf.getBackend(), 'wasm');
      assert.match(messages[0]!, /^tfjs backend: wasm, /);
      assert.ok(messages[0]!.includes(`tensorflow skipped: ${tfjsNode.reason}`), `the log names why tfjs-node could not run (${tfjsNode.reason}): ${messages[0]!}`);
    }
    const second = await initBackend({ log: (msg) => messages.push(msg) });
    assert.equal(second, first);
    assert.equal(messages.length, 1, 'the second call starts nothing, so it logs nothing');
  });

  test('an unknown ZEEK_ANOMALY_BACKEND is refused, naming the variable and the allowed values', async () => {
    process.env[BACKEND_ENV] = 'gpu';
    try {
      await assert.rejects(initBackend(), /ZEEK_ANOMALY_BACKEND="gpu" is not a backend; allowed: tensorflow, wasm, cpu/);
    } finally {
      delete process.env[BACKEND_ENV];
    }
  });

  test('asking for tfjs-node uses it when it loads, and is an error, not a silent fallback, when it does not', async () => {
    if (tfjsNode.loads) {
      assert.equal((await initBackend({ prefer: 'tensorflow' })).tf.getBackend(), 'tensorflow');
    } else {
      const reason = tfjsNode.reason;
      await assert.rejects(initBackend({ prefer: 'tensorflow' }), (error: Error) => {
        assert.ok(error.message.startsWith(`tfjs backend tensorflow (prefer: 'tensorflow') cannot run: ${reason}`), error.message);
        return true;
      });
    }
    assert.equal((await initBackend({ prefer: 'wasm' })).tf.getBackend(), 'wasm');
  });
});

describe('the autoencoder on wasm', () => {
  let tf: Tf;
  const train = syntheticFeatures({ ...STRUCTURE, rows: TRAIN_ROWS, rowSeed: 1 });
  const validation = syntheticFeatures({ ...STRUCTURE, rows: VALIDATION_ROWS, rowSeed: 2 });

  before(async () => {
    tf = (await initBackend({ prefer: 'wasm' })).tf;
  });

  test("the default training options are the design's batch size and patience", () => {
    assert.equal(DEFAULT_TRAIN_OPTIONS.batchSize, 512);
    assert.equal(DEFAULT_TRAIN_OPTIONS.patience, 3);
  });

  test("training on correlated rows brings the validation loss far below an untrained model's", async () => {
    const untrained = buildAutoencoder(tf, WIDTH, FAST.seed);
    const untrainedLoss = evaluateLoss(tf, untrained, validation, VALIDATION_ROWS, WIDTH);
    untrained.dispose();

    const result = await trainAutoencoder(tf, train, validation, WIDTH, FAST);
    try {
      const best = result.epochs[result.bestEpoch - 1]!;
      assert.ok(best.valLoss < untrainedLoss / 10, `best validation loss ${best.valLoss} vs ${untrainedLoss} untrained`);
      assert.ok(best.valLoss < result.epochs[0]!.valLoss, 'the loss keeps falling after the first epoch');
      assert.equal(Math.min(...result.epochs.map((e) => e.valLoss)), best.valLoss);
      assert.deepEqual(
        result.epochs.map((e) => e.epoch),
        result.epochs.map((_, i) => i + 1),
      );
    } finally {
      result.model.dispose();
    }
  });

  test('early stopping restores the weights of the epoch with the lowest validation loss', async () => {
    // Thirty rows of unrelated noise, and other noise to validate on: the model first learns the
    // scale, then memorises the thirty rows, and the validation loss turns up.
    const width = 40;
    const noise = unstructuredRows(30, width, 11);
    const otherNoise = unstructuredRows(200, width, 12);
    const epochsSeen: number[] = [];
    const result = await trainAutoencoder(tf, noise, otherNoise, width, {
      learningRate: 3e-2,
      maxEpochs: 60,
      batchSize: 8,
      patience: 3,
      seed: 5,
      onEpoch: (e) => epochsSeen.push(e.epoch),
    });
    try {
      const last = result.epochs.at(-1)!;
      const best = result.epochs[result.bestEpoch - 1]!;
      assert.equal(result.stoppedEarly, true);
      assert.equal(result.epochs.length, result.bestEpoch + 3, 'it stops after patience (3) epochs without improvement');
      assert.ok(last.valLoss - best.valLoss > 1e-3, `the scenario needs a rise: best ${best.valLoss}, last ${last.valLoss}`);
      assert.deepEqual(epochsSeen, result.epochs.map((e) => e.epoch));

      const restored = evaluateLoss(tf, result.model, otherNoise, 200, width);
      assert.ok(Math.abs(restored - best.valLoss) < 1e-5, `restored model's loss ${restored}, best epoch's ${best.valLoss}`);
    } finally {
      result.model.dispose();
    }
  });

  test('with a minimum improvement, epochs that improve by less do not reset the patience, and the lowest loss still wins', async () => {
    const options = { ...FAST, maxEpochs: 30 };
    const plain = await trainAutoencoder(tf, train, validation, WIDTH, options);
    const strict = await trainAutoencoder(tf, train, validation, WIDTH, { ...options, minImprovement: 0.2 });
    try {
      // The same seed: the same epochs until the stricter rule stops.
      assert.deepEqual(
        strict.epochs.map((e) => e.valLoss),
        plain.epochs.slice(0, strict.epochs.length).map((e) => e.valLoss),
      );
      assert.ok(strict.epochs.length < plain.epochs.length, `${strict.epochs.length} epochs with the minimum, ${plain.epochs.length} without`);
      // It stops `patience` epochs after the last epoch that beat the one it counted before by 20%.
      let mark = strict.epochs[0]!;
      for (const e of strict.epochs) if (e.valLoss < mark.valLoss * 0.8) mark = e;
      assert.equal(strict.epochs.length, mark.epoch + FAST.patience);
      const lowest = strict.epochs.reduce((a, b) => (b.valLoss < a.valLoss ? b : a));
      assert.equal(strict.bestEpoch, lowest.epoch);
      const restored = evaluateLoss(tf, strict.model, validation, VALIDATION_ROWS, WIDTH);
      assert.ok(Math.abs(restored - lowest.valLoss) < 1e-5, `restored model's loss ${restored}, lowest ${lowest.valLoss}`);
    } finally {
      plain.model.dispose();
      strict.model.dispose();
    }
  });

  test('a minimum improvement outside 0 up to 1 is refused', async () => {
    await assert.rejects(trainAutoencoder(tf, train, validation, WIDTH, { ...FAST, minImprovement: 1 }), /minImprovement is 1/);
    await assert.rejects(trainAutoencoder(tf, train, validation, WIDTH, { ...FAST, minImprovement: -0.1 }), /minImprovement is -0.1/);
  });

  test('the same seed trains the same model', async () => {
    const options = { ...FAST, maxEpochs: 3 };
    const a = await trainAutoencoder(tf, train, validation, WIDTH, options);
    const b = await trainAutoencoder(tf, train, validation, WIDTH, options);
    try {
      assert.deepEqual(
        a.epochs.map((e) => [e.loss, e.valLoss]),
        b.epochs.map((e) => [e.loss, e.valLoss]),
      );
      assert.deepEqual(scoreBatch(tf, a.model, validation, VALIDATION_ROWS, WIDTH), scoreBatch(tf, b.model, validation, VALIDATION_ROWS, WIDTH));
    } finally {
      a.model.dispose();
      b.model.dispose();
    }
  });

  describe('scoring', () => {
    const rows = 300;
    const usual = syntheticFeatures({ ...STRUCTURE, rows, rowSeed: 3 });
    const unusual = unstructuredRows(rows, WIDTH, 4);
    let trained: Awaited<ReturnType<typeof trainAutoencoder>>;

    before(async () => {
      trained = await trainAutoencoder(tf, train, validation, WIDTH, FAST);
    });

    test('every row unlike the training rows scores higher than every row like them', () => {
      const inside = scoreAll(tf, trained.model, usual, rows, WIDTH, 64).scores;
      const outside = scoreAll(tf, trained.model, unusual, rows, WIDTH, 64).scores;
      const highestInside = Math.max(...inside);
      const lowestOutside = Math.min(...outside);
      assert.ok(lowestOutside > highestInside, `lowest unusual score ${lowestOutside}, highest usual score ${highestInside}`);
    });

    test("each row's squared errors average to its score", () => {
      const { scores, squaredErrors } = scoreBatch(tf, trained.model, unusual, rows, WIDTH);
      assert.equal(scores.length, rows);
      assert.equal(squaredErrors.length, rows * WIDTH);
      for (let r = 0; r < rows; r++) {
        let sum = 0;
        for (let c = 0; c < WIDTH; c++) sum += squaredErrors[r * WIDTH + c]!;
        const mean = sum / WIDTH;
        assert.ok(Math.abs(mean - scores[r]!) <= 1e-5 * Math.max(1, mean), `row ${r}: mean ${mean}, score ${scores[r]}`);
      }
      assert.ok(scores.some((s) => s > 0.01), 'the rows have errors worth comparing');
    });

    test('scoreAll in batches gives what one scoreBatch over all rows gives', () => {
      const whole = scoreBatch(tf, trained.model, unusual, rows, WIDTH);
      // 64 does not divide 300, so the last batch is a short one.
      const batched = scoreAll(tf, trained.model, unusual, rows, WIDTH, 64);
      assert.deepEqual(batched.scores, whole.scores);
      assert.deepEqual(batched.squaredErrors, whole.squaredErrors);
    });

    test('a row count that does not match the data is refused, naming both', () => {
      assert.throws(() => scoreBatch(tf, trained.model, usual, rows + 1, WIDTH), /scoreBatch: x has 6000 values but rows × width is 301 × 20 = 6020/);
    });
  });

  test("training and scoring leave no tensors behind but the model's weights", async () => {
    const baseline = tf.memory().numTensors;
    const result = await trainAutoencoder(tf, train, validation, WIDTH, { ...FAST, maxEpochs: 4, patience: 1 });
    scoreAll(tf, result.model, validation, VALIDATION_ROWS, WIDTH, 128);
    evaluateLoss(tf, result.model, validation, VALIDATION_ROWS, WIDTH);
    // Four Dense layers, a kernel and a bias each.
    assert.equal(result.model.weights.length, 8);
    assert.equal(tf.memory().numTensors, baseline + 8);
    result.model.dispose();
    assert.equal(tf.memory().numTensors, baseline);
  });

  test('a training set that is not whole rows of the width is refused', async () => {
    await assert.rejects(
      trainAutoencoder(tf, train.subarray(1), validation, WIDTH, FAST),
      /trainAutoencoder: train has 39999 values, which is not a positive multiple of width 20/,
    );
    await assert.rejects(trainAutoencoder(tf, train, validation, WIDTH, { ...FAST, patience: 0 }), /patience is 0; it must be a whole number ≥ 1/);
  });

  test('trained on a worker thread, with the same seed, the weights, epochs and losses come back identical to training here; an abort stops it', async () => {
    const options = { ...FAST, maxEpochs: 3 };
    const here = await trainAutoencoder(tf, train, validation, WIDTH, options);
    const epochs: number[] = [];
    const there = await trainAutoencoderInWorker(tf, train.slice(), validation.slice(), WIDTH, { ...options, onEpoch: (e) => epochs.push(e.epoch) });
    try {
      const losses = (epochs: readonly EpochLog[]) => epochs.map(({ epoch, loss, valLoss }) => ({ epoch, loss, valLoss }));
      assert.deepEqual(losses(there.epochs), losses(here.epochs));
      assert.deepEqual(epochs, here.epochs.map((e) => e.epoch), 'each epoch was reported as it ended');
      assert.equal(there.bestEpoch, here.bestEpoch);
      const [a, b] = [here.model.getWeights(), there.model.getWeights()];
      assert.equal(a.length, b.length);
      a.forEach((weight, i) => assert.deepEqual(b[i]!.dataSync(), weight.dataSync(), `weight ${i}`));
    } finally {
      here.model.dispose();
      there.model.dispose();
    }
    const stop = new AbortController();
    const stopped = trainAutoencoderInWorker(tf, train.slice(), validation.slice(), WIDTH, { ...options, maxEpochs: 50, signal: stop.signal, onEpoch: () => stop.abort(new Error('stopped by the test')) });
    await assert.rejects(stopped, /stopped by the test/);
  });
});

type TfjsNodeProbe = { loads: true } | { loads: false; reason: string };

/**
 * Loads @tensorflow/tfjs-node (importing it registers its backend) and, when it cannot, says why
 * in initBackend's words: not installed, or installed but failing to load (no native binding).
 */
async function loadTfjsNode(): Promise<TfjsNodeProbe> {
  // A variable specifier: the package is optional, so TypeScript must not resolve it.
  const specifier = '@tensorflow/tfjs-node';
  try {
    await import(specifier);
    return { loads: true };
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND') return { loads: false, reason: `${specifier} is not installed` };
    const firstLine = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
    return { loads: false, reason: `${specifier} failed to load: ${firstLine}` };
  }
}
