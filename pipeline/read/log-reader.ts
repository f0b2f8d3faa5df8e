import { LogReadError, type BadLine } from './log-read-error.js';
import { openByteSource, type Compression } from './byte-source.js';
import { GzipError } from './gunzip.js';
import { LineSplitter, DEFAULT_MAX_LINE_BYTES } from './line-splitter.js';
import { ZeekTsvFormat } from './zeek-tsv-format.js';
import { ZeekJsonFormat } from './zeek-json-format.js';
import { CsvFormat } from './csv-format.js';
import type { FormatParser, LogFormat, RowSink } from './line-format.js';
import type { LogSchema } from './log-schema.js';
import { DEFAULT_BAD_LINE_POLICY, whyTooManyBadLines, type BadLinePolicy } from './bad-line-policy.js';

export interface ReadOptions {
  badLines?: BadLinePolicy;
  maxLineBytes?: number;
  /** How many bad lines to keep with their reason; the rest are only counted. */
  badLineSamples?: number;
  /**
   * Given each chunk of the file as it comes off the disk, before it is decompressed: the scorer
   * hashes the file in the same read. A read that ends early (a rejected file) gives only what it read.
   */
  onFileBytes?: (chunk: Buffer) => void;
}

/** What a read found. Complete once iteration ends; live (and partial) while it runs. */
export interface ReadSummary {
  file: string;
  format: LogFormat | null;
  compression: Compression | null;
  /** `#path` (or JSON `_path`) as the file declares it. */
  path: string | null;
  fields: string[];
  rows: number;
  /** Data lines seen, good and bad (header and blank lines are not data). */
  dataLines: number;
  badLines: number;
  badLineSamples: BadLine[];
  /** No `#close` after the last rows, or the last line has no newline: the writer stopped mid-file. */
  truncated: boolean;
  firstTs: number | null;
  lastTs: number | null;
}

const DEFAULT_BAD_LINE_SAMPLES = 10;
// Enough of the start of a file to see its first line and to tell text from binary.
const SNIFF_BYTES = 4096;

/**
 * Streams one log (Zeek TSV or JSON, or a CSV export; gzip or plain) as batches of records, with
 * memory bounded by the chunk size whatever the file's size. The schema says which log it reads
 * and makes the records (the conn log's, or any log's); the bytes, lines, formats, bad lines and
 * errors are the same for every log. Iteration throws `LogReadError` when the file cannot be
 * used; bad lines are counted in `summary`.
 */
export class LogReader<Row> implements AsyncIterable<Row[]> {
  readonly summary: ReadSummary;
  private readonly policy: BadLinePolicy;
  private readonly maxLineBytes: number;
  private readonly maxSamples: number;
  private readonly onFileBytes: ((chunk: Buffer) => void) | undefined;

  constructor(
    readonly file: string,
    options: ReadOptions,
    private readonly schema: LogSchema<Row>,
  ) {
    this.policy = options.badLines ?? DEFAULT_BAD_LINE_POLICY;
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.maxSamples = options.badLineSamples ?? DEFAULT_BAD_LINE_SAMPLES;
    this.onFileBytes = options.onFileBytes;
    this.summary = {
      file,
      format: null,
      compression: null,
      path: null,
      fields: [],
      rows: 0,
      dataLines: 0,
      badLines: 0,
      badLineSamples: [],
      truncated: false,
      firstTs: null,
      lastTs: null,
    };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Row[]> {
    try {
      yield* this.read();
    } catch (error) {
      throw this.asLogReadError(error);
    }
  }

  private async *read(): AsyncGenerator<Row[]> {
    const summary = this.summary;
    const source = await openByteSource(this.file, this.onFileBytes);
    summary.compression = source.compression;
    const splitter = new LineSplitter(this.maxLineBytes);
    const timeOf = this.schema.timeOf;
    let parser: FormatParser<Row> | null = null;
    let batch: Row[] = [];
    const sink: RowSink<Row> = {
      row: (record) => {
        batch.push(record);
        const ts = timeOf(record);
        if (ts === null) return;
        if (summary.firstTs === null || ts < summary.firstTs) summary.firstTs = ts;
        if (summary.lastTs === null || ts > summary.lastTs) summary.lastTs = ts;
      },
      bad: (line, reason) => {
        summary.badLines++;
        if (summary.badLineSamples.length < this.maxSamples) summary.badLineSamples.push({ line, reason });
      },
    };

    let endedMidLine = false;
    for await (const chunk of source.chunks) {
      parser ??= this.detectFormat(chunk);
      parser.readBatch(splitter.push(chunk), sink);
      this.describe(parser);
      if (batch.length > 0) {
        summary.rows += batch.length;
        yield batch;
        batch = [];
      }
    }
    if (parser === null) throw this.error('empty', 'the file is empty');
    const last = splitter.end();
    endedMidLine = last.endedMidLine;
    parser.readBatch(last, sink);
    await parser.end(sink);
    if (batch.length > 0) {
      summary.rows += batch.length;
      yield batch;
    }

    this.describe(parser);
    summary.truncated = parser.cutShort(endedMidLine);
    summary.dataLines = summary.rows + summary.badLines;
    this.applyBadLinePolicy();
  }

  private describe(parser: FormatParser<Row>): void {
    this.summary.fields = parser.fields();
    this.summary.path = parser.path();
  }

  private detectFormat(chunk: Buffer): FormatParser<Row> {
    const head = chunk.subarray(0, SNIFF_BYTES);
    if (head.includes(0)) throw this.error('binary', 'the file holds binary data, not a text log (a NUL byte in its first 4 KiB)');
    const text = head.toString('utf8').replace(/^\uFEFF/, '');
    const firstLine = (text.split('\n').find((l) => l.trim().length > 0) ?? '').replace(/\r$/, '');
    let parser: FormatParser<Row>;
    if (firstLine.startsWith('#')) parser = new ZeekTsvFormat(this.file, this.schema);
    else if (firstLine.startsWith('{')) parser = new ZeekJsonFormat(this.file, this.schema);
    else if (looksLikeHeaderRow(firstLine)) parser = new CsvFormat(this.file, delimiterOf(firstLine), this.schema);
    else {
      throw this.error(
        'unknown-format',
        `the first line is neither a Zeek header (#separator), a JSON object nor a CSV header naming ts and id.orig_h: ${JSON.stringify(firstLine.slice(0, 80))}`,
        1,
      );
    }
    this.summary.format = parser.format;
    return parser;
  }

  private applyBadLinePolicy(): void {
    const why = whyTooManyBadLines(this.summary, this.policy);
    if (why !== null) throw this.error(why.code, why.message);
  }

  private error(code: LogReadError['code'], message: string, line: number | null = null): LogReadError {
    return new LogReadError({ code, file: this.file, message, line, rowsRead: this.summary.rows });
  }

  private asLogReadError(error: unknown): unknown {
    if (error instanceof LogReadError) return error;
    if (error instanceof GzipError) return this.error(error.code, `${error.message} (after ${this.summary.rows} rows)`);
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (typeof code === 'string') return this.error('io', (error as Error).message);
    return error;
  }
}

/** A CSV/TSV export's first row names its columns, ts and id.orig_h (or id_orig_h) among them. */
function looksLikeHeaderRow(line: string): boolean {
  const names = line.split(delimiterOf(line)).map((n) => n.trim().replace(/^"|"$/g, ''));
  return names.includes('ts') && (names.includes('id.orig_h') || names.includes('id_orig_h'));
}

function delimiterOf(line: string): string {
  return count(line, '\t') > count(line, ',') ? '\t' : ',';
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}
