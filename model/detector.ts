import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from './backend.js';
import type { ConnRecord } from '../pipeline/read/conn-record.js';
import { Preprocessor } from '../preprocess/preprocessor.js';
import type { Preset } from '../preprocess/feature-spec.js';
import { DEFAULT_SCORE_BATCH, scoreAll, trainAutoencoder, type EpochLog, type TrainOptions } from './autoencoder.js';
import { rowWeights, type SampleWeights } from './sample-weights.js';

/** A fitted preprocessor and the autoencoder trained on its output: everything needed to score. */
export interface Detector {
  preprocessor: Preprocessor;
  model: tfjs.LayersModel;
}

export interface FittedDetector extends Detector {
  epochs: EpochLog[];
  bestEpoch: number;
  stoppedEarly: boolean;
}

/**
 * Fits preprocessing on the training rows only, then trains the autoencoder with early stopping on
 * the validation rows; with `weights`, both as over the traffic the rows were sampled from.
 */
export async function fitDetector(
  tf: Tf,
  train: readonly ConnRecord[],
  validation: readonly ConnRecord[],
  preset: Preset,
  options: TrainOptions,
  weights?: SampleWeights,
): Promise<FittedDetector> {
  const preprocessor = Preprocessor.fit(train, preset, weights?.train);
  const width = preprocessor.width;
  const trained = await trainAutoencoder(tf, preprocessor.transform(train), preprocessor.transform(validation), width, options, weights === undefined ? undefined : rowWeights(weights));
  return { preprocessor, ...trained };
}

// Scoring transforms this many rows at a time, so memory does not grow with the rows scored.
const SCORE_BLOCK_ROWS = 65_536;

/** Reconstruction error (mean squared error in scaled space) of every record. */
export function scoreRecords(tf: Tf, detector: Detector, records: readonly ConnRecord[]): Float32Array {
  const { preprocessor, model } = detector;
  const width = preprocessor.width;
  const scores = new Float32Array(records.length);
  const block = new Float32Array(Math.min(SCORE_BLOCK_ROWS, records.length) * width);
  for (let start = 0; start < records.length; start += SCORE_BLOCK_ROWS) {
    const slice = records.slice(start, start + SCORE_BLOCK_ROWS);
    const x = preprocessor.transform(slice, block.subarray(0, slice.length * width));
    scores.set(scoreAll(tf, model, x, slice.length, width, DEFAULT_SCORE_BATCH).scores, start);
  }
  return scores;
}
