import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { LayersModel, Scalar, Tensor, Tensor2D, Variable } from '@tensorflow/tfjs';
import type { Tf } from './backend.js';
import { seededRandom } from './random.js';

export interface TrainOptions {
  learningRate: number;
  maxEpochs: number;
  /** Rows per gradient step. */
  batchSize: number;
  /** Epochs without a better validation loss before training stops (the best epoch's weights are kept). */
  patience: number;
  /**
   * What counts as better for `patience`: a validation loss below (1 − this) × the last loss that
   * counted. 0 (the default) counts any fall. The weights kept are still the lowest loss's.
   */
  minImprovement?: number;
  /** Makes initial weights and the per-epoch shuffles repeat exactly (on one backend). */
  seed?: number;
  onEpoch?: (e: EpochLog) => void;
  /** Ends training at the next yield to the event loop (every few hundred ms) by throwing the signal's reason. */
  signal?: AbortSignal;
}

export interface EpochLog {
  /** 1 for the first epoch. */
  epoch: number;
  /** Mean over the epoch's batches of the training MSE, weighted by batch rows. */
  loss: number;
  /** MSE over all validation rows after the epoch, as `evaluateLoss` computes it. */
  valLoss: number;
  seconds: number;
}

export interface TrainResult {
  /** Holds the weights of `bestEpoch`. */
  model: LayersModel;
  epochs: EpochLog[];
  /** The `epoch` (1-based) whose weights the model holds: the lowest validation loss. */
  bestEpoch: number;
  stoppedEarly: boolean;
}

/**
 * How many rows of the real traffic each matrix row stands for (a stratified sample's weights):
 * the loss, and the validation loss that stops training, are then weighted means of each row's
 * error, so that they estimate the loss over all the traffic the sample was drawn from.
 */
export interface RowWeights {
  train: Float32Array;
  validation: Float32Array;
}

export interface Scores {
  /** Per row: the mean squared error over the width. */
  scores: Float32Array;
  /** rows × width, each feature's squared error, so callers can explain a score. */
  squaredErrors: Float32Array;
}

/**
 * Chosen by training on 1,000,000 rows of the honeypot archive (../shared/data/rotated/honeypot,
 * shuffled, 800k train / 100k validation / 100k test) with the wasm backend on the 2-core machine:
 *
 * | preset (width) | lr   | stopped at (best) | seconds | test loss |
 * |----------------|------|-------------------|--------:|----------:|
 * | seed (58)      | 3e-3 | 10 (7)            |     125 |    0.2257 |
 * | seed (58)      | 1e-3 | 27 (24)           |     335 |    0.1825 |
 * | default (121)  | 3e-3 | 27 (24)           |     385 |    0.4099 |
 * | default (121)  | 1e-3 | 31 (28)           |     448 |    0.4192 |
 * | default (121)  | 1e-4 | cap 60 (59)       |     921 |    0.4226 |
 *
 * 1e-4 (the notebook's) is still creeping down at 60 epochs and ends worse. 3e-3 is 2% better on
 * the default features but erratic on the seed features, where it stops early on noise 24% worse.
 * 1e-3 stopped by itself at 27 and 31 epochs (21 on synthetic rows), 10–15 s an epoch with other
 * jobs on the machine, so the cap of 50 only bounds a run that keeps creeping down (~10 minutes).
 * Command: `node dist/scripts/dev/measure-training-defaults.js train --real ../shared/data/rotated/honeypot --preset seed --lr 3e-3,1e-3`.
 */
export const DEFAULT_TRAIN_OPTIONS: Readonly<TrainOptions> = {
  learningRate: 1e-3,
  maxEpochs: 50,
  batchSize: 512,
  patience: 3,
};

/**
 * Rows per `scoreBatch` call in `scoreAll`. From 512 rows up the speed is flat within the shared
 * machine's noise, and 256 is 10–20% slower (per-call overhead); 2048 was never more than the
 * noise from the best. `node dist/scripts/dev/measure-training-defaults.js score --width 48 --rows 262144 --runs 21`
 * (wasm, median rows/s): 256 783k, 512 881k, 1024 885k, 2048 881k, 4096 905k, 8192 945k;
 * with `--rows 1000000 --runs 11`: 256 912k, 512 1,098k, 1024 1,212k, 2048 1,068k, 4096 1,073k, 8192 1,165k;
 * at `--width 121 --runs 7`: 256 417k, 512 420k, 1024 483k, 2048 502k, 4096 458k, 8192 426k.
 */
export const DEFAULT_SCORE_BATCH = 2048;

/** The layer widths between input and output: the design's 32 → 16 → 32 bottleneck. */
const HIDDEN_UNITS = [32, 16, 32] as const;
// Yield to the event loop this often during training, so the process's watcher and timers run.
const YIELD_EVERY_MS = 100;

/** input → Dense 32 ReLU → Dense 16 ReLU → Dense 32 ReLU → Dense input (linear). Not compiled: `trainAutoencoder` runs its own loop. */
export function buildAutoencoder(tf: Tf, width: number, seed?: number): LayersModel {
  checkPositiveInteger('buildAutoencoder', 'width', width);
  // Each layer gets its own seed: one seed for all would give every layer the same random stream.
  const init = (layer: number) => (seed === undefined ? 'glorotUniform' : tf.initializers.glorotUniform({ seed: seed + layer }));
  const model = tf.sequential();
  HIDDEN_UNITS.forEach((units, layer) => {
    model.add(
      tf.layers.dense({
        units,
        activation: 'relu',
        kernelInitializer: init(layer),
        ...(layer === 0 ? { inputShape: [width] } : {}),
      }),
    );
  });
  model.add(tf.layers.dense({ units: width, activation: 'linear', kernelInitializer: init(HIDDEN_UNITS.length) }));
  return model;
}

/**
 * Trains an autoencoder on `train` (row-major, `width` values a row) with Adam on MSE, and stops
 * when the validation loss has not improved for `patience` epochs, restoring the best epoch's
 * weights (tfjs's own earlyStopping callback keeps the last weights).
 *
 * The loop is ours rather than `model.fit`: fit needs the whole set as one tensor (a copy of
 * 1M × 50 floats in the backend's memory) and shuffles with an unseeded Math.random; here only one
 * batch at a time is in the backend and the shuffle follows `seed`.
 *
 * With `weights`, each row's squared error counts in proportion to its weight (scaled so the
 * training rows' weights average 1, which keeps the loss, and so the step size, where unweighted
 * training has them). Without, the loss is tfjs's own mean squared error, exactly as before.
 */
export async function trainAutoencoder(
  tf: Tf,
  train: Float32Array,
  validation: Float32Array,
  width: number,
  options: TrainOptions,
  weights?: RowWeights,
): Promise<TrainResult> {
  checkPositiveInteger('trainAutoencoder', 'width', width);
  const trainRows = rowsOf('trainAutoencoder', 'train', train, width);
  const validationRows = rowsOf('trainAutoencoder', 'validation', validation, width);
  checkTrainOptions(options);
  const trainWeights = weights === undefined ? null : meanOne(checkWeights('train', weights.train, trainRows));
  const validationWeights = weights === undefined ? undefined : checkWeights('validation', weights.validation, validationRows);

  const model = buildAutoencoder(tf, width, options.seed);
  const optimizer = tf.train.adam(options.learningRate);
  const variables = model.trainableWeights.map((w) => w.read() as Variable);
  const random = options.seed === undefined ? Math.random : seededRandom(options.seed);
  const order = Uint32Array.from({ length: trainRows }, (_, i) => i);
  const epochs: EpochLog[] = [];
  let best: { epoch: number; valLoss: number; weights: Tensor[] } | undefined;
  // The last epoch that counted as an improvement: patience runs from it.
  let mark: { epoch: number; valLoss: number } | undefined;
  const keep = 1 - (options.minImprovement ?? 0);
  let stoppedEarly = false;
  let lastYield = performance.now();

  try {
    for (let epoch = 1; epoch <= options.maxEpochs; epoch++) {
      const started = performance.now();
      shuffle(order, random);
      let lossSum = 0;
      for (let start = 0; start < trainRows; start += options.batchSize) {
        const batchRows = Math.min(options.batchSize, trainRows - start);
        // A fresh array per batch: the cpu backend keeps the array it is given as the tensor's data.
        const batch = gatherRows(train, order, start, batchRows, width);
        const xs = tf.tensor2d(batch, [batchRows, width]);
        const ws = trainWeights === null ? null : tf.tensor1d(gatherWeights(trainWeights, order, start, batchRows));
        const cost = optimizer.minimize(
          () => {
            const output = model.apply(xs, { training: true }) as Tensor;
            if (ws === null) return tf.losses.meanSquaredError(xs, output);
            return tf.mean<Scalar>(tf.mul(tf.mean(tf.squaredDifference(output, xs), 1), ws));
          },
          true,
          variables,
        );
        xs.dispose();
        ws?.dispose();
        if (cost === null) throw new Error('trainAutoencoder: the optimizer returned no loss');
        lossSum += cost.dataSync()[0]! * batchRows;
        cost.dispose();
        if (performance.now() - lastYield > YIELD_EVERY_MS) {
          await yieldToEventLoop();
          options.signal?.throwIfAborted();
          lastYield = performance.now();
        }
      }
      options.signal?.throwIfAborted();
      const valLoss = evaluateLoss(tf, model, validation, validationRows, width, DEFAULT_SCORE_BATCH, validationWeights);
      const log: EpochLog = { epoch, loss: lossSum / trainRows, valLoss, seconds: (performance.now() - started) / 1000 };
      epochs.push(log);
      options.onEpoch?.(log);

      if (best === undefined || valLoss < best.valLoss) {
        // Clones share the variables' current data; the optimizer's next step assigns new data to
        // the variables and leaves these untouched.
        best?.weights.forEach((t) => t.dispose());
        best = { epoch, valLoss, weights: model.getWeights().map((w) => w.clone()) };
      }
      if (mark === undefined || valLoss < mark.valLoss * keep) {
        mark = { epoch, valLoss };
      } else if (!Number.isFinite(valLoss) || epoch - mark.epoch >= options.patience) {
        // A non-finite loss has diverged; waiting out the patience would not bring it back.
        stoppedEarly = epoch < options.maxEpochs;
        break;
      }
    }
    if (best === undefined || !Number.isFinite(best.valLoss)) {
      throw new Error(
        `trainAutoencoder: the validation loss was never finite (${epochs.map((e) => e.valLoss).join(', ')}); lower learningRate (is ${options.learningRate})`,
      );
    }
    if (best.epoch !== epochs.length) model.setWeights(best.weights);
    return { model, epochs, bestEpoch: best.epoch, stoppedEarly };
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    best?.weights.forEach((t) => t.dispose());
    optimizer.dispose();
  }
}

/** Per-row reconstruction error of `rows` rows of `x`, and every feature's squared error. */
export function scoreBatch(tf: Tf, model: LayersModel, x: Float32Array, rows: number, width: number): Scores {
  checkScoreArgs('scoreBatch', x, rows, width);
  if (rows === 0) return { scores: new Float32Array(0), squaredErrors: new Float32Array(0) };
  const [squared, perRow] = tf.tidy((): [Tensor, Tensor] => {
    const input = tf.tensor2d(x, [rows, width]);
    const errors = tf.squaredDifference(model.apply(input) as Tensor2D, input);
    return [errors, tf.mean(errors, 1)];
  });
  try {
    return { scores: perRow.dataSync() as Float32Array, squaredErrors: squared.dataSync() as Float32Array };
  } finally {
    squared.dispose();
    perRow.dispose();
  }
}

/** `scoreBatch` over any number of rows, `batchSize` rows at a time, so backend memory stays bounded. */
export function scoreAll(tf: Tf, model: LayersModel, x: Float32Array, rows: number, width: number, batchSize = DEFAULT_SCORE_BATCH): Scores {
  checkScoreArgs('scoreAll', x, rows, width);
  checkPositiveInteger('scoreAll', 'batchSize', batchSize);
  const scores = new Float32Array(rows);
  const squaredErrors = new Float32Array(rows * width);
  for (let start = 0; start < rows; start += batchSize) {
    const n = Math.min(batchSize, rows - start);
    const part = scoreBatch(tf, model, x.subarray(start * width, (start + n) * width), n, width);
    scores.set(part.scores, start);
    squaredErrors.set(part.squaredErrors, start * width);
  }
  return { scores, squaredErrors };
}

/**
 * The MSE over all `rows` rows of `x` (the training loss's measure), summed in doubles across
 * batches; with `weights` (one a row), the weighted mean of the rows' squared errors.
 */
export function evaluateLoss(tf: Tf, model: LayersModel, x: Float32Array, rows: number, width: number, batchSize = DEFAULT_SCORE_BATCH, weights?: Float32Array): number {
  checkScoreArgs('evaluateLoss', x, rows, width);
  if (weights !== undefined) checkWeights('validation', weights, rows);
  let sum = 0;
  let weightSum = 0;
  for (let start = 0; start < rows; start += batchSize) {
    const n = Math.min(batchSize, rows - start);
    const total = tf.tidy(() => {
      const input = tf.tensor2d(x.subarray(start * width, (start + n) * width), [n, width]);
      const squared = tf.squaredDifference(model.apply(input) as Tensor2D, input);
      if (weights === undefined) return tf.sum<Scalar>(squared);
      return tf.sum<Scalar>(tf.mul(tf.sum(squared, 1), tf.tensor1d(weights.subarray(start, start + n))));
    });
    sum += total.dataSync()[0]!;
    total.dispose();
    if (weights !== undefined) for (let i = start; i < start + n; i++) weightSum += weights[i]!;
  }
  return sum / ((weights === undefined ? rows : weightSum) * width);
}

function gatherRows(data: Float32Array, order: Uint32Array, start: number, rows: number, width: number): Float32Array {
  const out = new Float32Array(rows * width);
  for (let i = 0; i < rows; i++) {
    const from = order[start + i]! * width;
    out.set(data.subarray(from, from + width), i * width);
  }
  return out;
}

function gatherWeights(weights: Float32Array, order: Uint32Array, start: number, rows: number): Float32Array {
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) out[i] = weights[order[start + i]!]!;
  return out;
}

/** The weights scaled to average 1. */
function meanOne(weights: Float32Array): Float32Array {
  let sum = 0;
  for (const w of weights) sum += w;
  const scale = weights.length / sum;
  return Float32Array.from(weights, (w) => w * scale);
}

function checkWeights(name: string, weights: Float32Array, rows: number): Float32Array {
  if (weights.length !== rows) throw new Error(`trainAutoencoder: ${rows} ${name} rows but ${weights.length} weights`);
  if (!weights.every((w) => Number.isFinite(w) && w > 0)) throw new Error(`trainAutoencoder: every ${name} weight must be a finite number > 0`);
  return weights;
}

function shuffle(order: Uint32Array, random: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const held = order[i]!;
    order[i] = order[j]!;
    order[j] = held;
  }
}

function rowsOf(fn: string, name: string, data: Float32Array, width: number): number {
  if (data.length === 0 || data.length % width !== 0) {
    throw new Error(`${fn}: ${name} has ${data.length} values, which is not a positive multiple of width ${width}`);
  }
  return data.length / width;
}

function checkScoreArgs(fn: string, x: Float32Array, rows: number, width: number): void {
  checkPositiveInteger(fn, 'width', width);
  if (!Number.isInteger(rows) || rows < 0) throw new Error(`${fn}: rows is ${rows}; it must be a whole number ≥ 0`);
  if (x.length !== rows * width) {
    throw new Error(`${fn}: x has ${x.length} values but rows × width is ${rows} × ${width} = ${rows * width}`);
  }
}

function checkTrainOptions(options: TrainOptions): void {
  if (!(Number.isFinite(options.learningRate) && options.learningRate > 0)) {
    throw new Error(`trainAutoencoder: learningRate is ${options.learningRate}; it must be a number > 0`);
  }
  checkPositiveInteger('trainAutoencoder', 'maxEpochs', options.maxEpochs);
  checkPositiveInteger('trainAutoencoder', 'batchSize', options.batchSize);
  if (!Number.isInteger(options.patience) || options.patience < 1) {
    throw new Error(`trainAutoencoder: patience is ${options.patience}; it must be a whole number ≥ 1`);
  }
  const minImprovement = options.minImprovement ?? 0;
  if (!(minImprovement >= 0 && minImprovement < 1)) {
    throw new Error(`trainAutoencoder: minImprovement is ${options.minImprovement}; it must be a number from 0 up to (not including) 1`);
  }
  if (options.seed !== undefined && !Number.isInteger(options.seed)) {
    throw new Error(`trainAutoencoder: seed is ${options.seed}; it must be a whole number`);
  }
}

function checkPositiveInteger(fn: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${fn}: ${name} is ${value}; it must be a whole number ≥ 1`);
}
