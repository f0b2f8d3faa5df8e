import type { ConnRecord } from '../pipeline/read/conn-record.js';
import type { Preset } from '../preprocess/feature-spec.js';
import type { EpochLog, TrainOptions } from './autoencoder.js';
import type { Tf } from './backend.js';
import { fitDetector, scoreRecords, type FittedDetector } from './detector.js';
import { quantile } from './metrics.js';
import { seededRandom, shuffleInPlace } from './random.js';

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
}

export interface TrainedModel extends FittedDetector {
  rows: { train: number; validation: number; test: number };
  /** Mean reconstruction error of the held-out test rows. */
  testLoss: number;
  /** `BASELINE_QUANTILE` of the validation rows' errors: above it, a row is unusual. */
  threshold: { quantile: number; value: number };
  epochs: EpochLog[];
}

/** Shuffles (seeded), splits, fits preprocessing and the model on the training share, and measures the rest. */
export async function trainModel(tf: Tf, records: readonly ConnRecord[], options: TrainModelOptions): Promise<TrainedModel> {
  const split = options.split ?? DEFAULT_SPLIT;
  const shuffled = shuffleInPlace([...records], seededRandom(options.seed));
  const trainEnd = Math.round(shuffled.length * split.train);
  const validationEnd = trainEnd + Math.round(shuffled.length * split.validation);
  const train = shuffled.slice(0, trainEnd);
  const validation = shuffled.slice(trainEnd, validationEnd);
  const test = shuffled.slice(validationEnd);
  if (train.length === 0 || validation.length === 0 || test.length === 0) {
    throw new Error(`${records.length} rows are too few to split into training, validation and test rows`);
  }

  const detector = await fitDetector(tf, train, validation, options.preset, { ...options.train, seed: options.seed });
  const validationScores = scoreRecords(tf, detector, validation);
  const testScores = scoreRecords(tf, detector, test);
  return {
    ...detector,
    rows: { train: train.length, validation: validation.length, test: test.length },
    testLoss: mean(testScores),
    threshold: { quantile: BASELINE_QUANTILE, value: quantile(validationScores, BASELINE_QUANTILE) },
  };
}

function mean(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return values.length === 0 ? NaN : sum / values.length;
}
