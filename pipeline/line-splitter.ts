/** Lines completed by one chunk of input, numbered from `firstLine` (1-based, as editors count). */
export interface LineBatch {
  lines: string[];
  firstLine: number;
  /** Line numbers of lines longer than the limit; they stand in `lines` as empty strings. */
  overlong: number[];
  /** True when the input ended in the middle of a line (no final newline). */
  endedMidLine: boolean;
}

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;
const BYTE_ORDER_MARK = '\uFEFF';

/**
 * Cuts decompressed bytes into lines. A chunk is decoded to text once, at its last newline,
 * and split there: far cheaper than decoding line by line. A line longer than `maxLineBytes`
 * (in UTF-8 bytes, without its `\n` or `\r\n`) is dropped as it streams past, so a file with no
 * newlines cannot exhaust memory; where chunks are cut does not change which lines are too long.
 */
export class LineSplitter {
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private skippingOverlong = false;
  private nextLine = 1;

  constructor(private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES) {}

  push(chunk: Buffer): LineBatch {
    const batch = this.newBatch();
    const firstNewline = chunk.indexOf(NEWLINE);
    if (firstNewline < 0) {
      this.keepPartialLine(chunk);
      return batch;
    }

    let start = 0;
    if (this.carryBytes > 0 || this.skippingOverlong) {
      // Finish the line that began in an earlier chunk.
      const line = Buffer.concat([...this.carry, chunk.subarray(0, firstNewline)]);
      if (this.skippingOverlong || contentBytes(line) > this.maxLineBytes) this.emitOverlong(batch);
      else this.emit(batch, line.toString('utf8'));
      this.carry = [];
      this.carryBytes = 0;
      this.skippingOverlong = false;
      start = firstNewline + 1;
    }

    const lastNewline = chunk.lastIndexOf(NEWLINE);
    if (lastNewline >= start) {
      const lines = chunk.toString('utf8', start, lastNewline).split('\n');
      for (const line of lines) this.emit(batch, line);
    }
    this.keepPartialLine(chunk.subarray(lastNewline + 1));
    return batch;
  }

  /** Call once after the last chunk: returns the final line if the input did not end with a newline. */
  end(): LineBatch {
    const batch = this.newBatch();
    if (this.skippingOverlong) {
      this.emitOverlong(batch);
      batch.endedMidLine = true;
    } else if (this.carryBytes > 0) {
      this.emit(batch, Buffer.concat(this.carry).toString('utf8'));
      batch.endedMidLine = true;
    }
    this.carry = [];
    this.carryBytes = 0;
    this.skippingOverlong = false;
    return batch;
  }

  private newBatch(): LineBatch {
    return { lines: [], firstLine: this.nextLine, overlong: [], endedMidLine: false };
  }

  private keepPartialLine(part: Buffer): void {
    if (part.length === 0 || this.skippingOverlong) return;
    // One byte of slack: the partial line may end in the `\r` of a `\r\n`, which does not count.
    if (this.carryBytes + part.length > this.maxLineBytes + 1) {
      this.carry = [];
      this.carryBytes = 0;
      this.skippingOverlong = true;
      return;
    }
    // Copied: the caller may reuse the chunk's memory.
    this.carry.push(Buffer.from(part));
    this.carryBytes += part.length;
  }

  private emit(batch: LineBatch, decoded: string): void {
    let line = decoded;
    if (line.charCodeAt(line.length - 1) === CARRIAGE_RETURN) line = line.slice(0, -1);
    if (this.nextLine === 1 && line.startsWith(BYTE_ORDER_MARK)) line = line.slice(1);
    // A UTF-8 byte per UTF-16 unit at the least and three at the most: only long lines need counting.
    if (line.length * 3 > this.maxLineBytes && Buffer.byteLength(line, 'utf8') > this.maxLineBytes) {
      this.emitOverlong(batch);
      return;
    }
    batch.lines.push(line);
    this.nextLine++;
  }

  private emitOverlong(batch: LineBatch): void {
    batch.overlong.push(this.nextLine);
    batch.lines.push('');
    this.nextLine++;
  }
}

/** A line's length in bytes without a trailing `\r`. */
function contentBytes(line: Buffer): number {
  return line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN ? line.length - 1 : line.length;
}
