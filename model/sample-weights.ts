import type { RowWeights } from './autoencoder.js';

/** How many rows of the traffic each training and validation row stands for (a stratified sample's weights). */
export interface SampleWeights {
  train: Float64Array;
  validation: Float64Array;
}

/** The weights as the autoencoder takes them: float32 arrays of their own, which a worker thread can be handed. */
export function rowWeights(weights: SampleWeights): RowWeights {
  return { train: Float32Array.from(weights.train), validation: Float32Array.from(weights.validation) };
}

/** The weights of the rows `rows` of the sample. */
export function weightsOf(weights: Float64Array, rows: readonly number[]): Float64Array {
  return Float64Array.from(rows, (row) => weights[row]!);
}
