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

/**
 * Cuts decompressed bytes into lines. A chunk is decoded to text once, at its last newline,
 * and split there: far cheaper than decoding line by line. A line longer than `maxLineBytes`
 * is dropped as it streams past, so a file with no newlines cannot exhaust memory.
 */
export class LineSplitter {
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private skippingOverlong = false;
  private nextLine = 1;

  constructor(private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES) {}

  push(chunk: Buffer): LineBatch {
    const batch: LineBatch = { lines: [], firstLine: this.nextLine, overlong: [], endedMidLine: false };
    const firstNewline = chunk.indexOf(10);
    if (firstNewline < 0) {
      this.keepPartialLine(chunk);
      return batch;
    }

    let start = 0;
    if (this.carryBytes > 0 || this.skippingOverlong) {
      // Finish the line that began in an earlier chunk.
      if (this.skippingOverlong || this.carryBytes + firstNewline > this.maxLineBytes) {
        this.emitOverlong(batch);
      } else {
        this.carry.push(chunk.subarray(0, firstNewline));
        this.emit(batch, Buffer.concat(this.carry).toString('utf8'));
      }
      this.carry = [];
      this.carryBytes = 0;
      this.skippingOverlong = false;
      start = firstNewline + 1;
    }

    const lastNewline = chunk.lastIndexOf(10);
    if (lastNewline >= start) {
      const lines = chunk.toString('utf8', start, lastNewline).split('\n');
      for (const line of lines) this.emit(batch, line);
    }
    this.keepPartialLine(chunk.subarray(lastNewline + 1));
    return batch;
  }

  /** Call once after the last chunk: returns the final line if the input did not end with a newline. */
  end(): LineBatch {
    const batch: LineBatch = { lines: [], firstLine: this.nextLine, overlong: [], endedMidLine: false };
    if (this.skippingOverlong) {
      this.emitOverlong(batch);
      batch.endedMidLine = true;
    } else if (this.carryBytes > 0) {
      this.emit(batch, Buffer.concat(this.carry).toString('utf8'));
      batch.endedMidLine = true;
    }
    this.carry = [];
    this.carryBytes = 0;
    return batch;
  }

  private keepPartialLine(part: Buffer): void {
    if (part.length === 0 || this.skippingOverlong) return;
    if (this.carryBytes + part.length > this.maxLineBytes) {
      this.carry = [];
      this.carryBytes = 0;
      this.skippingOverlong = true;
      return;
    }
    // Copied: the caller may reuse the chunk's memory.
    this.carry.push(Buffer.from(part));
    this.carryBytes += part.length;
  }

  private emit(batch: LineBatch, line: string): void {
    const withoutCr = line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
    if (withoutCr.length > this.maxLineBytes) {
      this.emitOverlong(batch);
      return;
    }
    batch.lines.push(withoutCr);
    this.nextLine++;
  }

  private emitOverlong(batch: LineBatch): void {
    batch.overlong.push(this.nextLine);
    batch.lines.push('');
    this.nextLine++;
  }
}
