import { LogReadError, BadLineError } from './log-read-error.js';
import { canonicalFieldName } from './conn-record.js';
import { FieldSpans } from './field-spans.js';
import { unescapeZeek } from './zeek-text-values.js';
import { OVERLONG_REASON, type FormatParser, type RowSink } from './line-format.js';
import type { LogSchema } from './log-schema.js';
import type { LineBatch } from './line-splitter.js';

// IoT-23 joins its label columns to tunnel_parents with three spaces instead of the separator.
const IOT23_JOINER = '   ';
const IOT23_JOINER_BYTES = Buffer.from(IOT23_JOINER);

/**
 * Zeek's ASCII writer format, driven by the `#` header lines of the file itself; the schema says
 * which `#path` and columns it accepts and makes each row a record.
 */
export class ZeekTsvFormat<Row> implements FormatParser<Row> {
  readonly format = 'zeek-tsv';
  private separator = '\t';
  private separatorBytes = Buffer.from('\t');
  private setSeparator = ',';
  private emptyField = '(empty)';
  private unsetField = '-';
  private declaredPath: string | null = null;
  private fieldNames: string[] = [];
  private types: string[] = [];
  private fieldsLine = 0;
  private joinedTail = 1;
  private rowParser: ((row: FieldSpans) => Row) | null = null;
  private closed = false;
  private sawHeader = false;
  private readonly spans = new FieldSpans();

  constructor(
    private readonly file: string,
    private readonly schema: LogSchema<Row>,
  ) {}

  readBatch(batch: LineBatch, sink: RowSink<Row>): void {
    const { bytes, starts, ends, count, firstLine } = batch;
    for (let i = 0; i < count; i++) {
      const lineNumber = firstLine + i;
      const start = starts[i]!;
      if (start === ends[i]) {
        // Blank, or a line over the limit that the splitter left empty.
        if (batch.isOverlong(i)) sink.bad(lineNumber, OVERLONG_REASON);
        continue;
      }
      try {
        if (bytes[start] === 35 /* # */) this.directive(batch.text(i), lineNumber);
        else sink.row(this.parseRow(batch, i, lineNumber));
      } catch (error) {
        if (!(error instanceof BadLineError)) throw error;
        sink.bad(lineNumber, error.message);
      }
    }
  }

  end(): Promise<void> {
    return Promise.resolve();
  }

  private parseRow(batch: LineBatch, i: number, lineNumber: number): Row {
    const parser = this.rowParser ?? this.buildRowParser(lineNumber);
    const spans = this.spans;
    spans.cutLine(batch, i, this.separatorBytes);
    if (this.joinedTail > 1 && spans.count === this.fieldNames.length - this.joinedTail + 1) spans.splitLast(IOT23_JOINER_BYTES);
    if (spans.count !== this.fieldNames.length) {
      throw new BadLineError(`${spans.count} fields, but #fields (line ${this.fieldsLine}) declares ${this.fieldNames.length}`);
    }
    return parser(spans);
  }

  fields(): string[] {
    return this.fieldNames;
  }

  path(): string | null {
    return this.declaredPath;
  }

  cutShort(): boolean {
    return this.sawHeader && !this.closed;
  }

  private directive(line: string, lineNumber: number): void {
    // `#separator` is followed by a space (the separator is not known yet); the others by the separator.
    const cut = firstOf(line, [this.separator, ' ']);
    const name = cut < 0 ? line.slice(1) : line.slice(1, cut);
    const value = cut < 0 ? '' : line.slice(cut + 1);
    switch (name) {
      case 'separator':
        this.separator = unescapeZeek(value);
        this.separatorBytes = Buffer.from(this.separator, 'latin1');
        this.startBlock();
        break;
      case 'set_separator':
        this.setSeparator = unescapeZeek(value);
        break;
      case 'empty_field':
        this.emptyField = value;
        break;
      case 'unset_field':
        this.unsetField = value;
        break;
      case 'path':
        this.declaredPath = value;
        if (!this.schema.acceptsPath(value)) {
          throw new LogReadError({
            code: 'wrong-log-type',
            file: this.file,
            line: lineNumber,
            message: `this is a Zeek '${value}' log (#path ${value}), not a ${this.schema.name ?? 'Zeek'} log`,
          });
        }
        break;
      case 'fields':
        this.setFields(value.split(this.separator), lineNumber);
        break;
      case 'types':
        this.types = splitJoined(value.split(this.separator));
        this.rowParser = null;
        break;
      case 'close':
        this.closed = true;
        break;
      default:
        // `#open`, and comment lines such as btest's `### BTest baseline` banner.
        break;
    }
  }

  private startBlock(): void {
    // A new header mid-file is another log appended to this one (`cat a.log b.log`).
    this.rowParser = null;
    this.sawHeader = true;
    this.closed = false;
  }

  private setFields(tokens: string[], lineNumber: number): void {
    const names = splitJoined(tokens).map(canonicalFieldName);
    const why = this.schema.whyNotColumns(names);
    if (why !== null) {
      throw new LogReadError({ code: 'missing-columns', file: this.file, line: lineNumber, message: `not a ${this.schema.name ?? 'Zeek'} log: ${why}` });
    }
    const lastToken = tokens[tokens.length - 1] ?? '';
    this.joinedTail = lastToken.includes(IOT23_JOINER) ? lastToken.split(IOT23_JOINER).length : 1;
    this.fieldNames = names;
    this.fieldsLine = lineNumber;
    this.rowParser = null;
    this.sawHeader = true;
    this.closed = false;
  }

  private buildRowParser(lineNumber: number): (row: FieldSpans) => Row {
    if (this.fieldNames.length === 0) {
      throw new BadLineError(`data line ${lineNumber} comes before any #fields header`);
    }
    const columns = this.fieldNames.map((name, i) => ({ name, type: this.types[i] ?? null }));
    this.rowParser = this.schema.textRowParser(columns, {
      unset: this.unsetField,
      empty: this.emptyField,
      setSeparator: this.setSeparator,
      emptyCellIsUnset: false,
    });
    return this.rowParser;
  }
}

function splitJoined(tokens: string[]): string[] {
  return tokens.flatMap((t) => t.split(IOT23_JOINER));
}

function firstOf(line: string, needles: string[]): number {
  const found = needles.map((n) => line.indexOf(n)).filter((i) => i >= 0);
  return found.length === 0 ? -1 : Math.min(...found);
}
