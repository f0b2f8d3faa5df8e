import { stringify } from 'csv-stringify/sync';
import type { FeatureShare, StoredAnomalyRow } from './anomalies.js';
import { ANOMALY_COLUMNS } from './anomaly-columns.js';

// How rows leave the database: by the CLI's JSON and CSV, and the dashboard's pages and CSV
// download. An anomaly has one shape at every exit (every column, under Zeek's column names, plus
// the time in ISO 8601), so a script written against one reads the other.

/** The exported keys: the row's id, each column under its SQL name (with `time` beside `ts`), then its file and sensor. */
export const ANOMALY_RECORD_KEYS: readonly string[] = ['id', ...ANOMALY_COLUMNS.flatMap((c) => (c.column === 'ts' ? ['ts', 'time'] : [c.column])), 'file_id', 'file', 'sensor'];

/** A value as the text formats show it: text, a number, or unset. */
export type RecordCell = string | number | null;

export type AnomalyRecord = Record<string, RecordCell | FeatureShare[]>;

export function anomalyRecord(row: StoredAnomalyRow): AnomalyRecord {
  const record: AnomalyRecord = { id: row.id };
  for (const c of ANOMALY_COLUMNS) {
    record[c.column] = row[c.key];
    if (c.column === 'ts') record.time = isoTime(row.ts);
  }
  record.file_id = row.fileId;
  record.file = row.filePath;
  record.sensor = row.sensor;
  return record;
}

/** The record as CSV fields, in ANOMALY_RECORD_KEYS' order: the explanation is its JSON text, one field with nothing lost. */
export function anomalyCsvCells(row: StoredAnomalyRow): RecordCell[] {
  const record = anomalyRecord(row);
  return ANOMALY_RECORD_KEYS.map((key) => {
    const value = record[key] ?? null;
    return Array.isArray(value) ? JSON.stringify(value) : value;
  });
}

/** The top features and their shares of the error: `orig_bytes 62%, duration 21%`. */
export function why(explanation: readonly FeatureShare[], top = 3): string {
  return [...explanation]
    .sort((a, b) => b.share - a.share)
    .slice(0, top)
    .map(({ feature, share }) => `${feature} ${Math.round(share * 100)}%`)
    .join(', ');
}

/** ISO 8601 in UTC, to the millisecond. */
export function isoTime(ts: number): string {
  const date = new Date(ts * 1000);
  return Number.isNaN(date.getTime()) ? String(ts) : date.toISOString();
}

/** Four significant digits: scores range from 1e-6 to thousands. */
export function significant(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(4))) : String(value);
}

/** `10.0.0.1:443`, `[2001:db8::1]:443`: IPv6 addresses hold colons, so they are bracketed before the port, as in URLs. */
export function endpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * CSV as RFC 4180 has it, written by csv-stringify: a header line, then one line per row, CRLF line
 * ends; a field holding a comma, a double quote, CR or LF is quoted, its quotes doubled. Unset
 * values are empty fields. Text is made safe for spreadsheets first (`spreadsheetSafe`).
 */
export function formatCsv(header: readonly string[] | null, rows: readonly (readonly RecordCell[])[]): string {
  const cells = rows.map((row) => row.map(spreadsheetSafe));
  // null: no header line, for the rows after the first batch of a long download.
  return stringify(header === null ? cells : [header, ...cells], {
    record_delimiter: '\r\n',
    // csv-stringify quotes a field holding the record delimiter (CRLF) but not a lone CR or LF,
    // which a reader would take for the end of the record.
    quoted_match: /[\r\n]/,
  });
}

// Strings in these cells come from the network (a Zeek `service`, `history` or `uid` is whatever the
// sensor saw): a spreadsheet would run one starting like a formula. OWASP's CSV-injection rule: such a
// cell gets a leading apostrophe, which spreadsheets take as "text" and do not show.
const FORMULA_START = /^[=+\-@\t\r]/;
// Control bytes other than the tab, CR and LF that CSV quoting carries: shown as Zeek's own logs
// escape them (`\x1b`), so a terminal or spreadsheet never receives them raw.
// eslint-disable-next-line no-control-regex
const CONTROL_BYTES = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

/** A cell as written to CSV: numbers and unset values as they are; text escaped and neutralised. */
export function spreadsheetSafe(cell: RecordCell): RecordCell {
  if (typeof cell !== 'string') return cell;
  const visible = cell.replace(CONTROL_BYTES, (byte) => `\\x${byte.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return FORMULA_START.test(visible) ? `'${visible}` : visible;
}
