/**
 * A hash table from 64-bit keys to a row of float32 statistics, with the times each key was first
 * and last seen. A row is one run of bytes in one buffer: the key (two u32), the last-seen and
 * first-seen times (f64), then the statistics (f32), padded to 8 bytes. So a connection's lookup
 * and update touch one or two cache lines of a table, not one per array: with a million keys, the
 * tables are far larger than the caches and each line touched is a trip to memory. Rows sit
 * densely in the order their keys arrived, found through a separate open-addressing index of row
 * numbers: no object per key, nothing for the garbage collector to walk. Both are made at their
 * full size once (see the constructor), so a table never grows, copies or rehashes.
 *
 * Statistics are float32: damped counts, byte sums and their squares need about 7 significant
 * digits, not 16, and the smaller rows halve the memory and the cache lines. Times stay float64:
 * a Unix time in float32 would be off by minutes.
 *
 * Bounded: once `maxKeys` keys are held, the next new key first evicts the idle half (the keys
 * whose last connection is oldest). Eviction depends only on the keys' times and arrival order,
 * so a table rebuilt from its saved rows evicts exactly as the original would.
 */
export class KeyTable {
  readonly width: number;
  readonly maxKeys: number;
  /** Bytes per row. */
  readonly rowBytes: number;
  size = 0;
  /** How many keys eviction has dropped, over the table's life. */
  evicted = 0;
  /** Whether the last `rowFor` added its key. */
  lastWasNew = false;
  /** The statistics, through the rows' buffer: row r's k-th is at `stats[statsAt(r) + k]`. */
  readonly stats: Float32Array;
  private readonly words: Uint32Array;
  private readonly times: Float64Array;
  /** Row number + 1 at each index slot; 0 is empty. Kept at most half full, so a probe is short. */
  private readonly index: Int32Array;
  private readonly mask: number;
  private readonly rowWords: number;
  private readonly rowTimes: number;

  /** An empty table, or with `parts` the table another thread handed over (see `handOver`). */
  constructor(width: number, maxKeys: number, parts?: KeyTableParts) {
    if (!Number.isInteger(maxKeys) || maxKeys < 2) throw new Error(`KeyTable: maxKeys is ${maxKeys}; expected a whole number of at least 2`);
    this.width = width;
    this.maxKeys = maxKeys;
    this.rowBytes = Math.ceil((HEAD_BYTES + 4 * width) / 8) * 8;
    this.rowWords = this.rowBytes / 4;
    this.rowTimes = this.rowBytes / 8;
    // Room for every key the table may hold, from the start: the operating system gives a large
    // zeroed buffer pages only as they are first written, so the unused end costs address space,
    // not memory, and the table never copies itself to grow (a doubling left up to half of its
    // memory unused, and held the old and new copies at once while it grew).
    const buffer = parts?.rows ?? new ArrayBuffer(maxKeys * this.rowBytes);
    this.words = new Uint32Array(buffer);
    this.times = new Float64Array(buffer);
    this.stats = new Float32Array(buffer);
    this.index = new Int32Array(parts?.index ?? new ArrayBuffer(4 * indexSizeFor(maxKeys)));
    this.mask = this.index.length - 1;
    if (parts !== undefined) {
      if (buffer.byteLength !== maxKeys * this.rowBytes || this.index.length !== indexSizeFor(maxKeys)) {
        throw new Error(`KeyTable: handed ${buffer.byteLength} bytes of rows and ${this.index.length} index slots; a table of ${maxKeys} keys × ${width} statistics has ${maxKeys * this.rowBytes} and ${indexSizeFor(maxKeys)}`);
      }
      this.size = parts.size;
      this.evicted = parts.evicted;
    }
  }

  /**
   * The table's memory and counts, for another thread to make the same table from (`new
   * KeyTable(width, maxKeys, parts)`). Posted with `buffers` in the transfer list, nothing is
   * copied, and this table can no longer be used: its arrays are detached.
   */
  handOver(): { parts: KeyTableParts; buffers: ArrayBuffer[] } {
    const parts: KeyTableParts = { rows: this.words.buffer as ArrayBuffer, index: this.index.buffer as ArrayBuffer, size: this.size, evicted: this.evicted };
    return { parts, buffers: [parts.rows, parts.index] };
  }

  /** The row of a key, or -1. */
  find(hi: number, lo: number): number {
    const { index, words, mask, rowWords } = this;
    for (let slot = slotOf(hi, lo, mask); ; slot = (slot + 1) & mask) {
      const entry = index[slot]!;
      if (entry === 0) return -1;
      const at = (entry - 1) * rowWords;
      if (words[at + 1] === lo && words[at] === hi) return entry - 1;
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

  /** Where row `row`'s statistics start in `stats`. */
  statsAt(row: number): number {
    return row * this.rowWords + HEAD_BYTES / 4;
  }

  lastSeen(row: number): number {
    return this.times[row * this.rowTimes + 1]!;
  }

  firstSeen(row: number): number {
    return this.times[row * this.rowTimes + 2]!;
  }

  /** Moves the key's last-seen time on to `ts`, never back. */
  touch(row: number, ts: number): void {
    const at = row * this.rowTimes + 1;
    if (ts > this.times[at]!) this.times[at] = ts;
  }

  /** Moves the key's first-seen time back to `ts`, never on. */
  seenAsEarlyAs(row: number, ts: number): void {
    const at = row * this.rowTimes + 2;
    if (ts < this.times[at]!) this.times[at] = ts;
  }

  /** The key of row `row`: [high half, low half]. */
  keyOf(row: number): [number, number] {
    const at = row * this.rowWords;
    return [this.words[at]!, this.words[at + 1]!];
  }

  /** The held rows' bytes, as laid out in the class comment (a view, not a copy). */
  rowsView(): Uint8Array {
    return new Uint8Array(this.words.buffer, 0, this.size * this.rowBytes);
  }

  /** Adds a row as saved (loading state): keys must be new, in their saved order. A lower `maxKeys` than the saved table's evicts as it goes. */
  restore(hi: number, lo: number, firstSeen: number, lastSeen: number, stats: ArrayLike<number>): void {
    if (this.size >= this.maxKeys) this.evictIdleHalf();
    const row = this.append(hi, lo, firstSeen, lastSeen);
    this.stats.set(stats, this.statsAt(row));
  }

  private append(hi: number, lo: number, firstSeen: number, lastSeen: number): number {
    const row = this.size++;
    const at = row * this.rowWords;
    this.words[at] = hi;
    this.words[at + 1] = lo;
    this.times[row * this.rowTimes + 1] = lastSeen;
    this.times[row * this.rowTimes + 2] = firstSeen;
    // Statistics past `size` are zero: fresh buffers are, and eviction clears what it drops.
    this.indexRow(row);
    return row;
  }

  private indexRow(row: number): void {
    const { index, mask } = this;
    const at = row * this.rowWords;
    let slot = slotOf(this.words[at]!, this.words[at + 1]!, mask);
    while (index[slot] !== 0) slot = (slot + 1) & mask;
    index[slot] = row + 1;
  }

  private rebuildIndex(): void {
    this.index.fill(0);
    for (let row = 0; row < this.size; row++) this.indexRow(row);
  }

  /** Drops every key last seen at or before the median last-seen time, keeping the others in order. */
  private evictIdleHalf(): void {
    const n = this.size;
    const lastSeen = new Float64Array(n);
    for (let row = 0; row < n; row++) lastSeen[row] = this.lastSeen(row);
    const cut = kthSmallest(lastSeen.slice(), Math.floor((n - 1) / 2));
    const rowTimes = this.rowTimes;
    let kept = 0;
    for (let row = 0; row < n; row++) {
      if (lastSeen[row]! <= cut) continue;
      if (kept !== row) this.times.copyWithin(kept * rowTimes, row * rowTimes, (row + 1) * rowTimes);
      kept++;
    }
    this.times.fill(0, kept * rowTimes, n * rowTimes);
    this.evicted += n - kept;
    this.size = kept;
    this.rebuildIndex();
  }
}

/** What `handOver` gives: the rows' and the index's buffers, and the counts that go with them. */
export interface KeyTableParts {
  rows: ArrayBuffer;
  index: ArrayBuffer;
  size: number;
  evicted: number;
}

// The key (8 bytes), last seen (8) and first seen (8) come before the statistics.
const HEAD_BYTES = 24;

function slotOf(hi: number, lo: number, mask: number): number {
  return (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
}

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
