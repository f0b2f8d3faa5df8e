import { BadLineError, LogReadError } from './log-read-error.js';
import { canonicalFieldName } from './conn-record.js';
import { show } from './json-values.js';
import { readLineByLine, type FormatParser, type RowSink } from './line-format.js';
import type { JsonObject, LogSchema } from './log-schema.js';
import type { LineBatch } from './line-splitter.js';

const MAX_TRACKED_FIELDS = 1000;

/** Zeek JSON lines (`LogAscii::use_json=T`): one object per line, unset fields left out. */
export class ZeekJsonFormat<Row> implements FormatParser<Row> {
  readonly format = 'zeek-json';
  private readonly seenFields = new Set<string>();
  private declaredPath: string | null = null;
  private checkedColumns = false;

  constructor(
    private readonly file: string,
    private readonly schema: LogSchema<Row>,
  ) {}

  readBatch(batch: LineBatch, sink: RowSink<Row>): void {
    readLineByLine((line, lineNumber) => this.parse(line, lineNumber), batch, sink);
  }

  end(): Promise<void> {
    return Promise.resolve();
  }

  private parse(line: string, lineNumber: number): Row | null {
    if (line.length === 0 || isBlank(line)) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw new BadLineError(`not valid JSON (${(error as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new BadLineError('a JSON line must hold one object');
    }
    const object = flattenIds(parsed as JsonObject);
    this.checkPath(object, lineNumber);
    this.trackFields(object, lineNumber);
    return this.schema.jsonRow(object);
  }

  fields(): string[] {
    return [...this.seenFields];
  }

  path(): string | null {
    return this.declaredPath;
  }

  cutShort(endedMidLine: boolean): boolean {
    return endedMidLine;
  }

  private checkPath(object: JsonObject, lineNumber: number): void {
    const path = object._path;
    if (path === undefined) return;
    if (typeof path === 'string' && this.declaredPath === null) this.declaredPath = path;
    if (!this.schema.acceptsPath(path)) {
      throw new LogReadError({
        code: 'wrong-log-type',
        file: this.file,
        line: lineNumber,
        message: `this is a Zeek '${show(path)}' log ("_path": ${JSON.stringify(path)}), not a ${this.schema.name ?? 'Zeek'} log`,
      });
    }
  }

  private trackFields(object: JsonObject, lineNumber: number): void {
    if (this.seenFields.size < MAX_TRACKED_FIELDS) for (const key in object) this.seenFields.add(key);
    if (this.checkedColumns) return;
    this.checkedColumns = true;
    // JSON leaves unset fields out, so only the first record's shape can tell a dns.log apart.
    const why = this.schema.whyNotColumns(Object.keys(object));
    if (why !== null) {
      throw new LogReadError({
        code: 'missing-columns',
        file: this.file,
        line: lineNumber,
        message: `not a ${this.schema.name ?? 'Zeek'} log: ${why}`,
      });
    }
  }
}

/** Some exporters nest the connection id (`{"id": {"orig_h": …}}`); Zeek itself writes dotted keys. */
function flattenIds(o: JsonObject): JsonObject {
  const id = o.id;
  if (typeof id !== 'object' || id === null || Array.isArray(id)) {
    if (!('id_orig_h' in o)) return o;
  }
  const flat: JsonObject = {};
  for (const [key, value] of Object.entries(o)) {
    if (key === 'id' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value as JsonObject)) flat[`id.${inner}`] = innerValue;
    } else {
      flat[canonicalFieldName(key)] = value;
    }
  }
  return flat;
}

function isBlank(line: string): boolean {
  return line.trim().length === 0;
}
