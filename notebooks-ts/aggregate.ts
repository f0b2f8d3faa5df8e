/**
 * Streaming aggregators for the notebooks. Each takes one value (or row) at a time and keeps a
 * fixed amount of state, whatever the number of rows: the notebooks read archives of any size
 * through `readConnLog` and never hold the rows themselves.
 */

/**
 * Pearson correlation of every pair of `names`, over the rows where both values are set
 * ("pairwise complete", as pandas' `DataFrame.corr` does). Keeps, per pair, the count and the sums
 * of x, y, x², y² and xy; each value is first shifted by the first value seen for its column, so
 * the sums stay well conditioned (no cancellation when the mean is large next to the spread).
 */
export class RunningCorrelation {
  private readonly k: number;
  private readonly shift: Float64Array;
  private readonly shifted: Uint8Array;
  // Upper triangle with the diagonal, row-major: pair (i, j), i ≤ j, is at index(i, j).
  private readonly n: Float64Array;
  private readonly sx: Float64Array;
  private readonly sy: Float64Array;
  private readonly sxx: Float64Array;
  private readonly syy: Float64Array;
  private readonly sxy: Float64Array;
  private readonly row: Float64Array;
  private readonly present: Uint8Array;

  constructor(readonly names: readonly string[]) {
    const k = names.length;
    this.k = k;
    const pairs = (k * (k + 1)) / 2;
    this.shift = new Float64Array(k);
    this.shifted = new Uint8Array(k);
    this.n = new Float64Array(pairs);
    this.sx = new Float64Array(pairs);
    this.sy = new Float64Array(pairs);
    this.sxx = new Float64Array(pairs);
    this.syy = new Float64Array(pairs);
    this.sxy = new Float64Array(pairs);
    this.row = new Float64Array(k);
    this.present = new Uint8Array(k);
  }

  /** One row: `values[i]` for `names[i]`, null (or NaN) when unset. */
  add(values: readonly (number | null)[]): void {
    const { k, row, present, shift, shifted } = this;
    for (let i = 0; i < k; i++) {
      const v = values[i];
      if (v === null || v === undefined || !Number.isFinite(v)) {
        present[i] = 0;
        continue;
      }
      if (shifted[i] === 0) {
        shift[i] = v;
        shifted[i] = 1;
      }
      row[i] = v - shift[i]!;
      present[i] = 1;
    }
    let p = 0;
    for (let i = 0; i < k; i++) {
      if (present[i] === 0) {
        p += k - i;
        continue;
      }
      const x = row[i]!;
      for (let j = i; j < k; j++, p++) {
        if (present[j] === 0) continue;
        const y = row[j]!;
        this.n[p]! += 1;
        this.sx[p]! += x;
        this.sy[p]! += y;
        this.sxx[p]! += x * x;
        this.syy[p]! += y * y;
        this.sxy[p]! += x * y;
      }
    }
  }

  /** Rows where both columns were set. */
  count(a: number, b: number): number {
    return this.n[this.index(a, b)]!;
  }

  /** Pearson r of columns a and b, or NaN when either is constant (or there are fewer than two rows). */
  correlation(a: number, b: number): number {
    const p = this.index(a, b);
    const n = this.n[p]!;
    if (n < 2) return NaN;
    const [sx, sy] = a <= b ? [this.sx[p]!, this.sy[p]!] : [this.sy[p]!, this.sx[p]!];
    const [sxx, syy] = a <= b ? [this.sxx[p]!, this.syy[p]!] : [this.syy[p]!, this.sxx[p]!];
    const covariance = this.sxy[p]! - (sx * sy) / n;
    const varX = sxx - (sx * sx) / n;
    const varY = syy - (sy * sy) / n;
    // Below this relative size a variance is rounding noise: the column is constant.
    const tiny = 1e-12;
    if (!(varX > tiny * Math.max(1, sxx)) || !(varY > tiny * Math.max(1, syy))) return NaN;
    return Math.max(-1, Math.min(1, covariance / Math.sqrt(varX * varY)));
  }

  private index(a: number, b: number): number {
    const i = Math.min(a, b);
    const j = Math.max(a, b);
    return i * this.k - (i * (i - 1)) / 2 + (j - i);
  }
}

export interface HistogramBin {
  /** Inclusive. */
  lo: number;
  /** Exclusive. */
  hi: number;
  count: number;
}

/**
 * A histogram with bins of equal width in log10 space (`perDecade` bins per power of ten) over a
 * fixed range wide enough for any conn.log count or duration, so no pass over the data is needed
 * to find the range first. Zeros and negatives (a log axis cannot place them) are counted apart,
 * as are values below and above the range.
 */
export class LogHistogram {
  readonly counts: Float64Array;
  zeros = 0;
  negatives = 0;
  below = 0;
  above = 0;
  unset = 0;
  total = 0;
  min = Infinity;
  max = -Infinity;
  private readonly lowExponent: number;

  constructor(
    readonly perDecade = 5,
    readonly minExponent = -6,
    readonly maxExponent = 15,
  ) {
    this.counts = new Float64Array((maxExponent - minExponent) * perDecade);
    this.lowExponent = minExponent * perDecade;
  }

  add(value: number | null): void {
    if (value === null || Number.isNaN(value)) {
      this.unset++;
      return;
    }
    this.total++;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (value === 0) this.zeros++;
    else if (value < 0) this.negatives++;
    else {
      const bin = Math.floor(Math.log10(value) * this.perDecade + 1e-9) - this.lowExponent;
      if (bin < 0) this.below++;
      else if (bin >= this.counts.length) this.above++;
      else this.counts[bin]!++;
    }
  }

  /** The bins from the first to the last non-empty one (empty bins between them included). */
  bins(): HistogramBin[] {
    const first = this.counts.findIndex((c) => c > 0);
    if (first < 0) return [];
    let last = this.counts.length - 1;
    while (this.counts[last] === 0) last--;
    const out: HistogramBin[] = [];
    for (let b = first; b <= last; b++) out.push({ lo: this.edge(b), hi: this.edge(b + 1), count: this.counts[b]! });
    return out;
  }

  /** Rows with a positive value inside the range: what `bins()` shows. */
  get positive(): number {
    let sum = 0;
    for (const c of this.counts) sum += c;
    return sum;
  }

  private edge(bin: number): number {
    // Rounded to 6 significant digits so 10^(k/5) prints as 1.58489 rather than 1.5848931924611136.
    return Number((10 ** ((bin + this.lowExponent) / this.perDecade)).toPrecision(6));
  }
}

/** A histogram with `bins` equal bins over [lo, hi); values outside are counted apart. */
export class LinearHistogram {
  readonly counts: Float64Array;
  outside = 0;
  unset = 0;
  total = 0;

  constructor(
    readonly lo: number,
    readonly hi: number,
    readonly binCount: number,
  ) {
    this.counts = new Float64Array(binCount);
  }

  add(value: number | null): void {
    if (value === null || Number.isNaN(value)) {
      this.unset++;
      return;
    }
    this.total++;
    const bin = Math.floor(((value - this.lo) / (this.hi - this.lo)) * this.binCount);
    if (bin < 0 || bin >= this.binCount) this.outside++;
    else this.counts[bin]!++;
  }

  bins(): HistogramBin[] {
    const width = (this.hi - this.lo) / this.binCount;
    return Array.from(this.counts, (count, b) => ({ lo: this.lo + b * width, hi: this.lo + (b + 1) * width, count }));
  }
}

export interface TopEntry {
  key: string;
  /** An upper bound of the true count (exact while `exact` is true). */
  count: number;
  /** How much `count` may over-count: the true count is in [count − error, count]. */
  error: number;
}

/**
 * The most frequent keys of a stream in bounded memory: the Space-Saving algorithm (Metwally,
 * Agrawal and El Abbadi, 2005) with `capacity` counters kept in a min-heap. While fewer than
 * `capacity` distinct keys have been seen every count is exact; after that, any key whose true
 * count is above total / capacity is guaranteed to be among the counters, and each count errs by
 * at most its `error`.
 */
export class TopK {
  private readonly keys: string[] = [];
  private readonly counts: number[] = [];
  private readonly errors: number[] = [];
  private readonly position = new Map<string, number>();
  total = 0;
  /** False once a key had to be evicted: counts may then over-count by their `error`. */
  exact = true;

  constructor(
    readonly capacity = 1000,
    /** Makes the stored copy of a new key (see `ownString`: a key cut from a chunk would pin it). */
    private readonly own: (key: string) => string = (key) => key,
  ) {
    if (!(capacity >= 1)) throw new RangeError(`TopK: capacity must be 1 or more, got ${capacity}`);
  }

  add(key: string, weight = 1): void {
    this.total += weight;
    const at = this.position.get(key);
    if (at !== undefined) {
      this.counts[at]! += weight;
      this.siftDown(at);
      return;
    }
    if (this.keys.length < this.capacity) {
      const owned = this.own(key);
      this.keys.push(owned);
      this.counts.push(weight);
      this.errors.push(0);
      this.position.set(owned, this.keys.length - 1);
      this.siftUp(this.keys.length - 1);
      return;
    }
    // Replace the smallest counter: the newcomer inherits its count as its possible error.
    this.exact = false;
    const owned = this.own(key);
    this.position.delete(this.keys[0]!);
    const floor = this.counts[0]!;
    this.keys[0] = owned;
    this.errors[0] = floor;
    this.counts[0] = floor + weight;
    this.position.set(owned, 0);
    this.siftDown(0);
  }

  /** The `n` keys with the highest counts, highest first (ties by key). */
  top(n: number): TopEntry[] {
    return this.keys
      .map((key, i) => ({ key, count: this.counts[i]!, error: this.errors[i]! }))
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .slice(0, n);
  }

  get distinctKept(): number {
    return this.keys.length;
  }

  private swap(a: number, b: number): void {
    const { keys, counts, errors, position } = this;
    [keys[a], keys[b]] = [keys[b]!, keys[a]!];
    [counts[a], counts[b]] = [counts[b]!, counts[a]!];
    [errors[a], errors[b]] = [errors[b]!, errors[a]!];
    position.set(keys[a], a);
    position.set(keys[b], b);
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.counts[parent]! <= this.counts[i]!) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const size = this.keys.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < size && this.counts[left]! < this.counts[smallest]!) smallest = left;
      if (right < size && this.counts[right]! < this.counts[smallest]!) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}

const SECONDS_PER_DAY = 86_400;

/**
 * Connections per time slot of each UTC day (`slotSeconds` wide, 600 s by default): one small array
 * per day that has connections, so memory grows with the days covered, never with the rows.
 */
export class DailyTimeBins {
  private readonly days = new Map<number, Float64Array>();
  readonly slotsPerDay: number;

  constructor(readonly slotSeconds = 600) {
    if (SECONDS_PER_DAY % slotSeconds !== 0) throw new RangeError(`DailyTimeBins: ${slotSeconds} s does not divide a day`);
    this.slotsPerDay = SECONDS_PER_DAY / slotSeconds;
  }

  add(ts: number): void {
    if (!Number.isFinite(ts)) return;
    const day = Math.floor(ts / SECONDS_PER_DAY);
    let slots = this.days.get(day);
    if (slots === undefined) {
      slots = new Float64Array(this.slotsPerDay);
      this.days.set(day, slots);
    }
    slots[Math.floor((ts - day * SECONDS_PER_DAY) / this.slotSeconds)]!++;
  }

  /** Days (as epoch-day numbers) with at least one connection, oldest first. */
  dayNumbers(): number[] {
    return [...this.days.keys()].sort((a, b) => a - b);
  }

  slots(day: number): Float64Array {
    return this.days.get(day) ?? new Float64Array(this.slotsPerDay);
  }

  total(day: number): number {
    let sum = 0;
    for (const c of this.slots(day)) sum += c;
    return sum;
  }
}

/** How often each column is unset: `null` in a ConnRecord (Zeek's `-`, an omitted JSON key, or a column the file lacks). */
export class MissingShare {
  readonly unset: Float64Array;
  rows = 0;

  constructor(readonly columns: readonly string[]) {
    this.unset = new Float64Array(columns.length);
  }

  /** `isUnset(i)` for column i of one row. */
  addRow(isUnset: (column: number) => boolean): void {
    this.rows++;
    for (let i = 0; i < this.columns.length; i++) if (isUnset(i)) this.unset[i]!++;
  }

  share(column: number): number {
    return this.rows === 0 ? NaN : this.unset[column]! / this.rows;
  }
}
