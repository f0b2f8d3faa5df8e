import { countAnomalies, queryAnomalies, type AnomalyOrder, type FeatureShare, type StoredAnomalyRow } from '../../db/anomalies.js';
import { openDatabase } from '../../db/open-database.js';
import { formatCsv, formatJsonLines, formatTable, print, type Cell, type TableColumn } from '../format-table.js';

export type OutputFormat = 'table' | 'json' | 'csv';

export interface AnomaliesCommandOptions {
  db: string;
  since?: Date;
  until?: Date;
  /** Either end of the connection. */
  host?: string;
  minScore?: number;
  fileId?: number;
  limit: number;
  /** Default `ts`: newest first; `score`: highest first. */
  order?: AnomalyOrder;
  format: OutputFormat;
}

/** How many features the table's `why` column names. */
const WHY_FEATURES = 3;

/**
 * `zeek-anomaly anomalies`: the flagged connections, newest (or highest scoring) first. The
 * database is opened read-only: in WAL a reader sees a snapshot and never blocks the service.
 */
export async function anomaliesCommand(options: AnomaliesCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const db = openDatabase(options.db, { readonly: true });
  try {
    const rows = queryAnomalies(db, {
      since: epochSeconds(options.since, 'since'),
      until: epochSeconds(options.until, 'until'),
      host: options.host,
      minScore: options.minScore,
      fileId: options.fileId,
      limit: options.limit,
      order: options.order ?? 'ts',
    });
    switch (options.format) {
      case 'json':
        await print(formatJsonLines(rows.map(jsonRecord)), out);
        break;
      case 'csv':
        await print(formatCsv(RECORD_KEYS, rows.map((row) => csvRecord(jsonRecord(row)))), out);
        break;
      case 'table':
        if (rows.length === 0) {
          await print(`no anomalies match, of ${countAnomalies(db).toLocaleString('en-US')} in ${options.db}\n`, out);
        } else {
          const more = rows.length === options.limit ? `(the first ${options.limit}; raise --limit for more)\n` : '';
          await print(formatTable(TABLE_COLUMNS, rows.map(tableRow)) + more, out);
        }
        break;
      default:
        throw new Error(`format is '${String(options.format)}'; expected table, json or csv`);
    }
    return 0;
  } finally {
    db.close();
  }
}

const TABLE_COLUMNS: TableColumn[] = [
  { header: 'ts' },
  { header: 'connection', maxWidth: 64 },
  { header: 'proto/service', maxWidth: 20 },
  { header: 'conn_state' },
  { header: 'bytes', align: 'right' },
  { header: 'score', align: 'right' },
  { header: 'threshold', align: 'right' },
  { header: 'why', maxWidth: 48 },
  { header: 'model_version' },
  { header: 'file', maxWidth: 48, truncate: 'start' },
];

function tableRow(row: StoredAnomalyRow): Cell[] {
  return [
    isoTime(row.ts),
    `${endpoint(row.origH, row.origP)} → ${endpoint(row.respH, row.respP)}`,
    row.service === null ? row.proto : `${row.proto}/${row.service}`,
    row.connState,
    `${row.origBytes ?? '-'}/${row.respBytes ?? '-'}`,
    significant(row.score),
    significant(row.threshold),
    why(row.explanation),
    row.modelVersion,
    row.filePath,
  ];
}

/** The top features and their shares of the error: `orig_bytes 62%, duration 21%`. */
export function why(explanation: readonly FeatureShare[], top = WHY_FEATURES): string {
  return [...explanation]
    .sort((a, b) => b.share - a.share)
    .slice(0, top)
    .map(({ feature, share }) => `${feature} ${Math.round(share * 100)}%`)
    .join(', ');
}

// JSON and CSV carry every column, under the table's column names, plus the time in ISO 8601.
const RECORD_KEYS = [
  'id', 'ts', 'time', 'uid', 'orig_h', 'orig_p', 'resp_h', 'resp_p', 'proto', 'service', 'duration', 'orig_bytes',
  'resp_bytes', 'conn_state', 'history', 'orig_pkts', 'resp_pkts', 'score', 'threshold', 'explanation', 'model_version',
  'file_id', 'file',
] as const;

type AnomalyRecord = Record<(typeof RECORD_KEYS)[number], Cell | FeatureShare[]>;

function jsonRecord(row: StoredAnomalyRow): AnomalyRecord {
  return {
    id: row.id,
    ts: row.ts,
    time: isoTime(row.ts),
    uid: row.uid,
    orig_h: row.origH,
    orig_p: row.origP,
    resp_h: row.respH,
    resp_p: row.respP,
    proto: row.proto,
    service: row.service,
    duration: row.duration,
    orig_bytes: row.origBytes,
    resp_bytes: row.respBytes,
    conn_state: row.connState,
    history: row.history,
    orig_pkts: row.origPkts,
    resp_pkts: row.respPkts,
    score: row.score,
    threshold: row.threshold,
    explanation: row.explanation,
    model_version: row.modelVersion,
    file_id: row.fileId,
    file: row.filePath,
  };
}

// In CSV the explanation is its JSON text: one field, and nothing lost.
function csvRecord(record: AnomalyRecord): Cell[] {
  return RECORD_KEYS.map((key) => {
    const value = record[key];
    return Array.isArray(value) ? JSON.stringify(value) : value;
  });
}

/** A `--since`/`--until` date as epoch seconds; an invalid date throws, naming its flag. */
export function epochSeconds(date: Date | undefined, key: string): number | undefined {
  if (date === undefined) return undefined;
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new Error(`--${key} is an invalid date`);
  return ms / 1000;
}

/** ISO 8601 in UTC, to the millisecond. */
export function isoTime(ts: number): string {
  const date = new Date(ts * 1000);
  return Number.isNaN(date.getTime()) ? String(ts) : date.toISOString();
}

// IPv6 addresses hold colons, so they are bracketed before the port, as in URLs.
function endpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Four significant digits: scores range from 1e-6 to thousands. */
export function significant(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(4))) : String(value);
}
