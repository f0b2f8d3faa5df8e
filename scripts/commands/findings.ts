import { anomaliesOfFinding, describeEntity, filesOfFinding, findingById, queryFindings, type Severity, type StoredFinding } from '../../db/findings.js';
import { eventsOfFinding, triageFinding } from '../../db/triage.js';
import type { TriageStatus, Verdict } from '../../db/triage-status.js';
import { openDatabase } from '../../db/open-database.js';
import { formatJsonLines, formatTable, print, type Cell, type TableColumn } from '../format-table.js';
import { formatCsv, isoTime, why } from '../../db/export-format.js';
import { epochSeconds, type OutputFormat } from './anomalies.js';
import { AllowList, type AllowEntry } from '../../pipeline/findings/allow-list.js';

export interface FindingsCommandOptions {
  db: string;
  since?: Date;
  until?: Date;
  /** Either end of the entity. */
  host?: string;
  type?: string;
  minSeverity?: Severity;
  /** One sensor's findings; all sensors' when not given. */
  sensor?: string;
  /** Only findings in these triage statuses. */
  statuses?: readonly TriageStatus[];
  limit: number;
  format: OutputFormat;
  /** Config `findings.allow`: matching findings are left out, unless `all`. */
  allow: readonly AllowEntry[];
  all?: boolean;
}

/**
 * `zeek-anomaly findings`: what an analyst should look at, highest score first, less what the
 * allow-list vouches for. Stdout holds the data and nothing else, in every format, so it can be
 * piped into a SIEM; how many the allow-list hid goes to stderr.
 */
export async function findingsCommand(options: FindingsCommandOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const db = openDatabase(options.db, { readonly: true });
  try {
    const allowList = new AllowList(options.all === true ? [] : options.allow);
    // Findings are few: all that match are read, the allowed ones dropped, then the limit applied.
    const matching = queryFindings(db, {
      since: epochSeconds(options.since, 'since'),
      until: epochSeconds(options.until, 'until'),
      host: options.host,
      type: options.type,
      minSeverity: options.minSeverity,
      sensor: options.sensor,
      statuses: options.statuses,
    });
    const shown = matching.filter((f) => allowList.allowing(f) === null);
    const rows = shown.slice(0, options.limit);
    if (shown.length < matching.length) err.write(`${matching.length - shown.length} finding(s) hidden by the allow-list (findings.allow); --all shows them\n`);
    switch (options.format) {
      case 'json':
        await print(formatJsonLines(rows.map(jsonRecord)), out);
        break;
      case 'csv':
        await print(formatCsv(CSV_KEYS, rows.map((row) => csvRecord(jsonRecord(row)))), out);
        break;
      case 'table':
        await print(rows.length === 0 ? 'no findings match\n' : formatTable(TABLE_COLUMNS, rows.map(tableRow)), out);
        break;
      default:
        throw new Error(`format is '${String(options.format)}'; expected table, json or csv`);
    }
    return 0;
  } finally {
    db.close();
  }
}

/** `zeek-anomaly findings show ID`: one finding, its evidence, the files that raised it and its flagged connections. Exit 1 when there is none. */
export async function showFindingCommand(options: { db: string; id: number; format: 'text' | 'json'; connections: number }, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const db = openDatabase(options.db, { readonly: true });
  try {
    const finding = findingById(db, options.id);
    if (finding === undefined) {
      process.stderr.write(`zeek-anomaly findings show: no finding ${options.id} in ${db.name}\n`);
      return 1;
    }
    const files = filesOfFinding(db, finding.id);
    const anomalies = anomaliesOfFinding(db, finding.id, options.connections);
    const history = eventsOfFinding(db, finding.id);
    if (options.format === 'json') {
      await print(`${JSON.stringify({ ...jsonRecord(finding), files, connectionsFlagged: anomalies, history })}\n`, out);
      return 0;
    }
    const lines = [
      `finding ${finding.id}: ${finding.type}, ${finding.severity} (score ${finding.score})`,
      `sensor:      ${finding.sensor}`,
      `entity:      ${describeEntity(finding)}`,
      `seen:        ${isoTime(finding.firstTs)} to ${isoTime(finding.lastTs)}`,
      `connections: ${finding.connections.toLocaleString('en-US')}, ${finding.bytesOut.toLocaleString('en-US')} bytes out, ${finding.bytesIn.toLocaleString('en-US')} in`,
      `status:      ${finding.status}${finding.statusBy === null ? '' : `, by ${finding.statusBy} at ${finding.statusAt ?? '?'}`}${finding.statusNote === null ? '' : `: ${finding.statusNote}`}`,
      `summary:     ${finding.summary}`,
      `zeek uids:   ${uidLine(finding.uids)}`,
      `evidence:    ${JSON.stringify(finding.evidence, null, 2).split('\n').join('\n             ')}`,
      `history:     ${history.length === 0 ? 'none' : history.map((e) => `${e.at} ${e.by} ${e.action} ${e.statusFrom} → ${e.statusTo}${e.note === null ? '' : `: ${e.note}`}`).join('\n             ')}`,
      `files:       ${files.length} (${files.map((f) => f.path).slice(-3).join(', ')}${files.length > 3 ? ', …' : ''})`,
      `flagged connections (${anomalies.length === options.connections ? `the top ${options.connections}` : anomalies.length}):`,
      ...anomalies.map((a) => `  ${isoTime(a.ts)}  ${a.origH}:${a.origP} → ${a.respH}:${a.respP}/${a.proto}  score ${a.score.toFixed(2)}  ${why(a.explanation)}`),
    ];
    await print(`${lines.join('\n')}\n`, out);
    return 0;
  } finally {
    db.close();
  }
}

/**
 * `zeek-anomaly findings triage ID --as STATUS`: an analyst's verdict on a finding, with a note and
 * who gave it, added to its audit trail. Exit 1 when there is no such finding.
 */
export async function triageCommand(
  options: { db: string; id: number; status: Verdict; note: string | null; by: string },
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const db = openDatabase(options.db);
  try {
    const outcome = triageFinding(db, options.id, { status: options.status, note: options.note, by: options.by });
    if (outcome.status === 'missing') {
      process.stderr.write(`zeek-anomaly findings triage: no finding ${options.id} in ${db.name}\n`);
      return 1;
    }
    await print(`finding ${outcome.findingId}: ${outcome.from} → ${outcome.to}, by ${options.by}${options.note === null ? '' : `: ${options.note}`}\n`, out);
    return 0;
  } finally {
    db.close();
  }
}

type FindingRecord = StoredFinding;

function jsonRecord(row: StoredFinding): FindingRecord {
  return {
    id: row.id,
    sensor: row.sensor,
    type: row.type,
    severity: row.severity,
    score: row.score,
    src: row.src,
    dst: row.dst,
    port: row.port,
    proto: row.proto,
    firstTs: row.firstTs,
    lastTs: row.lastTs,
    connections: row.connections,
    bytesOut: row.bytesOut,
    bytesIn: row.bytesIn,
    summary: row.summary,
    evidence: row.evidence,
    modelVersion: row.modelVersion,
    uids: row.uids,
    status: row.status,
    statusNote: row.statusNote,
    statusBy: row.statusBy,
    statusAt: row.statusAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const CSV_KEYS = ['id', 'sensor', 'type', 'severity', 'score', 'src', 'dst', 'port', 'proto', 'firstTs', 'lastTs', 'connections', 'bytesOut', 'bytesIn', 'summary', 'evidence', 'modelVersion', 'uids', 'status', 'statusNote', 'statusBy', 'statusAt', 'createdAt', 'updatedAt'] as const;

function csvRecord(record: FindingRecord): Cell[] {
  return CSV_KEYS.map((key) => {
    const value = record[key];
    return key === 'evidence' || key === 'uids' ? JSON.stringify(value) : (value as Cell);
  });
}

const TABLE_COLUMNS: TableColumn[] = [
  { header: 'id', align: 'right' },
  { header: 'score', align: 'right' },
  { header: 'severity' },
  { header: 'status' },
  { header: 'type' },
  { header: 'sensor', maxWidth: 24 },
  { header: 'entity', maxWidth: 48 },
  { header: 'last seen' },
  { header: 'evidence', maxWidth: 110 },
];

function tableRow(row: StoredFinding): Cell[] {
  return [row.id, row.score.toFixed(1), row.severity, row.status, row.type, row.sensor, describeEntity(row), isoTime(row.lastTs), row.summary];
}

/** `first C1… · last C9… · top flagged C5…`, or why there are none. */
function uidLine(uids: StoredFinding['uids']): string {
  const parts = [['first', uids.first], ['last', uids.last], ['top flagged', uids.top]].filter(([, uid]) => uid !== null).map(([role, uid]) => `${role} ${uid}`);
  return parts.length === 0 ? 'none kept (a log without uids, or a finding from before they were kept)' : parts.join(' · ');
}
