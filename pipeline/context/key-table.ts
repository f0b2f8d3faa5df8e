/**
 * A hash table from 64-bit keys to a row of float64 statistics, with the times each key was first
 * and last seen. Rows sit densely in typed arrays in the order their keys arrived, found through a
 * separate open-addressing index of row numbers: no object per key, so millions of keys cost their
 * bytes and nothing for the garbage collector to walk, and growing copies rows without rehashing them.
 *
 * Bounded: once `maxKeys` keys are held, the next new key first evicts the idle half (the keys
 * whose last connection is oldest). Eviction depends only on the keys' times and arrival order,
 * so a table rebuilt from its saved rows evicts exactly as the original would.
 */
export class KeyTable {
  readonly width: number;
  readonly maxKeys: number;
  size = 0;
  /** How many keys eviction has dropped, over the table's life. */
  evicted = 0;
  /** Whether the last `rowFor` added its key. */
  lastWasNew = false;
  keyHi: Uint32Array;
  keyLo: Uint32Array;
  firstTs: Float64Array;
  lastTs: Float64Array;
  /** `width` statistics per row: row r owns stats[r * width … r * width + width). */
  stats: Float64Array;
  /** Row number + 1 at each index slot; 0 is empty. Kept at most half full, so a probe is short. */
  private index: Int32Array;
  private mask: number;

  constructor(width: number, maxKeys: number) {
    if (!Number.isInteger(maxKeys) || maxKeys < 2) throw new Error(`KeyTable: maxKeys is ${maxKeys}; expected a whole number of at least 2`);
    this.width = width;
    this.maxKeys = maxKeys;
    const rows = Math.min(INITIAL_ROWS, maxKeys);
    this.keyHi = new Uint32Array(rows);
    this.keyLo = new Uint32Array(rows);
    this.firstTs = new Float64Array(rows);
    this.lastTs = new Float64Array(rows);
    this.stats = new Float64Array(rows * width);
    this.index = new Int32Array(indexSizeFor(rows));
    this.mask = this.index.length - 1;
  }

  /** The row of a key, or -1. */
  find(hi: number, lo: number): number {
    const { index, keyHi, keyLo, mask } = this;
    for (let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask; ; slot = (slot + 1) & mask) {
      const entry = index[slot]!;
      if (entry === 0) return -1;
      const row = entry - 1;
      if (keyLo[row] === lo && keyHi[row] === hi) return row;
    }
  }

  /**
   * The row of a key, added (statistics zero, first and last seen at `ts`) when it is new; then
   * `lastWasNew` says so. Rows keep their numbers until the next eviction, which only an insert
   * can cause.
   */
  rowFor(hi: number, lo: number, ts: number): number {
    const found = this.find(hi, lo);
    this.lastWasNew = found < 0;
    if (found >= 0) return found;
    if (this.size >= this.maxKeys) this.evictIdleHalf();
    return this.append(hi, lo, ts, ts);
  }

  /** Adds a row as saved (loading state): keys must be new, in their saved order. A lower `maxKeys` than the saved table's evicts as it goes. */
  restore(hi: number, lo: number, firstTs: number, lastTs: number, stats: Float64Array): void {
    if (this.size >= this.maxKeys) this.evictIdleHalf();
    const row = this.append(hi, lo, firstTs, lastTs);
    this.stats.set(stats, row * this.width);
  }

  private append(hi: number, lo: number, firstTs: number, lastTs: number): number {
    if (this.size === this.keyHi.length) this.growRows();
    const row = this.size++;
    this.keyHi[row] = hi;
    this.keyLo[row] = lo;
    this.firstTs[row] = firstTs;
    this.lastTs[row] = lastTs;
    // Rows past `size` are zero: fresh arrays are, and eviction clears what it drops.
    if (this.size * 2 > this.index.length) this.rebuildIndex(this.index.length * 2);
    else this.indexRow(row);
    return row;
  }

  private indexRow(row: number): void {
    const { index, mask } = this;
    let slot = (this.keyLo[row]! ^ Math.imul(this.keyHi[row]!, 0x9e3779b1)) & mask;
    while (index[slot] !== 0) slot = (slot + 1) & mask;
    index[slot] = row + 1;
  }

  private rebuildIndex(size: number): void {
    this.index = new Int32Array(size);
    this.mask = size - 1;
    for (let row = 0; row < this.size; row++) this.indexRow(row);
  }

  private growRows(): void {
    const rows = Math.min(this.maxKeys, this.keyHi.length * 2);
    const grow = <T extends Uint32Array | Float64Array>(old: T, make: (n: number) => T, per = 1): T => {
      const bigger = make(rows * per);
      bigger.set(old);
      return bigger;
    };
    this.keyHi = grow(this.keyHi, (n) => new Uint32Array(n));
    this.keyLo = grow(this.keyLo, (n) => new Uint32Array(n));
    this.firstTs = grow(this.firstTs, (n) => new Float64Array(n));
    this.lastTs = grow(this.lastTs, (n) => new Float64Array(n));
    this.stats = grow(this.stats, (n) => new Float64Array(n), this.width);
  }

  /** Drops every key last seen at or before the median last-seen time, keeping the others in order. */
  private evictIdleHalf(): void {
    const n = this.size;
    const cut = kthSmallest(this.lastTs.slice(0, n), Math.floor((n - 1) / 2));
    const width = this.width;
    let kept = 0;
    for (let row = 0; row < n; row++) {
      if (this.lastTs[row]! <= cut) continue;
      if (kept !== row) {
        this.keyHi[kept] = this.keyHi[row]!;
        this.keyLo[kept] = this.keyLo[row]!;
        this.firstTs[kept] = this.firstTs[row]!;
        this.lastTs[kept] = this.lastTs[row]!;
        this.stats.copyWithin(kept * width, row * width, row * width + width);
      }
      kept++;
    }
    this.stats.fill(0, kept * width, n * width);
    this.evicted += n - kept;
    this.size = kept;
    this.rebuildIndex(this.index.length);
  }
}

const INITIAL_ROWS = 1024;

function indexSizeFor(rows: number): number {
  let size = 16;
  while (size < rows * 2) size *= 2;
  return size;
}

/** The k-th smallest value (0-based) by Hoare's selection, in linear time; reorders `values`. */
function kthSmallest(values: Float64Array, k: number): number {
  let low = 0;
  let high = values.length - 1;
  while (low < high) {
    const pivot = values[(low + high) >>> 1]!;
    let i = low;
    let j = high;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i] = values[j]!;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) high = j;
    else if (k >= i) low = i;
    else return values[k]!;
  }
  return values[k]!;
}
