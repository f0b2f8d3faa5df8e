import type { Database } from 'better-sqlite3';
import { ANOMALY_COLUMNS, parseExplanation, type StoredAnomalyRow } from './anomalies.js';
import { checkedLimit, contextError, prepared } from './statements.js';

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

/** Lowest first. */
export const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

/** What a finding is about: its type and its entity. A null part is not part of the entity (a flood has no source). */
export interface FindingEntity {
  type: string;
  src: string | null;
  dst: string | null;
  port: number | null;
  proto: string | null;
}

/** A finding as written: everything but its id and the times the row was made and changed. */
export interface FindingFields extends FindingEntity {
  severity: Severity;
  /** 0 to 100. */
  score: number;
  /** Epoch seconds: the first and last connection it covers. */
  firstTs: number;
  lastTs: number;
  connections: number;
  bytesOut: number;
  bytesIn: number;
  /** One line of evidence in words. */
  summary: string;
  /** The statistics behind the verdict and the thresholds they crossed (stored as JSON). */
  evidence: Record<string, unknown>;
  modelVersion: string | null;
}

export interface StoredFinding extends FindingFields {
  id: number;
  /** The sensor whose logs raised it: each sensor's findings are its own. */
  sensor: string;
  createdAt: string;
  updatedAt: string;
}

const FINDING_COLUMNS = `id, sensor, type, severity, score, src, dst, port, proto, first_ts AS firstTs, last_ts AS lastTs, connections,
  bytes_out AS bytesOut, bytes_in AS bytesIn, summary, evidence, model_version AS modelVersion, created_at AS createdAt, updated_at AS updatedAt`;

type StoredFindingText = Omit<StoredFinding, 'evidence'> & { evidence: string };

// `IS` matches NULL to NULL, so one statement serves every shape of entity, and the planner still
// uses findings_by_entity for it.
const LATEST_OF_ENTITY = `SELECT ${FINDING_COLUMNS} FROM findings
  WHERE sensor = @sensor AND type = @type AND src IS @src AND dst IS @dst AND port IS @port AND proto IS @proto
  ORDER BY last_ts DESC LIMIT 1`;

/** `sensor`'s most recent finding of this type on this entity, if any. */
export function latestFindingOf(db: Database, sensor: string, entity: FindingEntity): StoredFinding | undefined {
  const row = prepared<[FindingEntity & { sensor: string }], StoredFindingText>(db, LATEST_OF_ENTITY).get({ ...entityParams(entity), sensor });
  return row === undefined ? undefined : parsed(db, row);
}

const INSERT_FINDING = `INSERT INTO findings (sensor, type, severity, score, src, dst, port, proto, first_ts, last_ts, connections, bytes_out,
  bytes_in, summary, evidence, model_version, created_at, updated_at)
  VALUES (@sensor, @type, @severity, @score, @src, @dst, @port, @proto, @firstTs, @lastTs, @connections, @bytesOut, @bytesIn, @summary,
  @evidence, @modelVersion, @now, @now)`;

/** Inserts a finding of `sensor`'s and returns its id. Opens no transaction: the caller writes it with its file's results. */
export function insertFinding(db: Database, sensor: string, finding: FindingFields, now: string): number {
  try {
    return Number(prepared(db, INSERT_FINDING).run({ ...fieldParams(finding), sensor, now }).lastInsertRowid);
  } catch (error) {
    throw contextError(`${db.name}: inserting a ${finding.type} finding of sensor ${sensor} (${describeEntity(finding)})`, error);
  }
}

const UPDATE_FINDING = `UPDATE findings SET severity = @severity, score = @score, first_ts = @firstTs, last_ts = @lastTs,
  connections = @connections, bytes_out = @bytesOut, bytes_in = @bytesIn, summary = @summary, evidence = @evidence,
  model_version = @modelVersion, updated_at = @now
  WHERE id = @id`;

/** Rewrites finding `id` with `finding` (its entity stays). Opens no transaction. */
export function updateFinding(db: Database, id: number, finding: FindingFields, now: string): void {
  try {
    prepared(db, UPDATE_FINDING).run({ ...fieldParams(finding), id, now });
  } catch (error) {
    throw contextError(`${db.name}: updating finding ${id} (${finding.type}, ${describeEntity(finding)})`, error);
  }
}

const LINK_FILE = `INSERT INTO finding_files (finding_id, file_id, connections) VALUES (?, ?, ?)`;

/** Records that file `fileId` raised or updated finding `findingId` with `connections` of its rows. */
export function linkFindingFile(db: Database, findingId: number, fileId: number, connections: number): void {
  prepared<[number, number, number]>(db, LINK_FILE).run(findingId, fileId, connections);
}

// The file's anomalies on the finding's entity, each part of the entity that is set matching,
// found through the host's index over the entity's time span in the file: a file's 50,000 anomalies
// are not read once per finding.
const ENTITY_FILTER = `a.file_id = @fileId AND (@dst IS NULL OR a.resp_h = @dst) AND (@port IS NULL OR a.resp_p = @port) AND (@proto IS NULL OR a.proto = @proto)`;
const LINK_BY_SOURCE = `INSERT OR IGNORE INTO finding_anomalies (finding_id, anomaly_id, score)
  SELECT @id, a.id, a.score FROM anomalies a INDEXED BY anomalies_by_orig_h
  WHERE a.orig_h = @src AND a.ts >= @firstTs AND a.ts <= @lastTs AND ${ENTITY_FILTER}`;
const LINK_BY_DESTINATION = `INSERT OR IGNORE INTO finding_anomalies (finding_id, anomaly_id, score)
  SELECT @id, a.id, a.score FROM anomalies a INDEXED BY anomalies_by_resp_h
  WHERE a.resp_h = @dst AND a.ts >= @firstTs AND a.ts <= @lastTs AND ${ENTITY_FILTER}`;

/**
 * Links finding `findingId` to file `fileId`'s anomalies on its entity whose time is within
 * `span` (the entity's first and last connection in the file), and returns how many.
 */
export function linkFindingAnomalies(db: Database, findingId: number, fileId: number, entity: FindingEntity, span: { firstTs: number; lastTs: number }): number {
  const sql = entity.src !== null ? LINK_BY_SOURCE : entity.dst !== null ? LINK_BY_DESTINATION : null;
  if (sql === null) return 0;
  return prepared(db, sql).run({ ...entityParams(entity), id: findingId, fileId, firstTs: span.firstTs, lastTs: span.lastTs }).changes;
}

export interface FindingQuery {
  /** Epoch seconds: findings whose last connection is at or after this. */
  since?: number;
  /** Epoch seconds: findings whose first connection is before this. */
  until?: number;
  /** Either end of the entity. */
  host?: string;
  type?: string;
  minSeverity?: Severity;
  /** One sensor's findings; all sensors' when not given. */
  sensor?: string;
  limit?: number;
}

/** Findings matching every filter given, highest score first (then the most recent). */
export function queryFindings(db: Database, query: FindingQuery = {}): StoredFinding[] {
  const minSeverity = query.minSeverity ?? 'info';
  if (!SEVERITIES.includes(minSeverity)) throw new Error(`${db.name}: querying findings: minSeverity is '${String(minSeverity)}'; expected one of ${SEVERITIES.join(', ')}`);
  for (const key of ['since', 'until'] as const) {
    const value = query[key];
    if (value !== undefined && Number.isNaN(value)) throw new Error(`${db.name}: querying findings: ${key} is NaN; expected epoch seconds`);
  }
  const params = {
    since: query.since ?? null,
    until: query.until ?? null,
    host: query.host ?? null,
    type: query.type ?? null,
    sensor: query.sensor ?? null,
    severities: JSON.stringify(SEVERITIES.slice(SEVERITIES.indexOf(minSeverity))),
    limit: checkedLimit(db, query.limit),
  };
  return prepared<[typeof params], StoredFindingText>(db, QUERY_FINDINGS)
    .all(params)
    .map((row) => parsed(db, row));
}

// Findings are few (a short list per day, not a row per connection), so one statement with
// optional filters serves: the table is small enough that its scan costs nothing.
const QUERY_FINDINGS = `SELECT ${FINDING_COLUMNS} FROM findings
  WHERE (@since IS NULL OR last_ts >= @since) AND (@until IS NULL OR first_ts < @until)
    AND (@host IS NULL OR src = @host OR dst = @host) AND (@type IS NULL OR type = @type)
    AND (@sensor IS NULL OR sensor = @sensor) AND severity IN (SELECT value FROM json_each(@severities))
  ORDER BY score DESC, last_ts DESC, id DESC LIMIT @limit`;

const FINDING_BY_ID = `SELECT ${FINDING_COLUMNS} FROM findings WHERE id = ?`;

export function findingById(db: Database, id: number): StoredFinding | undefined {
  const row = prepared<[number], StoredFindingText>(db, FINDING_BY_ID).get(id);
  return row === undefined ? undefined : parsed(db, row);
}

// Walked down finding_anomalies_by_score (which holds anomaly_id too, the table's key): only the
// rows returned are read from anomalies, however many the finding holds.
const FINDING_ANOMALIES = `SELECT ${ANOMALY_COLUMNS} FROM finding_anomalies fa INDEXED BY finding_anomalies_by_score
  JOIN anomalies a ON a.id = fa.anomaly_id JOIN files f ON f.id = a.file_id
  WHERE fa.finding_id = ? ORDER BY fa.score DESC, fa.anomaly_id DESC LIMIT ?`;

/** The flagged connections supporting finding `id`, highest score first. */
export function anomaliesOfFinding(db: Database, id: number, limit?: number): StoredAnomalyRow[] {
  return prepared<[number, number], Omit<StoredAnomalyRow, 'explanation'> & { explanation: string }>(db, FINDING_ANOMALIES)
    .all(id, checkedLimit(db, limit))
    .map((row) => ({ ...row, explanation: parseExplanation(db, row.id, row.explanation) }));
}

const FILES_OF_FINDING = `SELECT f.id AS fileId, f.path AS path, ff.connections AS connections, f.first_ts AS firstTs, f.last_ts AS lastTs
  FROM finding_files ff JOIN files f ON f.id = ff.file_id WHERE ff.finding_id = ? ORDER BY f.first_ts, f.id`;

/** A file that raised or updated a finding: how many of the finding's connections it held, and the span of its own. */
export interface FindingFile {
  fileId: number;
  path: string;
  connections: number;
  firstTs: number | null;
  lastTs: number | null;
}

/** The files that raised or updated finding `id`, oldest first, with what each added. */
export function filesOfFinding(db: Database, id: number): FindingFile[] {
  return prepared<[number], FindingFile>(db, FILES_OF_FINDING).all(id);
}

/** What a detector has gathered on an entity below its threshold (see migration 4). */
export interface FindingTrack extends FindingEntity {
  firstTs: number;
  lastTs: number;
  connections: number;
  bytesOut: number;
  bytesIn: number;
  evidence: Record<string, unknown>;
}

const TRACK_OF_ENTITY = `SELECT first_ts AS firstTs, last_ts AS lastTs, connections, bytes_out AS bytesOut, bytes_in AS bytesIn, evidence
  FROM finding_tracks WHERE sensor = ? AND entity = ?`;

export function trackOf(db: Database, sensor: string, entity: FindingEntity): FindingTrack | undefined {
  const row = prepared<[string, string], Omit<FindingTrack, keyof FindingEntity | 'evidence'> & { evidence: string }>(db, TRACK_OF_ENTITY).get(
    sensor,
    entityKey(entity),
  );
  return row === undefined ? undefined : { ...entityParams(entity), ...row, evidence: JSON.parse(row.evidence) as Record<string, unknown> };
}

const SAVE_TRACK = `INSERT OR REPLACE INTO finding_tracks (sensor, entity, type, first_ts, last_ts, connections, bytes_out, bytes_in, evidence)
  VALUES (@sensor, @entity, @type, @firstTs, @lastTs, @connections, @bytesOut, @bytesIn, @evidence)`;

/** Writes (or replaces) `sensor`'s track of `track`'s entity. Opens no transaction. */
export function saveTrack(db: Database, sensor: string, track: FindingTrack): void {
  prepared(db, SAVE_TRACK).run({
    sensor,
    entity: entityKey(track),
    type: track.type,
    firstTs: track.firstTs,
    lastTs: track.lastTs,
    connections: track.connections,
    bytesOut: track.bytesOut,
    bytesIn: track.bytesIn,
    evidence: JSON.stringify(track.evidence),
  });
}

const DELETE_TRACK = `DELETE FROM finding_tracks WHERE sensor = ? AND entity = ?`;

export function deleteTrack(db: Database, sensor: string, entity: FindingEntity): void {
  prepared<[string, string]>(db, DELETE_TRACK).run(sensor, entityKey(entity));
}

// One sensor's at a time: a sensor catching up on last month's archives has its own clock.
const PRUNE_TRACKS = `DELETE FROM finding_tracks WHERE sensor = ? AND last_ts < ?`;

/** Forgets `sensor`'s tracks not added to since `ts` (epoch seconds), and returns how many. */
export function pruneTracksBefore(db: Database, sensor: string, ts: number): number {
  return prepared<[string, number]>(db, PRUNE_TRACKS).run(sensor, ts).changes;
}

const COUNT_TRACKS = `SELECT count(*) FROM finding_tracks`;

export function countTracks(db: Database): number {
  return prepared<[], number>(db, COUNT_TRACKS).pluck().get() ?? 0;
}

const PRUNE_BEFORE = `DELETE FROM findings WHERE last_ts < ?`;

/** Deletes the findings whose last connection is older than `ts` and returns how many went. */
export function pruneFindingsBefore(db: Database, ts: number): number {
  if (Number.isNaN(ts)) throw new Error(`${db.name}: pruning findings: ts is NaN; expected epoch seconds`);
  return prepared<[number]>(db, PRUNE_BEFORE).run(ts).changes;
}

function entityParams(entity: FindingEntity): FindingEntity {
  return { type: entity.type, src: entity.src, dst: entity.dst, port: entity.port, proto: entity.proto };
}

/** The entity as one text key (NULLs included, which a composite primary key would treat as all distinct). */
function entityKey(entity: FindingEntity): string {
  return JSON.stringify([entity.type, entity.src, entity.dst, entity.port, entity.proto]);
}

function fieldParams(finding: FindingFields): Record<string, string | number | null> {
  return {
    ...entityParams(finding),
    severity: finding.severity,
    score: finding.score,
    firstTs: finding.firstTs,
    lastTs: finding.lastTs,
    connections: finding.connections,
    bytesOut: finding.bytesOut,
    bytesIn: finding.bytesIn,
    summary: finding.summary,
    evidence: JSON.stringify(finding.evidence),
    modelVersion: finding.modelVersion,
  };
}

function parsed(db: Database, row: StoredFindingText): StoredFinding {
  try {
    return { ...row, evidence: JSON.parse(row.evidence) as Record<string, unknown> };
  } catch (error) {
    throw contextError(`${db.name}: finding ${row.id}: its evidence is not JSON`, error);
  }
}

/** An entity in words: `10.1.0.105 → 192.0.2.66:443/tcp`, `* → 10.1.0.30:443/tcp`, `10.1.0.117 → 203.0.113.77`. */
export function describeEntity(entity: Pick<FindingEntity, 'src' | 'dst' | 'port' | 'proto'>): string {
  const service = entity.port === null ? '' : `:${entity.port}${entity.proto === null ? '' : `/${entity.proto}`}`;
  return `${entity.src ?? '*'} → ${entity.dst ?? '*'}${service}`;
}
