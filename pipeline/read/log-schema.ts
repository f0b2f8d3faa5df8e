import type { FieldSpans } from './field-spans.js';
import type { TextMarkers } from './span-values.js';

/** One column of a text header: its name and the Zeek type `#types` gives it (null in a CSV export, which gives none). */
export interface TextColumn {
  name: string;
  type: string | null;
}

/** One line of Zeek JSON, its connection id flattened to `id.orig_h` and the like. */
export type JsonObject = Record<string, unknown>;

/**
 * What one kind of log is, for the formats that read it (Zeek TSV, Zeek JSON, CSV), which are the
 * same for every log: which files it accepts and how a row becomes a record. The conn schema is
 * strict (a conn log only, required columns, records of a fixed shape); the any-log schema takes
 * whatever the file declares.
 */
export interface LogSchema<Row> {
  /** The log it reads, as messages name it (`conn`); null when it reads any log. */
  readonly name: string | null;
  /** Whether a file declaring this `#path` (or JSON `_path`) can be read. */
  acceptsPath: (path: unknown) => boolean;
  /** Why these columns (`#fields`, a CSV header, the first JSON object's keys) are not this log's, or null. */
  whyNotColumns: (names: readonly string[]) => string | null;
  /** Builds, once per header, the function that turns a row of that header into a record. */
  textRowParser: (columns: readonly TextColumn[], markers: TextMarkers) => (row: FieldSpans) => Row;
  /** One JSON line as a record; throws `BadLineError` for a line that cannot be one. */
  jsonRow: (object: JsonObject) => Row;
  /** The record's time, for the summary's time range; null when it has none. */
  timeOf: (row: Row) => number | null;
}
