import { countAnomalies, queryAnomalies, type AnomalyOrder, type StoredAnomalyRow } from '../../db/anomalies.js';
import { ANOMALY_RECORD_KEYS, anomalyCsvCells, anomalyRecord, endpoint, formatCsv, isoTime, significant, why } from '../../db/export-format.js';
import { openDatabase } from '../../db/open-database.js';
import { formatJsonLines, formatTable, print, type Cell, type TableColumn } from '../format-table.js';

export type OutputFormat = 'table' | 'json' | 'csv';

export interface AnomaliesCommandOptions {
  db: string;
  since?: Date;
  until?: Date;
  /** Either end of the connection. */
  host?: string;
  minScore?: number;
  fileId?: number;
  /** One sensor's anomalies; all sensors' when not given. */
  sensor?: string;
  limit: number;
  /** Default `ts`: newest first; `score`: highest first. */
  order?: AnomalyOrder;
  format: OutputFormat;
}

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
      sensor: options.sensor,
      limit: options.limit,
      order: options.order ?? 'ts',
    });
    switch (options.format) {
      case 'json':
        await print(formatJsonLines(rows.map(anomalyRecord)), out);
        break;
      case 'csv':
        await print(formatCsv(ANOMALY_RECORD_KEYS, rows.map(anomalyCsvCells)), out);
        break;
      case 'table':
        if (rows.length === 0) {
          await print(`no anomalies match, of ${countAnomalies(db).toLocaleString('en-US')} in ${db.name}\n`, out);
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
  { header: 'sensor', maxWidth: 24 },
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
    row.sensor,
    row.filePath,
  ];
}

/** A `--since`/`--until` date as epoch seconds; an invalid date throws, naming its flag. */
export function epochSeconds(date: Date | undefined, key: string): number | undefined {
  if (date === undefined) return undefined;
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new Error(`--${key} is an invalid date`);
  return ms / 1000;
}

