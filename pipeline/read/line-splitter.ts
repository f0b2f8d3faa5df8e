import { isAscii } from 'node:buffer';

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The lines one chunk completed, as byte spans in `bytes` (without their `\n` or `\r\n`),
 * numbered from `firstLine` (1-based, as editors count). The hot path (Zeek TSV) reads the
 * bytes directly; other formats ask for a line's text.
 */
export class LineBatch {
  /** When the bytes are all ASCII, their latin1 decoding: one character per byte, so byte offsets index it. */
  readonly asciiText: string | null;
  endedMidLine = false;
  private materialized: string[] | null = null;

  constructor(
    readonly bytes: Buffer,
    readonly starts: Int32Array,
    readonly ends: Int32Array,
    readonly count: number,
    readonly firstLine: number,
    /** Line numbers of lines longer than the limit; their spans are empty. */
    readonly overlong: readonly number[],
  ) {
    this.asciiText = isAscii(bytes) ? bytes.toString('latin1') : null;
  }

  static empty(firstLine: number): LineBatch {
    return new LineBatch(Buffer.alloc(0), new Int32Array(0), new Int32Array(0), 0, firstLine, []);
  }

  isOverlong(i: number): boolean {
    return this.overlong.length > 0 && this.overlong.includes(this.firstLine + i);
  }

  /** The text of line `i` of this batch (0-based). */
  text(i: number): string {
    if (this.isOverlong(i)) return '';
    const start = this.starts[i]!;
    const end = this.ends[i]!;
    return this.asciiText !== null ? this.asciiText.slice(start, end) : this.bytes.toString('utf8', start, end);
  }

  /** Every line's text; over-long lines read as ''. */
  get lines(): string[] {
    this.materialized ??= Array.from({ length: this.count }, (_, i) => this.text(i));
    return this.materialized;
  }
}

/**
 * Cuts decompressed bytes into lines without decoding them line by line. A line longer than
 * `maxLineBytes` (in UTF-8 bytes, without its `\n` or `\r\n`) is dropped as it streams past, so
 * a file with no newlines cannot exhaust memory; where chunks are cut does not change which
 * lines are too long.
 */
export class LineSplitter {
  private carry: Buffer = Buffer.alloc(0);
  private skippingOverlong = false;
  private nextLine = 1;
  private starts = new Int32Array(4096);
  private ends = new Int32Array(4096);

  constructor(private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES) {}

  push(chunk: Buffer): LineBatch {
    const overlong: number[] = [];
    let data = chunk;
    if (this.skippingOverlong) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline < 0) return LineBatch.empty(this.nextLine);
      overlong.push(this.nextLine++);
      this.skippingOverlong = false;
      data = chunk.subarray(newline + 1);
    }
    if (this.carry.length > 0) data = Buffer.concat([this.carry, data]);

    const lastNewline = data.lastIndexOf(NEWLINE);
    const region = data.subarray(0, lastNewline + 1);
    this.keepPartialLine(data.subarray(lastNewline + 1));
    return this.cut(region, overlong);
  }

  /** Call once after the last chunk: returns the final line if the input did not end with a newline. */
  end(): LineBatch {
    const overlong: number[] = [];
    let batch: LineBatch;
    if (this.skippingOverlong) {
      overlong.push(this.nextLine++);
      batch = this.cut(Buffer.alloc(0), overlong);
      batch.endedMidLine = true;
    } else if (this.carry.length > 0) {
      batch = this.cut(Buffer.concat([this.carry, Buffer.from('\n')]), overlong);
      batch.endedMidLine = true;
    } else {
      batch = LineBatch.empty(this.nextLine);
    }
    this.carry = Buffer.alloc(0);
    this.skippingOverlong = false;
    return batch;
  }

  /** Spans of the lines in `region`, which holds whole lines only (it ends with a newline or is empty). */
  private cut(region: Buffer, overlong: number[]): LineBatch {
    const firstLine = overlong.length > 0 ? overlong[0]! : this.nextLine;
    let count = 0;
    if (overlong.length > 0) this.addSpan(count++, 0, 0);
    let start = this.nextLine === 1 && startsWithBom(region) ? UTF8_BOM.length : 0;
    for (let newline = region.indexOf(NEWLINE, start); newline >= 0; newline = region.indexOf(NEWLINE, start)) {
      let end = newline > start && region[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline;
      if (end - start > this.maxLineBytes) {
        // An empty span: no parser ever sees the text of a line over the limit.
        overlong.push(this.nextLine);
        end = start;
      }
      this.addSpan(count++, start, end);
      this.nextLine++;
      start = newline + 1;
    }
    // Copies: the splitter reuses its span arrays for the next chunk.
    return new LineBatch(region, this.starts.slice(0, count), this.ends.slice(0, count), count, firstLine, overlong);
  }

  private keepPartialLine(part: Buffer): void {
    // One byte of slack: the partial line may end in the `\r` of a `\r\n`, which does not count.
    if (part.length > this.maxLineBytes + 1) {
      this.carry = Buffer.alloc(0);
      this.skippingOverlong = true;
      return;
    }
    // Copied: the caller may reuse the chunk's memory.
    this.carry = Buffer.from(part);
  }

  private addSpan(k: number, start: number, end: number): void {
    if (k >= this.starts.length) {
      const starts = new Int32Array(this.starts.length * 2);
      const ends = new Int32Array(this.ends.length * 2);
      starts.set(this.starts);
      ends.set(this.ends);
      this.starts = starts;
      this.ends = ends;
    }
    this.starts[k] = start;
    this.ends[k] = end;
  }
}

function startsWithBom(bytes: Buffer): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}
