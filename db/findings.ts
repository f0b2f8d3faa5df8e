import { ANOMALY_SELECT, parseExplanation, type StoredAnomalyRow } from './anomalies.js';
import { checkedLimit, contextError, forEngine, perEngine, value, type Db, type Engine } from './connection.js';
import { TRIAGE_STATUSES, type TriageStatus } from './triage-status.js';

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

/**
 * A bounded sample of the Zeek uids of a finding's connections, to pivot to Zeek's other logs: the
 * earliest and the latest connection of its entity that the detector saw, and the highest-scored
 * flagged one (null where unknown: a log without uids, a finding with no flagged connection).
 * A finding's connections are those of its entity (each part that is set matching: src as
 * id.orig_h, dst as id.resp_h, port as id.resp_p, proto) with ts from first_ts to last_ts.
 */
export interface UidSample {
  first: string | null;
  last: string | null;
  top: string | null;
}

export const NO_UIDS: Readonly<UidSample> = Object.freeze({ first: null, last: null, top: null });

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
  uids: UidSample;
}

export interface StoredFinding extends FindingFields {
  id: number;
  /** The sensor whose logs raised it: each sensor's findings are its own. */
  sensor: string;
  /** What an analyst decided (db/triage.ts), who, when (ISO 8601) and why; `new` with nulls until then. */
  status: TriageStatus;
  statusNote: string | null;
  statusBy: string | null;
  statusAt: string | null;
  createdAt: string;
  updatedAt: string;
}

const FINDING_COLUMNS = `id, sensor, type, severity, score, src, dst, port, proto, first_ts AS "firstTs", last_ts AS "lastTs", connections,
  bytes_out AS "bytesOut", bytes_in AS "bytesIn", summary, evidence, model_version AS "modelVersion", uids, status, status_note AS "statusNote", status_by AS "statusBy", status_at AS "statusAt",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

type StoredFindingText = Omit<StoredFinding, 'evidence' | 'uids'> & { evidence: string; uids: string | null };

// `IS` (PostgreSQL's IS NOT DISTINCT FROM) matches NULL to NULL, so one statement serves every
// shape of entity, and the planner still uses findings_by_entity for it.
const LATEST_OF_ENTITY = {
  sqlite: `SELECT ${FINDING_COLUMNS} FROM findings
    WHERE sensor = @sensor AND type = @type AND src IS @src AND dst IS @dst AND port IS @port AND proto IS @proto
    ORDER BY last_ts DESC LIMIT 1`,
  postgres: `SELECT ${FINDING_COLUMNS} FROM findings
    WHERE sensor = @sensor AND type = @type AND src IS NOT DISTINCT FROM @src::text AND dst IS NOT DISTINCT FROM @dst::text
      AND port IS NOT DISTINCT FROM @port::integer AND proto IS NOT DISTINCT FROM @proto::text
    ORDER BY last_ts DESC LIMIT 1`,
};

/** `sensor`'s most recent finding of this type on this entity, if any. */
export function latestFindingOf(db: Db, sensor: string, entity: FindingEntity): StoredFinding | undefined {
  const row = db.get<StoredFindingText>(forEngine(db, LATEST_OF_ENTITY), { ...entityParams(entity), sensor });
  return row === undefined ? undefined : parsed(db, row);
}

const INSERT_FINDING = `INSERT INTO findings (sensor, type, severity, score, src, dst, port, proto, first_ts, last_ts, connections, bytes_out,
  bytes_in, summary, evidence, model_version, uids, created_at, updated_at)
  VALUES (@sensor, @type, @severity, @score, @src, @dst, @port, @proto, @firstTs, @lastTs, @connections, @bytesOut, @bytesIn, @summary,
  @evidence, @modelVersion, @uids, @now, @now)
  RETURNING id`;

/** Inserts a finding of `sensor`'s and returns its id. Opens no transaction: the caller writes it with its file's results. */
export function insertFinding(db: Db, sensor: string, finding: FindingFields, now: string): number {
  try {
    return db.get<{ id: number }>(INSERT_FINDING, { ...fieldParams(finding), sensor, now })!.id;
  } catch (error) {
    throw contextError(`${db.name}: inserting a ${finding.type} finding of sensor ${sensor} (${describeEntity(finding)})`, error);
  }
}

const UPDATE_FINDING = `UPDATE findings SET severity = @severity, score = @score, first_ts = @firstTs, last_ts = @lastTs,
  connections = @connections, bytes_out = @bytesOut, bytes_in = @bytesIn, summary = @summary, evidence = @evidence,
  model_version = @modelVersion, uids = @uids, updated_at = @now
  WHERE id = @id`;

/** Rewrites finding `id` with `finding` (its entity stays). Opens no transaction. */
export function updateFinding(db: Db, id: number, finding: FindingFields, now: string): void {
  try {
    db.run(UPDATE_FINDING, { ...fieldParams(finding), id, now });
  } catch (error) {
    throw contextError(`${db.name}: updating finding ${id} (${finding.type}, ${describeEntity(finding)})`, error);
  }
}

const LINK_FILE = `INSERT INTO finding_files (finding_id, file_id, connections) VALUES (?, ?, ?)`;

/** Records that file `fileId` raised or updated finding `findingId` with `connections` of its rows. */
export function linkFindingFile(db: Db, findingId: number, fileId: number, connections: number): void {
  db.run(LINK_FILE, [findingId, fileId, connections]);
}

// The file's anomalies on the finding's entity, each part of the entity that is set matching,
// found through the host's index over the entity's time span in the file: a file's 50,000 anomalies
// are not read once per finding.
const ENTITY_FILTER = `a.file_id = @fileId AND (CAST(@dst AS TEXT) IS NULL OR a.resp_h = @dst) AND (CAST(@port AS INTEGER) IS NULL OR a.resp_p = @port)
  AND (CAST(@proto AS TEXT) IS NULL OR a.proto = @proto)`;
// SQLite is told the host's index; PostgreSQL's planner finds it.
function linkByHost(engine: Engine, column: 'orig_h' | 'resp_h', host: '@src' | '@dst'): string {
  return `INSERT INTO finding_anomalies (finding_id, anomaly_id, score)
    SELECT @id, a.id, a.score FROM anomalies a ${engine === 'sqlite' ? `INDEXED BY anomalies_by_${column}` : ''}
    WHERE a.${column} = ${host} AND a.ts >= @firstTs AND a.ts <= @lastTs AND ${ENTITY_FILTER} ON CONFLICT DO NOTHING`;
}
const LINK_BY_SOURCE = perEngine((engine) => linkByHost(engine, 'orig_h', '@src'));
const LINK_BY_DESTINATION = perEngine((engine) => linkByHost(engine, 'resp_h', '@dst'));

/**
 * Links finding `findingId` to file `fileId`'s anomalies on its entity whose time is within
 * `span` (the entity's first and last connection in the file), and returns how many.
 */
export function linkFindingAnomalies(db: Db, findingId: number, fileId: number, entity: FindingEntity, span: { firstTs: number; lastTs: number }): number {
  const sql = entity.src !== null ? LINK_BY_SOURCE : entity.dst !== null ? LINK_BY_DESTINATION : null;
  if (sql === null) return 0;
  return db.run(forEngine(db, sql), { ...entityParams(entity), id: findingId, fileId, firstTs: span.firstTs, lastTs: span.lastTs });
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
  /** Only findings in these statuses; any status when not given. */
  statuses?: readonly TriageStatus[];
  limit?: number;
}

/** Findings matching every filter given, highest score first (then the most recent). */
export function queryFindings(db: Db, query: FindingQuery = {}): StoredFinding[] {
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
    severities: SEVERITIES.slice(SEVERITIES.indexOf(minSeverity)),
    statuses: query.statuses === undefined ? [...TRIAGE_STATUSES] : [...query.statuses],
    limit: checkedLimit(db, query.limit),
  };
  for (const status of params.statuses) {
    if (!TRIAGE_STATUSES.includes(status)) throw new Error(`${db.name}: querying findings: status '${String(status)}'; allowed: ${TRIAGE_STATUSES.join(', ')}`);
  }
  return db
    .all<StoredFindingText>(
      forEngine(db, QUERY_FINDINGS),
      db.engine === 'sqlite' ? { ...params, severities: JSON.stringify(params.severities), statuses: JSON.stringify(params.statuses) } : params,
    )
    .map((row) => parsed(db, row));
}

// Findings are few (a short list per day, not a row per connection), so one statement with
// optional filters serves: the table is small enough that its scan costs nothing.
const FINDING_FILTERS = `(CAST(@since AS DOUBLE PRECISION) IS NULL OR last_ts >= @since) AND (CAST(@until AS DOUBLE PRECISION) IS NULL OR first_ts < @until)
    AND (CAST(@host AS TEXT) IS NULL OR src = @host OR dst = @host) AND (CAST(@type AS TEXT) IS NULL OR type = @type)
    AND (CAST(@sensor AS TEXT) IS NULL OR sensor = @sensor)`;
// The severities at or above the floor: a JSON array on SQLite, an array on PostgreSQL.
const QUERY_FINDINGS = {
  sqlite: `SELECT ${FINDING_COLUMNS} FROM findings WHERE ${FINDING_FILTERS} AND severity IN (SELECT value FROM json_each(@severities))
    AND status IN (SELECT value FROM json_each(@statuses))
    ORDER BY score DESC, last_ts DESC, id DESC LIMIT @limit`,
  postgres: `SELECT ${FINDING_COLUMNS} FROM findings WHERE ${FINDING_FILTERS} AND severity = ANY(@severities::text[])
    AND status = ANY(@statuses::text[])
    ORDER BY score DESC, last_ts DESC, id DESC LIMIT @limit`,
};

const FINDING_BY_ID = `SELECT ${FINDING_COLUMNS} FROM findings WHERE id = ?`;

export function findingById(db: Db, id: number): StoredFinding | undefined {
  const row = db.get<StoredFindingText>(FINDING_BY_ID, [id]);
  return row === undefined ? undefined : parsed(db, row);
}

// Walked down finding_anomalies_by_score (which holds anomaly_id too, the table's key): only the
// rows returned are read from anomalies, however many the finding holds.
const FINDING_ANOMALIES = {
  sqlite: `SELECT ${ANOMALY_SELECT} FROM finding_anomalies fa INDEXED BY finding_anomalies_by_score
    JOIN anomalies a ON a.id = fa.anomaly_id JOIN files f ON f.id = a.file_id
    WHERE fa.finding_id = ? ORDER BY fa.score DESC, fa.anomaly_id DESC LIMIT ?`,
  postgres: `SELECT ${ANOMALY_SELECT} FROM finding_anomalies fa
    JOIN anomalies a ON a.id = fa.anomaly_id JOIN files f ON f.id = a.file_id
    WHERE fa.finding_id = ? ORDER BY fa.score DESC, fa.anomaly_id DESC LIMIT ?`,
};

const TOP_FLAGGED_UID = `SELECT a.uid FROM finding_anomalies fa JOIN anomalies a ON a.id = fa.anomaly_id
  WHERE fa.finding_id = ? AND a.uid IS NOT NULL ORDER BY fa.score DESC, fa.anomaly_id DESC LIMIT 1`;

/** The uid of finding `id`'s highest-scored flagged connection, or null. */
export function topFlaggedUid(db: Db, id: number): string | null {
  return db.get<{ uid: string }>(TOP_FLAGGED_UID, [id])?.uid ?? null;
}

const SET_UIDS = `UPDATE findings SET uids = ? WHERE id = ?`;

/** Replaces finding `id`'s uid sample. Opens no transaction. */
export function setFindingUids(db: Db, id: number, uids: UidSample): void {
  db.run(SET_UIDS, [JSON.stringify(uids), id]);
}

/** The flagged connections supporting finding `id`, highest score first. */
export function anomaliesOfFinding(db: Db, id: number, limit?: number): StoredAnomalyRow[] {
  return db
    .all<Omit<StoredAnomalyRow, 'explanation'> & { explanation: string }>(forEngine(db, FINDING_ANOMALIES), [id, checkedLimit(db, limit)])
    .map((row) => ({ ...row, explanation: parseExplanation(db, row.id, row.explanation) }));
}

const FILES_OF_FINDING = `SELECT f.id AS "fileId", f.path AS path, ff.connections AS connections, f.first_ts AS "firstTs", f.last_ts AS "lastTs"
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
export function filesOfFinding(db: Db, id: number): FindingFile[] {
  return db.all<FindingFile>(FILES_OF_FINDING, [id]);
}

/** What a detector has gathered on an entity below its threshold (see migration 4). */
export interface FindingTrack extends FindingEntity {
  firstTs: number;
  lastTs: number;
  connections: number;
  bytesOut: number;
  bytesIn: number;
  evidence: Record<string, unknown>;
  /** Its first and last connection's uids (`top` is the finding's, from its flagged connections). */
  uids: UidSample;
}

const TRACK_OF_ENTITY = `SELECT first_ts AS "firstTs", last_ts AS "lastTs", connections, bytes_out AS "bytesOut", bytes_in AS "bytesIn", evidence, uids
  FROM finding_tracks WHERE sensor = ? AND entity = ?`;

export function trackOf(db: Db, sensor: string, entity: FindingEntity): FindingTrack | undefined {
  const row = db.get<Omit<FindingTrack, keyof FindingEntity | 'evidence' | 'uids'> & { evidence: string; uids: string | null }>(TRACK_OF_ENTITY, [sensor, entityKey(entity)]);
  return row === undefined ? undefined : { ...entityParams(entity), ...row, evidence: JSON.parse(row.evidence) as Record<string, unknown>, uids: uidSample(row.uids) };
}

const SAVE_TRACK = `INSERT INTO finding_tracks (sensor, entity, type, first_ts, last_ts, connections, bytes_out, bytes_in, evidence, uids)
  VALUES (@sensor, @entity, @type, @firstTs, @lastTs, @connections, @bytesOut, @bytesIn, @evidence, @uids)
  ON CONFLICT (sensor, entity) DO UPDATE SET type = excluded.type, first_ts = excluded.first_ts, last_ts = excluded.last_ts,
    connections = excluded.connections, bytes_out = excluded.bytes_out, bytes_in = excluded.bytes_in, evidence = excluded.evidence, uids = excluded.uids`;

/** Writes (or replaces) `sensor`'s track of `track`'s entity. Opens no transaction. */
export function saveTrack(db: Db, sensor: string, track: FindingTrack): void {
  db.run(SAVE_TRACK, {
    sensor,
    entity: entityKey(track),
    type: track.type,
    firstTs: track.firstTs,
    lastTs: track.lastTs,
    connections: track.connections,
    bytesOut: track.bytesOut,
    bytesIn: track.bytesIn,
    evidence: JSON.stringify(track.evidence),
    uids: JSON.stringify(track.uids),
  });
}

const DELETE_TRACK = `DELETE FROM finding_tracks WHERE sensor = ? AND entity = ?`;

export function deleteTrack(db: Db, sensor: string, entity: FindingEntity): void {
  db.run(DELETE_TRACK, [sensor, entityKey(entity)]);
}

// One sensor's at a time: a sensor catching up on last month's archives has its own clock.
const PRUNE_TRACKS = `DELETE FROM finding_tracks WHERE sensor = ? AND last_ts < ?`;

/** Forgets `sensor`'s tracks not added to since `ts` (epoch seconds), and returns how many. */
export function pruneTracksBefore(db: Db, sensor: string, ts: number): number {
  return db.run(PRUNE_TRACKS, [sensor, ts]);
}

const COUNT_TRACKS = `SELECT count(*) FROM finding_tracks`;

export function countTracks(db: Db): number {
  return value<number>(db, COUNT_TRACKS) ?? 0;
}

const PRUNE_BEFORE = `DELETE FROM findings WHERE last_ts < ?`;

/** Deletes the findings whose last connection is older than `ts` and returns how many went. */
export function pruneFindingsBefore(db: Db, ts: number): number {
  if (Number.isNaN(ts)) throw new Error(`${db.name}: pruning findings: ts is NaN; expected epoch seconds`);
  return db.run(PRUNE_BEFORE, [ts]);
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
    uids: JSON.stringify(finding.uids),
  };
}

function parsed(db: Db, row: StoredFindingText): StoredFinding {
  try {
    return { ...row, evidence: JSON.parse(row.evidence) as Record<string, unknown>, uids: uidSample(row.uids) };
  } catch (error) {
    throw contextError(`${db.name}: finding ${row.id}: its evidence is not JSON`, error);
  }
}

/** An entity in words: `10.1.0.105 → 192.0.2.66:443/tcp`, `* → 10.1.0.30:443/tcp`, `10.1.0.117 → 203.0.113.77`. */
export function describeEntity(entity: Pick<FindingEntity, 'src' | 'dst' | 'port' | 'proto'>): string {
  const service = entity.port === null ? '' : `:${entity.port}${entity.proto === null ? '' : `/${entity.proto}`}`;
  return `${entity.src ?? '*'} → ${entity.dst ?? '*'}${service}`;
}

/** A stored sample (JSON, or NULL for rows from before it was kept) with every part present. */
function uidSample(text: string | null): UidSample {
  if (text === null) return { ...NO_UIDS };
  const stored = JSON.parse(text) as Partial<UidSample>;
  return { first: stored.first ?? null, last: stored.last ?? null, top: stored.top ?? null };
}
