/**
 * A few text columns of many rows, kept as UTF-8 in one growing buffer: a row's values sit
 * together, rows in the order they were added. A candidate row's uid, addresses and history as
 * JavaScript strings took about 200 bytes of heap (the strings, and an array slot each); here they
 * take their length in bytes (about 50), and the garbage collector has nothing to walk. At the end
 * of a 10M-row file (600,000 candidates) the heap in use was about 180 MB before, under 60 after.
 */
export class TextColumns {
  private bytes = Buffer.alloc(INITIAL_BYTES);
  private used = 0;
  /** Where each row's bytes start. */
  private start = new Int32Array(INITIAL_ROWS);
  /** Each value's length in bytes, -1 for null. */
  private length: Int32Array<ArrayBuffer>;

  constructor(readonly columns: number) {
    this.length = new Int32Array(INITIAL_ROWS * columns);
  }

  /** The columns another thread handed over (see `handOver`). */
  static fromParts(parts: TextColumnsParts): TextColumns {
    const text = new TextColumns(parts.columns);
    text.bytes = Buffer.from(parts.bytes.buffer, parts.bytes.byteOffset, parts.bytes.byteLength);
    text.used = parts.used;
    text.start = parts.start;
    text.length = parts.length;
    return text;
  }

  /** The columns for another thread, with the buffers to transfer: this object cannot be used after. */
  handOver(): { parts: TextColumnsParts; buffers: ArrayBuffer[] } {
    const parts: TextColumnsParts = { columns: this.columns, bytes: this.bytes, used: this.used, start: this.start, length: this.length };
    return { parts, buffers: [this.bytes.buffer, this.start.buffer, this.length.buffer] };
  }

  /** Sets row `row`'s values; rows are set in order, each once, `row` one past the last set (or after `truncate`). */
  set(row: number, values: readonly (string | null)[]): void {
    if (row >= this.start.length) this.growRows();
    this.start[row] = this.used;
    for (let k = 0; k < this.columns; k++) {
      const value = values[k] ?? null;
      if (value === null) {
        this.length[row * this.columns + k] = -1;
        continue;
      }
      // At most 3 bytes per UTF-16 unit: room for the value before writing it.
      this.reserve(value.length * 3);
      const written = this.bytes.write(value, this.used, 'utf8');
      this.length[row * this.columns + k] = written;
      this.used += written;
    }
  }

  get(row: number, column: number): string | null {
    let at = this.start[row]!;
    const lengths = this.length;
    const first = row * this.columns;
    for (let k = 0; k < column; k++) at += Math.max(0, lengths[first + k]!);
    const length = lengths[first + column]!;
    return length < 0 ? null : this.bytes.toString('utf8', at, at + length);
  }

  /** Moves row `from` to row `to`, the first row after the rows kept so far: for pruning in place, in row order. */
  move(from: number, to: number): void {
    const source = this.start[from]!;
    const target = to === 0 ? 0 : this.endOf(to - 1);
    this.bytes.copyWithin(target, source, this.endOf(from));
    this.start[to] = target;
    this.length.copyWithin(to * this.columns, from * this.columns, (from + 1) * this.columns);
  }

  /** Keeps the first `rows` rows only. */
  truncate(rows: number): void {
    this.used = rows === 0 ? 0 : this.endOf(rows - 1);
  }

  private endOf(row: number): number {
    let end = this.start[row]!;
    for (let k = 0; k < this.columns; k++) end += Math.max(0, this.length[row * this.columns + k]!);
    return end;
  }

  private reserve(bytes: number): void {
    if (this.used + bytes <= this.bytes.length) return;
    const bigger = Buffer.alloc(Math.max(this.bytes.length * 2, this.used + bytes));
    this.bytes.copy(bigger, 0, 0, this.used);
    this.bytes = bigger;
  }

  private growRows(): void {
    const start = new Int32Array(this.start.length * 2);
    start.set(this.start);
    this.start = start;
    const length = new Int32Array(this.length.length * 2);
    length.set(this.length);
    this.length = length;
  }
}

/** What `handOver` gives. */
export interface TextColumnsParts {
  columns: number;
  bytes: Uint8Array<ArrayBuffer>;
  used: number;
  start: Int32Array<ArrayBuffer>;
  length: Int32Array<ArrayBuffer>;
}

const INITIAL_ROWS = 4096;
const INITIAL_BYTES = 256 * 1024;
