import type { LayersModel } from '@tensorflow/tfjs';
import { MatrixScaler, type MatrixColumn } from '../preprocess/matrix-scaler.js';
import { DEFAULT_SCORE_BATCH, scoreAll, trainAutoencoder, type EpochLog, type Scores, type TrainOptions } from './autoencoder.js';
import type { Tf } from './backend.js';
import { rowWeights, type SampleWeights } from './sample-weights.js';

/** The second autoencoder: over each connection's context features, with their scaler. */
export interface ContextDetector {
  scaler: MatrixScaler;
  model: LayersModel;
}

export interface FittedContextDetector extends ContextDetector {
  epochs: EpochLog[];
  bestEpoch: number;
  stoppedEarly: boolean;
}

/** Rows of context features (rows × columns.length, row-major), as the context stage writes them. */
export interface ContextRows {
  x: Float32Array;
  rows: number;
}

/**
 * Fits the scaler on the training rows only, then the autoencoder (the same input → 32 → 16 → 32 →
 * input shape) with early stopping, by `trainer` (`trainAutoencoderInWorker` trains it on another
 * thread); with `weights`, both as over the traffic the rows were sampled from.
 */
export async function fitContextDetector(
  tf: Tf,
  train: ContextRows,
  validation: ContextRows,
  columns: readonly MatrixColumn[],
  options: TrainOptions,
  trainer: typeof trainAutoencoder = trainAutoencoder,
  weights?: SampleWeights,
): Promise<FittedContextDetector> {
  const scaler = MatrixScaler.fit(train.x, train.rows, columns, weights?.train);
  const trained = await trainer(
    tf,
    scaler.transform(train.x, train.rows),
    scaler.transform(validation.x, validation.rows),
    scaler.width,
    options,
    weights === undefined ? undefined : rowWeights(weights),
  );
  return { scaler, ...trained };
}

/** Each row's context reconstruction error and every column's squared error. */
export function scoreContextRows(tf: Tf, detector: ContextDetector, rows: ContextRows, scaled?: Float32Array): Scores {
  const x = detector.scaler.transform(rows.x, rows.rows, scaled);
  return scoreAll(tf, detector.model, x, rows.rows, detector.scaler.width, DEFAULT_SCORE_BATCH);
}
