import { detachedRecord, type ConnRecord } from '../read/conn-record.js';
import { ownString } from '../read/own-string.js';
import { Reservoir, seededRandom } from '../../model/random.js';
import { StratifiedReservoir } from '../../model/stratified-reservoir.js';
import { rowSignature } from './row-signature.js';

/**
 * How the rows to train on are drawn from the logs:
 * - `uniform`: every row has the same chance (a reservoir), and each counts once;
 * - `stratified`: rows are grouped by `rowSignature`; small groups are kept whole and large ones
 *   sampled down, and each kept row carries the number of rows it stands for, so the models are
 *   fitted to the traffic as it was while rare kinds of it are not lost to the sample.
 */
export const SAMPLING_METHODS = ['uniform', 'stratified'] as const;
export type SamplingMethod = (typeof SAMPLING_METHODS)[number];

/** A sampled row: the record, and its context features when training with context. */
export interface SampledRow {
  record: ConnRecord;
  context: Float32Array | null;
}

export interface DrawnSample {
  rows: SampledRow[];
  /** Rows of the traffic each row stands for; null for a uniform sample, whose rows all count once. */
  weights: Float64Array | null;
}

/** A sample being drawn from a stream of rows, with a checkpoint to undo a file that fails half-way. */
export interface TrainingSample {
  readonly seen: number;
  readonly size: number;
  /** Offers a row that may be a view (a reader's record, a subarray of a context block): a kept row is copied. */
  offer(row: SampledRow): void;
  begin(): void;
  commit(): void;
  rollback(): void;
  drawn(): DrawnSample;
}

/** An empty sample of at most `maxRows` rows, deterministic for `seed`. */
export function trainingSample(method: SamplingMethod, maxRows: number, seed: number): TrainingSample {
  return method === 'uniform' ? uniformSample(maxRows, seed) : stratifiedSample(maxRows, seed);
}

// Sampled records are copies that own their strings: a view into a chunk's text would pin the chunk.
export function copiedRow(row: SampledRow): SampledRow {
  return { record: detachedRecord(row.record), context: row.context === null ? null : row.context.slice() };
}

function uniformSample(maxRows: number, seed: number): TrainingSample {
  const reservoir = new Reservoir<SampledRow>(maxRows, seededRandom(seed), copiedRow);
  return {
    get seen() {
      return reservoir.seen;
    },
    get size() {
      return reservoir.items.length;
    },
    offer: (row) => reservoir.offer(row),
    begin: () => reservoir.begin(),
    commit: () => reservoir.commit(),
    rollback: () => reservoir.rollback(),
    drawn: () => ({ rows: reservoir.items, weights: null }),
  };
}

function stratifiedSample(maxRows: number, seed: number): TrainingSample {
  // A signature holds the row's history text, which may be a view into the reader's chunk.
  const reservoir = new StratifiedReservoir<SampledRow>(maxRows, seededRandom(seed), copiedRow, ownString);
  return {
    get seen() {
      return reservoir.seen;
    },
    get size() {
      return reservoir.size;
    },
    offer: (row) => reservoir.offer(rowSignature(row.record, row.context), row),
    begin: () => reservoir.begin(),
    commit: () => reservoir.commit(),
    rollback: () => reservoir.rollback(),
    drawn: () => {
      const { items, weights } = reservoir.sample();
      return { rows: items, weights };
    },
  };
}
