import { countFiles, FILE_STATUSES, listFiles, type FileRow, type FileStatus } from '../../db/files.js';
import { openDatabase } from '../../db/open-database.js';
import { formatJsonLines, formatTable, print, type Cell, type TableColumn } from '../format-table.js';
import { formatCsv, significant } from '../../db/export-format.js';
import type { OutputFormat } from './anomalies.js';

export interface FilesCommandOptions {
  db: string;
  status?: FileStatus;
  /** One sensor's files; all sensors' when not given. */
  sensor?: string;
  limit: number;
  format: OutputFormat;
}

/**
 * `zeek-anomaly files`: the ledger of files met, newest first, read-only (it never blocks the
 * service).
 */
export async function filesCommand(options: FilesCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  if (options.status !== undefined && !FILE_STATUSES.includes(options.status)) {
    throw new Error(`--status is '${String(options.status)}'; expected one of ${FILE_STATUSES.join(', ')}`);
  }
  const db = openDatabase(options.db, { readonly: true });
  try {
    const rows = listFiles(db, { status: options.status, sensor: options.sensor, limit: options.limit });
    switch (options.format) {
      case 'json':
        await print(formatJsonLines(rows.map(record)), out);
        break;
      case 'csv':
        await print(formatCsv(RECORD_KEYS, rows.map(record).map((fields) => RECORD_KEYS.map((key) => fields[key]))), out);
        break;
      case 'table': {
        const counts = countFiles(db, options.sensor);
        const total = counts.done + counts.failed + counts.skipped;
        const of = options.sensor === undefined ? '' : ` of sensor ${options.sensor}`;
        const summary = `${rows.length} shown of ${total} files${of}: ${counts.done} done, ${counts.failed} failed, ${counts.skipped} skipped (duplicates)\n`;
        await print(rows.length === 0 ? summary : formatTable(TABLE_COLUMNS, rows.map(tableRow)) + summary, out);
        break;
      }
      default:
        throw new Error(`format is '${String(options.format)}'; expected table, json or csv`);
    }
    return 0;
  } finally {
    db.close();
  }
}

const TABLE_COLUMNS: TableColumn[] = [
  { header: 'id' },
  { header: 'sensor', maxWidth: 24 },
  { header: 'path', maxWidth: 56, truncate: 'start' },
  { header: 'status' },
  { header: 'rows' },
  { header: 'flagged' },
  { header: 'threshold', align: 'right' },
  { header: 'error', maxWidth: 60 },
  { header: 'model' },
  { header: 'finished_at' },
];

function tableRow(row: FileRow): Cell[] {
  return [
    row.id,
    row.sensor,
    row.path,
    row.status,
    row.rows,
    row.flagged,
    row.threshold === null ? null : significant(row.threshold),
    // A skipped file's "error" is what it duplicates.
    row.error ?? (row.duplicateOf !== null ? `duplicate of file ${row.duplicateOf}` : null),
    row.modelVersion,
    row.finishedAt,
  ];
}

const RECORD_KEYS = [
  'id', 'sensor', 'path', 'size', 'sha256', 'status', 'rows', 'bad_lines', 'flagged', 'threshold', 'threshold_mode', 'error',
  'duplicate_of', 'model_version', 'first_ts', 'last_ts', 'started_at', 'finished_at',
] as const;

// JSON and CSV carry every column under its name in the database.
function record(row: FileRow): Record<(typeof RECORD_KEYS)[number], Cell> {
  return {
    id: row.id,
    sensor: row.sensor,
    path: row.path,
    size: row.size,
    sha256: row.sha256,
    status: row.status,
    rows: row.rows,
    bad_lines: row.badLines,
    flagged: row.flagged,
    threshold: row.threshold,
    threshold_mode: row.thresholdMode,
    error: row.error,
    duplicate_of: row.duplicateOf,
    model_version: row.modelVersion,
    first_ts: row.firstTs,
    last_ts: row.lastTs,
    started_at: row.startedAt,
    finished_at: row.finishedAt,
  };
}
