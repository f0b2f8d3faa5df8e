import { finite } from './finite.js';
import { topShares, type FeatureShare } from './feature-share.js';
import { PreprocessStateError } from './preprocessor.js';

/** A column of an already numeric matrix (the context stage's output) and how it is made ready to scale. */
export interface MatrixColumn {
  name: string;
  /** `log1p` for counts, bytes and times, which span orders of magnitude; `linear` for shares and ratios. */
  transform: 'log1p' | 'linear';
}

export interface MatrixScalerState {
  kind: typeof STATE_KIND;
  formatVersion: 1;
  columns: MatrixColumn[];
  mean: number[];
  std: number[];
  trainingRows: number;
}

/**
 * Standard scaling of a numeric matrix whose columns are named (the context features): each
 * column transformed as declared, then centred and scaled with the training rows' mean and
 * population deviation (a constant column gets 1). Every output is finite.
 */
export class MatrixScaler {
  readonly width: number;
  private readonly log: Uint8Array;
  private readonly mean: Float64Array;
  private readonly invStd: Float64Array;
  private readonly names: readonly string[];

  private constructor(private readonly state: MatrixScalerState) {
    this.width = state.columns.length;
    this.names = state.columns.map((c) => c.name);
    this.log = Uint8Array.from(state.columns, (c) => (c.transform === 'log1p' ? 1 : 0));
    this.mean = Float64Array.from(state.mean);
    this.invStd = Float64Array.from(state.std, (s) => 1 / s);
  }

  /**
   * Learns each column's mean and deviation from `rows` rows of `x` (row-major), after its
   * transform; with `weights` (one a row), as over the traffic the rows were sampled from.
   */
  static fit(x: Float32Array, rows: number, columns: readonly MatrixColumn[], weights?: Float32Array | Float64Array): MatrixScaler {
    const width = columns.length;
    if (rows === 0) throw new PreprocessStateError('cannot fit a scaler on zero rows');
    if (x.length < rows * width) throw new RangeError(`MatrixScaler.fit: ${x.length} values hold fewer than ${rows} rows of ${width}`);
    if (weights !== undefined && weights.length !== rows) throw new RangeError(`MatrixScaler.fit: ${rows} rows but ${weights.length} weights`);
    const identity = new MatrixScaler({ kind: STATE_KIND, formatVersion: 1, columns: [...columns], mean: new Array<number>(width).fill(0), std: new Array<number>(width).fill(1), trainingRows: rows });
    const sum = new Float64Array(width);
    const squares = new Float64Array(width);
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const w = weights === undefined ? 1 : weights[r]!;
      total += w;
      for (let c = 0; c < width; c++) {
        const v = identity.transformed(x[r * width + c]!, c);
        sum[c]! += w * v;
        squares[c]! += w * v * v;
      }
    }
    const mean = Array.from(sum, (s) => s / total);
    const std = Array.from(squares, (s, c) => {
      const variance = s / total - mean[c]! ** 2;
      return variance > 1e-12 ? Math.sqrt(variance) : 1;
    });
    return new MatrixScaler({ ...identity.state, mean, std });
  }

  /** Rebuilds a fitted scaler from its saved state, refusing another format or a malformed one. */
  static fromJSON(json: unknown, source = 'scaler state'): MatrixScaler {
    const state = json as Partial<MatrixScalerState> | null;
    const fail = (what: string): never => {
      throw new PreprocessStateError(`${source}: ${what}`);
    };
    if (typeof state !== 'object' || state === null) return fail('not a JSON object');
    if (state.kind !== STATE_KIND) return fail(`kind is ${JSON.stringify(state.kind)}, expected "${STATE_KIND}"`);
    if (state.formatVersion !== 1) return fail(`formatVersion is ${JSON.stringify(state.formatVersion)}, expected 1`);
    const columns = state.columns;
    if (!Array.isArray(columns) || columns.length === 0) return fail('columns is not a non-empty list');
    columns.forEach((c, i) => {
      if (typeof c?.name !== 'string' || (c.transform !== 'log1p' && c.transform !== 'linear')) fail(`columns[${i}] is ${JSON.stringify(c)}, expected {name, transform: "log1p" | "linear"}`);
    });
    for (const key of ['mean', 'std'] as const) {
      const values = state[key];
      if (!Array.isArray(values) || values.length !== columns.length || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        fail(`${key} is not a list of ${columns.length} finite numbers`);
      }
    }
    if (!state.std!.every((s) => s > 0)) fail('std has a value that is not positive');
    return new MatrixScaler({ ...(state as MatrixScalerState) });
  }

  toJSON(): MatrixScalerState {
    return this.state;
  }

  get columnNames(): string[] {
    return [...this.names];
  }

  /** Transforms and scales `rows` rows of `x` into `out` (allocated when not given). */
  transform(x: Float32Array, rows: number, out: Float32Array = new Float32Array(rows * this.width)): Float32Array {
    const { width, mean, invStd } = this;
    for (let r = 0; r < rows; r++) {
      const base = r * width;
      for (let c = 0; c < width; c++) out[base + c] = finite((this.transformed(x[base + c]!, c) - mean[c]!) * invStd[c]!);
    }
    return out;
  }

  /** The top columns of one row's squared errors, with their share of the row's total. */
  explain(squaredErrors: Float32Array, row: number, top = 3): FeatureShare[] {
    const base = row * this.width;
    const errors = squaredErrors.subarray(base, base + this.width);
    let sum = 0;
    for (let c = 0; c < this.width; c++) sum += errors[c]!;
    if (!(sum > 0)) return [];
    return topShares(errors, sum, this.names, top);
  }

  private transformed(value: number, column: number): number {
    return this.log[column] === 1 ? Math.log1p(value > 0 ? value : 0) : value;
  }
}

const STATE_KIND = 'zeek-anomaly/matrix-scaler';
