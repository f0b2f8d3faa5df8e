import { BadLineError } from './log-read-error.js';
import type { LineBatch } from './line-splitter.js';

export type LogFormat = 'zeek-tsv' | 'zeek-json' | 'csv';

/** Where a format delivers what it read from a batch of lines. */
export interface RowSink<Row> {
  row(record: Row): void;
  bad(line: number, reason: string): void;
}

/**
 * A log format, fed batches of lines, whose rows its schema makes into records. It throws
 * `LogReadError` only when the whole file is unusable (a dns.log read as conn, a header without
 * conn columns); bad lines go to the sink.
 */
export interface FormatParser<Row> {
  readonly format: LogFormat;
  readBatch(batch: LineBatch, sink: RowSink<Row>): void;
  /** Called once after the last batch. */
  end(sink: RowSink<Row>): Promise<void>;
  /** Column names as the file declares them (Zeek TSV, CSV) or as seen so far (JSON). */
  fields(): string[];
  /** The `#path` (or JSON `_path`) the file declares, if any. */
  path(): string | null;
  /** Whether the file was cut short: a Zeek header with no `#close`, or a last line without its newline. */
  cutShort(endedMidLine: boolean): boolean;
}

export const OVERLONG_REASON = 'line is longer than the limit of 1 MiB';

/** The batch loop of formats that hold one row per line: `parse` returns null for lines that hold none. */
export function readLineByLine<Row>(
  parse: (line: string, lineNumber: number) => Row | null,
  batch: LineBatch,
  sink: RowSink<Row>,
): void {
  for (let i = 0; i < batch.count; i++) {
    const lineNumber = batch.firstLine + i;
    if (batch.isOverlong(i)) {
      sink.bad(lineNumber, OVERLONG_REASON);
      continue;
    }
    try {
      const record = parse(batch.text(i), lineNumber);
      if (record !== null) sink.row(record);
    } catch (error) {
      if (!(error instanceof BadLineError)) throw error;
      sink.bad(lineNumber, error.message);
    }
  }
}
