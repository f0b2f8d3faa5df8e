import { anomaliesOfFinding, describeEntity, filesOfFinding, findingById, queryFindings, type Severity, type StoredFinding } from '../../db/findings.js';
import { eventsOfFinding, triageFinding } from '../../db/triage.js';
import type { TriageStatus, Verdict } from '../../db/triage-status.js';
import { openDatabase } from '../../db/open-database.js';
import { formatJsonLines, formatTable, print, type Cell, type TableColumn } from '../format-table.js';
import { formatCsv, isoTime, why } from '../../db/export-format.js';
import { epochSeconds, type OutputFormat } from './anomalies.js';
import { AllowList, type AllowEntry } from '../../pipeline/findings/allow-list.js';
import { SuppressionSet, suppressionFor } from '../../pipeline/findings/suppression-set.js';
import { activeSuppressions, listSuppressions, revokeSuppression, type Suppression, type SuppressionMatch, type SuppressionScope } from '../../db/suppressions.js';

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
    const suppressions = new SuppressionSet(activeSuppressions(db, new Date().toISOString()));
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
    const allowed = matching.filter((f) => allowList.allowing(f) === null);
    const shown = options.all === true ? allowed : allowed.filter((f) => suppressions.covering(f, f.sensor) === null);
    const rows = shown.slice(0, options.limit).map((f) => ({ ...f, suppressedBy: suppressions.covering(f, f.sensor)?.id ?? null }));
    if (allowed.length < matching.length) err.write(`${matching.length - allowed.length} finding(s) hidden by the allow-list (findings.allow); --all shows them\n`);
    if (shown.length < allowed.length) err.write(`${allowed.length - shown.length} finding(s) hidden by suppressions ('zeek-anomaly suppressions' lists them); --all shows them\n`);
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
  options: { db: string; id: number; status: Verdict; note: string | null; by: string; suppress?: SuppressOptions },
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const db = openDatabase(options.db);
  try {
    const finding = findingById(db, options.id);
    if (finding === undefined) {
      process.stderr.write(`zeek-anomaly findings triage: no finding ${options.id} in ${db.name}\n`);
      return 1;
    }
    const at = new Date();
    const suppress =
      options.suppress === undefined
        ? undefined
        : {
            ...suppressionFor(finding, options.suppress.scope, options.suppress),
            expiresAt: options.suppress.forSeconds === null ? null : new Date(at.getTime() + options.suppress.forSeconds * 1000).toISOString(),
          };
    const outcome = triageFinding(db, options.id, { status: options.status, note: options.note, by: options.by, at: at.toISOString(), suppress });
    if (outcome.status === 'missing') {
      process.stderr.write(`zeek-anomaly findings triage: no finding ${options.id} in ${db.name}\n`);
      return 1;
    }
    await print(`finding ${outcome.findingId}: ${outcome.from} → ${outcome.to}, by ${options.by}${options.note === null ? '' : `: ${options.note}`}\n`, out);
    if (outcome.suppressionId !== null && suppress !== undefined) {
      await print(`suppression ${outcome.suppressionId}: ${describeSuppression(suppress)}${suppress.expiresAt === null ? ', until revoked' : `, until ${suppress.expiresAt}`}\n`, out);
    }
    return 0;
  } finally {
    db.close();
  }
}

/** `--suppress SCOPE` with a verdict of benign: what it silences, for how long (null: until revoked), how wide. */
export interface SuppressOptions {
  scope: SuppressionScope;
  forSeconds: number | null;
  everyType: boolean;
  everySensor: boolean;
}

/** `zeek-anomaly suppressions`: the suppressions in force (or every one, with `all`), newest first. */
export async function suppressionsCommand(options: { db: string; all: boolean; format: OutputFormat }, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const db = openDatabase(options.db, { readonly: true });
  try {
    const now = new Date().toISOString();
    const rows = options.all ? listSuppressions(db) : activeSuppressions(db, now).reverse();
    switch (options.format) {
      case 'json':
        await print(formatJsonLines(rows), out);
        break;
      case 'csv':
        await print(formatCsv(SUPPRESSION_KEYS, rows.map((row) => SUPPRESSION_KEYS.map((key) => row[key]))), out);
        break;
      default: {
        const state = (s: Suppression): string => (s.revokedAt !== null ? `revoked ${s.revokedAt} by ${s.revokedBy ?? '?'}` : s.expiresAt !== null && s.expiresAt <= now ? `expired ${s.expiresAt}` : s.expiresAt === null ? 'until revoked' : `until ${s.expiresAt}`);
        const columns: TableColumn[] = [{ header: 'id', align: 'right' }, { header: 'matches', maxWidth: 100 }, { header: 'in force' }, { header: 'by' }, { header: 'finding', align: 'right' }, { header: 'reason', maxWidth: 60 }];
        await print(rows.length === 0 ? `no suppressions${options.all ? '' : ' in force'} in ${db.name}\n` : formatTable(columns, rows.map((s) => [s.id, describeSuppression(s), state(s), s.by, s.findingId, s.reason])), out);
      }
    }
    return 0;
  } finally {
    db.close();
  }
}

/** `zeek-anomaly suppressions revoke ID`: what it hid is listed again. Exit 1 when there is no such suppression or it was revoked already. */
export async function revokeSuppressionCommand(options: { db: string; id: number; by: string }, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const db = openDatabase(options.db);
  try {
    const outcome = revokeSuppression(db, options.id, options.by, new Date().toISOString());
    if (outcome.status !== 'done') {
      process.stderr.write(`zeek-anomaly suppressions revoke: ${outcome.status === 'missing' ? `no suppression ${options.id} in ${db.name}` : `suppression ${options.id} is ${outcome.reason}`}\n`);
      return 1;
    }
    await print(`suppression ${options.id} revoked by ${options.by}: what it hid is listed again\n`, out);
    return 0;
  } finally {
    db.close();
  }
}

const SUPPRESSION_KEYS = ['id', 'sensor', 'type', 'scope', 'src', 'dst', 'port', 'proto', 'reason', 'by', 'createdAt', 'expiresAt', 'findingId', 'revokedAt', 'revokedBy'] as const;

/** `beacon on sensor-a: 10.1.0.5 → 203.0.113.7 (pair)`: what a suppression matches, in words. */
function describeSuppression(s: SuppressionMatch): string {
  const service = s.port === null ? '' : `:${s.port}${s.proto === null ? '' : `/${s.proto}`}`;
  return `${s.type ?? 'every type'} on ${s.sensor ?? 'every sensor'}: ${s.src ?? '*'} → ${s.dst ?? '*'}${service} (${s.scope})`;
}

type FindingRecord = StoredFinding & { suppressedBy: number | null };

function jsonRecord(row: StoredFinding & { suppressedBy?: number | null }): FindingRecord {
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
    suppressedBy: row.suppressedBy ?? null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const CSV_KEYS = ['id', 'sensor', 'type', 'severity', 'score', 'src', 'dst', 'port', 'proto', 'firstTs', 'lastTs', 'connections', 'bytesOut', 'bytesIn', 'summary', 'evidence', 'modelVersion', 'uids', 'status', 'statusNote', 'statusBy', 'statusAt', 'suppressedBy', 'createdAt', 'updatedAt'] as const;

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
