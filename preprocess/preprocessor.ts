import type { ConnRecord } from '../pipeline/read/conn-record.js';
import { addressAsInteger, isPrivateAddress } from './address.js';
import { categoryValue, numericReader, type FeatureSpec, type Preset } from './feature-spec.js';
import { finite } from './finite.js';
import { hashBucket } from './stable-hash.js';
import { topShares, type FeatureShare } from './feature-share.js';
import { ownString } from '../pipeline/read/own-string.js';

/** What a fitted preprocessor saves beside its model. */
export interface PreprocessState {
  kind: typeof STATE_KIND;
  formatVersion: typeof STATE_FORMAT_VERSION;
  preset: string;
  /** Output columns, i.e. the model's input width. */
  width: number;
  features: FittedFeature[];
  columns: string[];
  mean: number[];
  std: number[];
  trainingRows: number;
}

/** A feature spec with what fitting learnt: for one-hot, its vocabulary. */
export type FittedFeature = FeatureSpec & { vocabulary?: string[] };

export const STATE_KIND = 'zeek-anomaly-preprocess';
export const STATE_FORMAT_VERSION = 1;
export const OTHER_CATEGORY = '<other>';

export class PreprocessStateError extends Error {
  override readonly name = 'PreprocessStateError';
}

/**
 * Turns conn records into the model's input: each feature encoded (numbers, ratios, address
 * integers, stable hashes, one-hot blocks with an explicit `<other>` column), then standard-scaled
 * with means and deviations learnt from training rows only. Transforming writes straight into a
 * `Float32Array`, with no per-row objects.
 */
export class Preprocessor {
  readonly width: number;
  readonly columns: readonly string[];
  /** For each output column, the index of the feature that wrote it (to explain a score). */
  readonly columnFeature: Int32Array;
  private readonly writers: readonly Writer[];
  private readonly offsets: Int32Array;
  private readonly mean: Float64Array;
  private readonly invStd: Float64Array;
  private readonly featureNameList: readonly string[];
  /** Scratch for `explain`: each feature's part of a row's error. */
  private readonly featureTotals: Float64Array;

  private constructor(private readonly state: PreprocessState) {
    this.width = state.width;
    this.columns = state.columns;
    const { columnFeature, offsets } = layout(state.features);
    this.columnFeature = columnFeature;
    this.offsets = offsets;
    this.writers = state.features.map(writerFor);
    this.mean = Float64Array.from(state.mean);
    this.invStd = Float64Array.from(state.std, (s) => 1 / s);
    this.featureNameList = state.features.map((f) => f.name);
    this.featureTotals = new Float64Array(state.features.length);
  }

  /**
   * Learns vocabularies from `rows`, then the scaler from the encoded rows: training rows only.
   * With `weights` (one a row: how many rows of the traffic it stands for), categories are ranked
   * and means and deviations taken as over the traffic the rows were sampled from.
   */
  static fit(rows: readonly ConnRecord[], preset: Preset, weights?: Float32Array | Float64Array): Preprocessor {
    if (rows.length === 0) throw new PreprocessStateError('cannot fit preprocessing on zero rows');
    if (weights !== undefined && weights.length !== rows.length) throw new RangeError(`Preprocessor.fit: ${rows.length} rows but ${weights.length} weights`);
    const features = preset.features.map((spec) => fitFeature(spec, rows, weights));
    const { columns } = layout(features);
    const width = columns.length;
    const unscaled: PreprocessState = {
      kind: STATE_KIND,
      formatVersion: STATE_FORMAT_VERSION,
      preset: preset.name,
      width,
      features,
      columns,
      mean: new Array<number>(width).fill(0),
      std: new Array<number>(width).fill(1),
      trainingRows: rows.length,
    };
    const { mean, std } = fitScaler(new Preprocessor(unscaled), rows, weights);
    return new Preprocessor({ ...unscaled, mean, std });
  }

  /** Rebuilds a fitted preprocessor from its saved state, refusing state of another format or shape. */
  static fromJSON(json: unknown, source = 'preprocessing state'): Preprocessor {
    return new Preprocessor(validateState(json, source));
  }

  toJSON(): PreprocessState {
    return this.state;
  }

  get preset(): string {
    return this.state.preset;
  }

  get featureNames(): string[] {
    return [...this.featureNameList];
  }

  /** Encodes and scales `records` into `out` (rows × width, row-major), allocating it when not given. */
  transform(records: readonly ConnRecord[], out: Float32Array = new Float32Array(records.length * this.width)): Float32Array {
    this.encode(records, out, true);
    return out;
  }

  /** The top features of one row's squared errors (a row of `rows × width`), with their share of the total. */
  explain(squaredErrors: Float32Array, row: number, top = 3): FeatureShare[] {
    const totals = this.featureTotals.fill(0);
    let sum = 0;
    const base = row * this.width;
    for (let c = 0; c < this.width; c++) {
      const e = squaredErrors[base + c]!;
      totals[this.columnFeature[c]!]! += e;
      sum += e;
    }
    if (!(sum > 0)) return [];
    return topShares(totals, sum, this.featureNameList, top);
  }

  /** Writes each record's encoded values (scaled when `scale`), every value finite. */
  private encode(records: readonly ConnRecord[], out: Float32Array, scale: boolean): void {
    const width = this.width;
    if (out.length < records.length * width) {
      throw new RangeError(`output holds ${out.length} values; ${records.length} rows need ${records.length * width}`);
    }
    const { writers, offsets, mean, invStd } = this;
    const featureCount = writers.length;
    for (let r = 0; r < records.length; r++) {
      const base = r * width;
      out.fill(0, base, base + width);
      const record = records[r]!;
      for (let f = 0; f < featureCount; f++) writers[f]!(record, out, base + offsets[f]!);
      if (scale) for (let c = 0; c < width; c++) out[base + c] = finite((out[base + c]! - mean[c]!) * invStd[c]!);
    }
  }

  /** Encoded values without scaling, for fitting the scaler. */
  encodeUnscaled(records: readonly ConnRecord[], out: Float32Array): void {
    this.encode(records, out, false);
  }
}

/** Writes one feature of `record` at `at` (the start of the feature's block), always a finite number. */
type Writer = (record: ConnRecord, out: Float32Array, at: number) => void;

function writerFor(feature: FittedFeature): Writer {
  switch (feature.kind) {
    case 'numeric': {
      const value = numericReader(feature.column);
      if (feature.scale === 'log1p') {
        return (r, out, at) => {
          out[at] = finite(Math.log1p(Math.max(0, value(r))));
        };
      }
      return (r, out, at) => {
        out[at] = finite(value(r));
      };
    }
    case 'ratio': {
      const numerator = numericReader(feature.numerator);
      const denominator = numericReader(feature.denominator);
      const log = feature.scale === 'log1p';
      return (r, out, at) => {
        const den = denominator(r);
        const ratio = den === 0 ? 0 : numerator(r) / den;
        out[at] = finite(log ? Math.log1p(Math.max(0, ratio)) : ratio);
      };
    }
    case 'address-int': {
      const { column } = feature;
      return (r, out, at) => {
        out[at] = addressAsInteger(r[column]);
      };
    }
    case 'hash': {
      const { column, buckets } = feature;
      if (column === 'uid') {
        // Every uid is new: caching would only cost.
        return (r, out, at) => {
          out[at] = r.uid === null ? 0 : hashBucket(r.uid, buckets);
        };
      }
      // `history` values repeat, and the reader hands out the same string objects for them.
      const seen = new Map<string, number>();
      return (r, out, at) => {
        const text = r[column];
        if (text === null) return;
        let bucket = seen.get(text);
        if (bucket === undefined) {
          bucket = hashBucket(text, buckets);
          if (seen.size >= HASH_CACHE_SIZE) seen.clear();
          // An owned key: a value the reader did not intern is a view that would pin its chunk.
          seen.set(ownString(text), bucket);
        }
        out[at] = bucket;
      };
    }
    case 'flag': {
      const { column } = feature;
      if (column === 'private-orig') {
        return (r, out, at) => {
          out[at] = isPrivateAddress(r['id.orig_h']) ? 1 : 0;
        };
      }
      if (column === 'private-resp') {
        return (r, out, at) => {
          out[at] = isPrivateAddress(r['id.resp_h']) ? 1 : 0;
        };
      }
      return (r, out, at) => {
        out[at] = r[column] === true ? 1 : 0;
      };
    }
    case 'one-hot': {
      const { column } = feature;
      const vocabulary = feature.vocabulary ?? [];
      const index = new Map(vocabulary.map((v, i) => [v, i]));
      const other = vocabulary.length;
      return (r, out, at) => {
        out[at + (index.get(categoryValue(r, column)) ?? other)] = 1;
      };
    }
  }
}

// Bounds the cache of a column with unexpectedly many values: it is cleared when full.
const HASH_CACHE_SIZE = 16_384;

/**
 * NaN (a corrupt value) becomes 0, like an unset one; values beyond a float32's range are held at
 * its largest, so that storing them in the Float32Array cannot make an Infinity.
 */

/** A one-hot feature keeps its most frequent categories (ties by name, so fitting is deterministic). */
function fitFeature(spec: FeatureSpec, rows: readonly ConnRecord[], weights: Float32Array | Float64Array | undefined): FittedFeature {
  if (spec.kind !== 'one-hot') return { ...spec };
  const counts = new Map<string, number>();
  rows.forEach((record, i) => {
    const value = categoryValue(record, spec.column);
    counts.set(value, (counts.get(value) ?? 0) + (weights === undefined ? 1 : weights[i]!));
  });
  const vocabulary = [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, spec.maxCategories)
    .map(([value]) => value);
  return { ...spec, vocabulary };
}

function columnsOf(feature: FittedFeature): string[] {
  if (feature.kind !== 'one-hot') return [feature.name];
  return [...(feature.vocabulary ?? []), OTHER_CATEGORY].map((v) => `${feature.name}=${v}`);
}

function layout(features: readonly FittedFeature[]): { columns: string[]; columnFeature: Int32Array; offsets: Int32Array } {
  const columns: string[] = [];
  const owner: number[] = [];
  const offsets = new Int32Array(features.length);
  features.forEach((feature, f) => {
    offsets[f] = columns.length;
    for (const column of columnsOf(feature)) {
      columns.push(column);
      owner.push(f);
    }
  });
  return { columns, columnFeature: Int32Array.from(owner), offsets };
}

// Rows are encoded in blocks so fitting the scaler needs no matrix of the whole training set.
const FIT_BLOCK_ROWS = 8192;

/** Means and standard deviations per column (population, as scikit-learn's StandardScaler, weighted when given weights); 0 becomes 1. */
function fitScaler(encoder: Preprocessor, rows: readonly ConnRecord[], weights: Float32Array | Float64Array | undefined): { mean: number[]; std: number[] } {
  const width = encoder.width;
  const sum = new Float64Array(width);
  const sumSquares = new Float64Array(width);
  const block = new Float32Array(FIT_BLOCK_ROWS * width);
  // Shifting by the first row's values keeps the sum-of-squares formula exact enough for large counts.
  const shift = new Float64Array(width);
  encoder.encodeUnscaled(rows.slice(0, 1), block);
  shift.set(block.subarray(0, width));
  for (let start = 0; start < rows.length; start += FIT_BLOCK_ROWS) {
    const slice = rows.slice(start, start + FIT_BLOCK_ROWS);
    encoder.encodeUnscaled(slice, block);
    for (let r = 0; r < slice.length; r++) {
      const w = weights === undefined ? 1 : weights[start + r]!;
      for (let c = 0; c < width; c++) {
        const d = block[r * width + c]! - shift[c]!;
        sum[c]! += w * d;
        sumSquares[c]! += w * d * d;
      }
    }
  }
  let n = rows.length;
  if (weights !== undefined) {
    n = 0;
    for (const w of weights) n += w;
  }
  const mean = Array.from(sum, (s, c) => shift[c]! + s / n);
  const std = Array.from(sumSquares, (sq, c) => {
    const meanShifted = sum[c]! / n;
    const variance = Math.max(0, sq / n - meanShifted * meanShifted);
    const deviation = Math.sqrt(variance);
    return deviation > 1e-12 ? deviation : 1;
  });
  return { mean, std };
}

function validateState(json: unknown, source: string): PreprocessState {
  const fail = (message: string): never => {
    throw new PreprocessStateError(`${source}: ${message}`);
  };
  if (typeof json !== 'object' || json === null) return fail('is not a JSON object');
  const state = json as Partial<PreprocessState>;
  if (state.kind !== STATE_KIND) return fail(`'kind' is ${JSON.stringify(state.kind)}, expected "${STATE_KIND}"`);
  if (state.formatVersion !== STATE_FORMAT_VERSION) {
    return fail(`'formatVersion' is ${JSON.stringify(state.formatVersion)}; this zeek-anomaly reads version ${STATE_FORMAT_VERSION} only`);
  }
  if (typeof state.preset !== 'string') return fail("'preset' is missing");
  if (!Array.isArray(state.features) || state.features.length === 0) return fail("'features' must be a non-empty array");
  for (const [i, feature] of state.features.entries()) checkFeature(feature, `features[${i}]`, fail);
  const { columns } = layout(state.features);
  if (state.width !== columns.length) return fail(`'width' is ${state.width}, but its features make ${columns.length} columns`);
  if (!Array.isArray(state.columns) || state.columns.join('\u0000') !== columns.join('\u0000')) {
    return fail("'columns' do not match what its features make");
  }
  for (const key of ['mean', 'std'] as const) {
    const values = state[key];
    if (!Array.isArray(values) || values.length !== columns.length || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      return fail(`'${key}' must hold ${columns.length} finite numbers`);
    }
  }
  if (state.std!.some((s) => s <= 0)) return fail("'std' must be positive");
  if (typeof state.trainingRows !== 'number') return fail("'trainingRows' is missing");
  return state as PreprocessState;
}

const FEATURE_KINDS = new Set(['numeric', 'ratio', 'address-int', 'hash', 'one-hot', 'flag']);

function checkFeature(feature: unknown, where: string, fail: (message: string) => never): void {
  if (typeof feature !== 'object' || feature === null) fail(`${where} is not an object`);
  const f = feature as Partial<FittedFeature>;
  if (typeof f.name !== 'string' || f.name === '') fail(`${where}.name is missing`);
  if (typeof f.kind !== 'string' || !FEATURE_KINDS.has(f.kind)) {
    fail(`${where}.kind is ${JSON.stringify(f.kind)}; allowed: ${[...FEATURE_KINDS].join(', ')}`);
  }
  if (f.kind === 'one-hot' && !(Array.isArray(f.vocabulary) && f.vocabulary.every((v) => typeof v === 'string'))) {
    fail(`${where}.vocabulary must be an array of strings`);
  }
  if (f.kind === 'hash' && !(typeof f.buckets === 'number' && f.buckets > 0)) fail(`${where}.buckets must be a positive number`);
}
