import { seededRandom } from './random.js';

export interface SyntheticFeatureOptions {
  rows: number;
  width: number;
  /** Hidden factors every row is made from; fewer than the bottleneck (16) so an autoencoder can learn them. */
  latent: number;
  /** Fixes the mixing (which features go together). Rows made with the same `structureSeed` share a distribution. */
  structureSeed: number;
  /** Fixes the rows themselves. */
  rowSeed: number;
  /** Standard deviation of independent noise added to each value. */
  noise?: number;
}

/**
 * Rows shaped like preprocessed conn features: about half continuous columns that are linear mixes
 * of a few hidden factors (as bytes, packets and duration move together), the rest one-hot groups
 * of 8 whose hot column follows a factor (as service follows port). Row-major, `width` values a row.
 * For tests and measurements: an autoencoder can learn it, and rows made otherwise stand out.
 */
export function syntheticFeatures(options: SyntheticFeatureOptions): Float32Array {
  const { rows, width, latent } = options;
  const noise = options.noise ?? 0.05;
  const structure = seededRandom(options.structureSeed);
  const random = seededRandom(options.rowSeed);
  const groups = Math.floor(width / 2 / 8);
  const continuous = width - groups * 8;
  const mixing = Float64Array.from({ length: continuous * latent }, () => (structure() * 2 - 1) / Math.sqrt(latent));
  const groupFactor = Uint32Array.from({ length: groups }, (_, g) => g % latent);

  const out = new Float32Array(rows * width);
  const z = new Float64Array(latent);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < latent; k++) z[k] = gaussian(random);
    const row = r * width;
    for (let c = 0; c < continuous; c++) {
      let v = 0;
      for (let k = 0; k < latent; k++) v += mixing[c * latent + k]! * z[k]!;
      out[row + c] = v + noise * gaussian(random);
    }
    for (let g = 0; g < groups; g++) {
      // The factor's quantile picks the hot column, so the group is predictable from the other columns.
      const hot = Math.min(7, Math.max(0, Math.floor((z[groupFactor[g]!]! + 2) * 2)));
      out[row + continuous + g * 8 + hot] = 1;
    }
  }
  return out;
}

/** Rows with each value drawn independently at the same scale: nothing ties the columns together. */
export function unstructuredRows(rows: number, width: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: rows * width }, () => gaussian(random));
}

function gaussian(random: () => number): number {
  // Box–Muller; 1 - u keeps the logarithm's argument above zero.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
