import type { LineBatch } from './line-splitter.js';

/**
 * One row as byte spans: field k is `bytes[starts[k]..ends[k])`. Numbers are parsed straight
 * from the bytes and only string fields become strings, cut from `text` (the latin1 view of
 * ASCII bytes, whose offsets are byte offsets) without decoding: on this hot path a string per
 * field, as `split` makes, costs more than the whole parser's budget.
 */
export class FieldSpans {
  bytes: Uint8Array = new Uint8Array(0);
  /** The bytes as text, one character per byte; null when they are not all ASCII. */
  text: string | null = null;
  count = 0;
  starts: Int32Array;
  ends: Int32Array;

  constructor(capacity = 64) {
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
  }

  /** Cuts line `i` of `batch` at every `separator`. */
  cutLine(batch: LineBatch, i: number, separator: Buffer): void {
    this.bytes = batch.bytes;
    this.text = batch.asciiText;
    const bytes = batch.bytes;
    const end = batch.ends[i]!;
    let start = batch.starts[i]!;
    let count = 0;
    if (separator.length === 1) {
      const code = separator[0]!;
      // A line has at most one field per byte, plus one.
      if (end - start + 1 > this.starts.length) this.reserve(end - start + 1);
      const starts = this.starts;
      const ends = this.ends;
      for (let at = start; at < end; at++) {
        if (bytes[at] === code) {
          starts[count] = start;
          ends[count++] = at;
          start = at + 1;
        }
      }
    } else {
      for (let at = bytes.indexOf(separator, start); at >= 0 && at < end; at = bytes.indexOf(separator, start)) {
        this.push(count++, start, at);
        start = at + separator.length;
      }
    }
    this.push(count++, start, end);
    this.count = count;
  }

  /** Lays already separated values (from csv-parse) end to end. */
  setValues(values: readonly string[]): void {
    const joined = values.join('');
    const bytes = Buffer.from(joined, 'utf8');
    this.bytes = bytes;
    this.text = bytes.length === joined.length ? joined : null;
    let start = 0;
    values.forEach((value, k) => {
      const length = Buffer.byteLength(value, 'utf8');
      this.push(k, start, start + length);
      start += length;
    });
    this.count = values.length;
  }

  /** Cuts the last field again at `joiner` (IoT-23 joins its label columns with three spaces). */
  splitLast(joiner: Buffer): void {
    const bytes = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const last = this.count - 1;
    const end = this.ends[last]!;
    let start = this.starts[last]!;
    let k = last;
    for (let at = bytes.indexOf(joiner, start); at >= 0 && at < end; at = bytes.indexOf(joiner, start)) {
      this.push(k++, start, at);
      start = at + joiner.length;
    }
    this.push(k, start, end);
    this.count = k + 1;
  }

  slice(k: number): string {
    const start = this.starts[k]!;
    const end = this.ends[k]!;
    if (this.text !== null) return this.text.slice(start, end);
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString('utf8', start, end);
  }

  /** Whether field k is exactly `marker` (given as bytes). */
  equals(k: number, marker: Uint8Array): boolean {
    const start = this.starts[k]!;
    if (this.ends[k]! - start !== marker.length) return false;
    for (let i = 0; i < marker.length; i++) if (this.bytes[start + i] !== marker[i]) return false;
    return true;
  }

  private push(k: number, start: number, end: number): void {
    if (k >= this.starts.length) this.reserve(k + 1);
    this.starts[k] = start;
    this.ends[k] = end;
  }

  private reserve(capacity: number): void {
    if (capacity <= this.starts.length) return;
    const size = Math.max(capacity, this.starts.length * 2);
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    starts.set(this.starts);
    ends.set(this.ends);
    this.starts = starts;
    this.ends = ends;
  }
}
