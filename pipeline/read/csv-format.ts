import { finished } from 'node:stream/promises';
import { parse, type Parser } from 'csv-parse';
import { BadLineError, LogReadError } from './log-read-error.js';
import { canonicalFieldName } from './conn-record.js';
import { FieldSpans } from './field-spans.js';
import { OVERLONG_REASON, type FormatParser, type RowSink } from './line-format.js';
import type { LogSchema } from './log-schema.js';
import type { LineBatch } from './line-splitter.js';

/**
 * CSV or TSV exports with one header row of field names: Zeek's `LogAscii::use_tsv=T`, or a
 * spreadsheet export with quoted fields. csv-parse does the quoting; lines arrive already cut
 * (and over-long ones blanked) by the line splitter, so one huge record cannot exhaust memory.
 */
export class CsvFormat<Row> implements FormatParser<Row> {
  readonly format = 'csv';
  private readonly parser: Parser;
  private header: string[] | null = null;
  private rowParser: ((row: FieldSpans) => Row) | null = null;
  private sink: RowSink<Row> | null = null;
  private fatal: Error | null = null;
  private overlong = new Set<number>();
  private readonly spans = new FieldSpans();

  constructor(
    private readonly file: string,
    delimiter: string,
    private readonly schema: LogSchema<Row>,
  ) {
    this.parser = parse({
      delimiter,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      bom: true,
      on_record: (record: string[], context) => {
        this.record(record, context.lines);
        return null;
      },
      on_skip: (error) => {
        const line = (error as { lines?: number } | undefined)?.lines ?? 0;
        this.sink?.bad(line, `unreadable CSV (${error?.message ?? 'unknown error'})`);
      },
    });
    this.parser.on('error', (error: Error) => {
      this.fatal ??= error;
    });
  }

  readBatch(batch: LineBatch, sink: RowSink<Row>): void {
    this.sink = sink;
    for (const line of batch.overlong) {
      this.overlong.add(line);
      sink.bad(line, OVERLONG_REASON);
    }
    // Writes run csv-parse synchronously: every complete record reaches `record` before this returns.
    this.parser.write(batch.lines.join('\n') + '\n');
    this.throwFatal();
  }

  async end(sink: RowSink<Row>): Promise<void> {
    this.sink = sink;
    this.parser.resume();
    this.parser.end();
    await finished(this.parser).catch((error: unknown) => {
      this.fatal ??= error as Error;
    });
    this.throwFatal();
  }

  fields(): string[] {
    return this.header ?? [];
  }

  path(): string | null {
    return null;
  }

  cutShort(endedMidLine: boolean): boolean {
    return endedMidLine;
  }

  private record(values: string[], line: number): void {
    if (this.overlong.delete(line)) return;
    if (this.header === null) {
      this.setHeader(values, line);
      return;
    }
    if (values.length !== this.header.length) {
      this.sink?.bad(line, `${values.length} fields, but the header row (line 1) names ${this.header.length}`);
      return;
    }
    try {
      this.spans.setValues(values);
      if (this.rowParser !== null) this.sink?.row(this.rowParser(this.spans));
    } catch (error) {
      if (!(error instanceof BadLineError)) throw error;
      this.sink?.bad(line, error.message);
    }
  }

  private setHeader(values: string[], line: number): void {
    const names = values.map((v) => canonicalFieldName(v.trim()));
    const why = this.schema.whyNotColumns(names);
    if (why !== null) {
      this.fatal = new LogReadError({ code: 'missing-columns', file: this.file, line, message: `not a ${this.schema.name ?? 'Zeek'} log: ${why}` });
      return;
    }
    this.header = names;
    // An export declares no types: the schema reads its columns by their names.
    this.rowParser = this.schema.textRowParser(
      names.map((name) => ({ name, type: null })),
      { unset: '-', empty: '(empty)', setSeparator: ',', emptyCellIsUnset: true },
    );
  }

  private throwFatal(): void {
    if (this.fatal !== null) throw this.fatal;
  }
}
