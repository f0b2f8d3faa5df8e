import type { ConnRecord } from '../pipeline/read/conn-record.js';
import type { Preset } from '../preprocess/feature-spec.js';
import type { MatrixColumn } from '../preprocess/matrix-scaler.js';
import { trainAutoencoder, type EpochLog, type TrainOptions } from './autoencoder.js';
import type { Tf } from './backend.js';
import { combinedScore, scaleOf, type ScoreScales } from './combine.js';
import { fitContextDetector, scoreContextRows, type ContextRows, type FittedContextDetector } from './context-detector.js';
import { fitDetector, scoreRecords, type FittedDetector } from './detector.js';
import { trainAutoencoderInWorker } from './train-in-worker.js';
import { seededRandom, shuffleInPlace } from './random.js';
import { weightsOf, type SampleWeights } from './sample-weights.js';
import { weightedMean, weightedQuantile } from './weighted-stats.js';

export interface SplitShares {
  train: number;
  validation: number;
  test: number;
}

/** As the original design: 70% to train, 10% to stop early on, 20% to measure. */
export const DEFAULT_SPLIT: SplitShares = { train: 0.7, validation: 0.1, test: 0.2 };
/** The baseline threshold saved with a model: this quantile of its validation errors. */
export const BASELINE_QUANTILE = 0.95;

export interface TrainModelOptions {
  preset: Preset;
  train: TrainOptions;
  seed: number;
  split?: SplitShares;
  /** Each record's context features (`rows[i]` belongs to record i): trains the context autoencoder too. */
  context?: { rows: readonly Float32Array[]; columns: readonly MatrixColumn[] };
  /** Each epoch of the context autoencoder (`train.onEpoch` has the per-connection one's); default `train.onEpoch`. */
  onContextEpoch?: (epoch: EpochLog) => void;
  /**
   * How many rows of the traffic each record stands for (`weights[i]` is record i's), from a
   * stratified sample: preprocessing, both models' losses, the thresholds and the test loss are
   * then weighted, so they are those of the traffic rather than of the sample. None: all count 1.
   */
  weights?: Float64Array;
}

export interface Threshold {
  quantile: number;
  value: number;
}

export interface TrainedModel extends FittedDetector {
  rows: { train: number; validation: number; test: number };
  /** Mean reconstruction error of the held-out test rows. */
  testLoss: number;
  /** `BASELINE_QUANTILE` of the validation rows' errors: above it, a row is unusual. */
  threshold: Threshold;
  epochs: EpochLog[];
  /** The context autoencoder, measured like the per-connection one, and how the two scores combine; null without context. */
  context: { detector: FittedContextDetector; testLoss: number; threshold: Threshold; scales: ScoreScales; combinedThreshold: Threshold } | null;
}

/** Shuffles (seeded), splits, fits preprocessing and the model(s) on the training share, and measures the rest. */
export async function trainModel(tf: Tf, records: readonly ConnRecord[], options: TrainModelOptions): Promise<TrainedModel> {
  const split = options.split ?? DEFAULT_SPLIT;
  // The row numbers are shuffled, not the rows, so the context rows follow their records.
  const order = shuffleInPlace(Array.from(records, (_, i) => i), seededRandom(options.seed));
  const trainEnd = Math.round(order.length * split.train);
  const validationEnd = trainEnd + Math.round(order.length * split.validation);
  const parts = { train: order.slice(0, trainEnd), validation: order.slice(trainEnd, validationEnd), test: order.slice(validationEnd) };
  if (parts.train.length === 0 || parts.validation.length === 0 || parts.test.length === 0) {
    throw new Error(`${records.length} rows are too few to split into training, validation and test rows`);
  }
  const recordsOf = (rows: number[]): ConnRecord[] => rows.map((i) => records[i]!);
  const validation = recordsOf(parts.validation);
  if (options.weights !== undefined && options.weights.length !== records.length) {
    throw new RangeError(`trainModel: ${options.weights.length} weights for ${records.length} records`);
  }
  const all = options.weights;
  const weights = all === undefined ? null : { train: weightsOf(all, parts.train), validation: weightsOf(all, parts.validation), test: weightsOf(all, parts.test) };
  const fitWeights: SampleWeights | undefined = weights === null ? undefined : { train: weights.train, validation: weights.validation };

  // The context autoencoder trains on a worker thread while this one trains the per-connection
  // one: the two are independent until their thresholds are combined, and the machine has two cores.
  const contextShares = options.context === undefined ? null : contextMatrices(options.context, records.length, parts);
  const stopContext = new AbortController();
  const contextFit =
    contextShares === null
      ? null
      : fitContextDetector(
          tf,
          contextShares.train,
          contextShares.validation,
          contextShares.columns,
          {
            ...options.train,
            seed: options.seed + 1,
            onEpoch: options.onContextEpoch ?? options.train.onEpoch,
            signal: options.train.signal === undefined ? stopContext.signal : AbortSignal.any([options.train.signal, stopContext.signal]),
          },
          // tfjs-node already spreads its work over every core, and its native addon is not made
          // to load in a second thread: with it, both models train here.
          tf.getBackend() === 'tensorflow' ? trainAutoencoder : trainAutoencoderInWorker,
          fitWeights,
        );
  // Marked as handled now: on an abort it rejects at once, while the main thread is still inside
  // fitDetector, and an unhandled rejection would end the process. It is awaited below all the same.
  contextFit?.catch(() => undefined);
  let detector: FittedDetector;
  try {
    detector = await fitDetector(tf, recordsOf(parts.train), validation, options.preset, { ...options.train, seed: options.seed }, fitWeights);
  } catch (error) {
    stopContext.abort();
    await contextFit?.catch(() => undefined);
    throw error;
  }
  const validationScores = scoreRecords(tf, detector, validation);
  const testScores = scoreRecords(tf, detector, recordsOf(parts.test));
  const threshold = { quantile: BASELINE_QUANTILE, value: weightedQuantile(validationScores, weights?.validation ?? null, BASELINE_QUANTILE) };

  let context: TrainedModel['context'] = null;
  if (contextFit !== null && contextShares !== null) {
    let fitted: FittedContextDetector;
    try {
      fitted = await contextFit;
    } catch (error) {
      detector.model.dispose();
      throw error;
    }
    const contextValidationScores = scoreContextRows(tf, fitted, contextShares.validation).scores;
    const contextTestScores = scoreContextRows(tf, fitted, contextShares.test()).scores;
    const contextThreshold = { quantile: BASELINE_QUANTILE, value: weightedQuantile(contextValidationScores, weights?.validation ?? null, BASELINE_QUANTILE) };
    const scales = { conn: scaleOf(threshold.value), context: scaleOf(contextThreshold.value) };
    const combined = Float32Array.from(validationScores, (score, i) => combinedScore(score, contextValidationScores[i]!, scales));
    context = {
      detector: fitted,
      testLoss: weightedMean(contextTestScores, weights?.test ?? null),
      threshold: contextThreshold,
      scales,
      combinedThreshold: { quantile: BASELINE_QUANTILE, value: weightedQuantile(combined, weights?.validation ?? null, BASELINE_QUANTILE) },
    };
  }

  return {
    ...detector,
    rows: { train: parts.train.length, validation: parts.validation.length, test: parts.test.length },
    testLoss: weightedMean(testScores, weights?.test ?? null),
    threshold,
    context,
  };
}

/** The context rows of each share, each copied straight into its own matrix: no matrix of the whole sample is made. The test share's, only when asked for. */
function contextMatrices(
  context: NonNullable<TrainModelOptions['context']>,
  records: number,
  parts: { train: number[]; validation: number[]; test: number[] },
): { train: ContextRows; validation: ContextRows; test: () => ContextRows; columns: readonly MatrixColumn[] } {
  const { rows: contextRows, columns } = context;
  const width = columns.length;
  if (contextRows.length !== records) throw new RangeError(`trainModel: ${contextRows.length} context rows for ${records} records`);
  const rowsOf = (rows: number[]): ContextRows => {
    const out = new Float32Array(rows.length * width);
    rows.forEach((row, i) => out.set(contextRows[row]!.subarray(0, width), i * width));
    return { x: out, rows: rows.length };
  };
  return { train: rowsOf(parts.train), validation: rowsOf(parts.validation), test: () => rowsOf(parts.test), columns };
}
