import type { FileRow } from './files.js';
import type { FindingEntity, Severity } from './findings.js';
import { binStart, checkedLimit, forEngine, perEngine, value, type Db, type Engine } from './connection.js';

// The dashboard's own reads. Each is bounded, by an index range or a LIMIT, so a page costs the
// same on a week's database as on a year's, and the service writing beside it is never held up:
// the dashboard's connection is read-only, and in WAL a reader takes no lock the writer waits for.

const FLAGGED_PER_BIN = perEngine(
  (engine) => `SELECT ${binStart(engine, 'first_ts')} AS time, sum(rows) AS rows, sum(flagged) AS flagged
    FROM files WHERE status = 'done' AND first_ts >= @since GROUP BY 1 ORDER BY 1`,
);

/** Connections scored and flagged per bin of `bin` seconds (by each file's first connection), from `since` on. */
export function scoredPerBin(db: Db, since: number, bin: number): { time: number; rows: number; flagged: number }[] {
  return db.all<{ time: number; rows: number; flagged: number }>(forEngine(db, FLAGGED_PER_BIN), { since, bin });
}

// finished_at is ISO 8601 text, so its first 13 characters are the hour.
const FILES_PER_HOUR = `SELECT substr(finished_at, 1, 13) || ':00:00Z' AS hour, status, count(*) AS files
  FROM files WHERE finished_at >= @since GROUP BY 1, 2 ORDER BY 1, 2`;

/** Files met per hour of the clock (when each was finished with) and status, from `since` (ISO 8601) on. */
export function filesPerHour(db: Db, since: string): { hour: string; status: FileRow['status']; files: number }[] {
  return db.all<{ hour: string; status: FileRow['status']; files: number }>(FILES_PER_HOUR, { since });
}

const NEWEST_DATA = `SELECT max(last_ts) FROM files WHERE status = 'done'`;

/** The time of the newest connection scored (epoch seconds), or null before the first file. */
export function newestScoredTs(db: Db): number | null {
  return value<number | null>(db, NEWEST_DATA) ?? null;
}

const LAST_OF_STATUS = `SELECT id, path, finished_at AS "finishedAt", last_ts AS "lastTs", error FROM files WHERE status = ? ORDER BY id DESC LIMIT 1`;

/** The file most recently finished with this status. */
export function lastFileWithStatus(db: Db, status: FileRow['status']): Pick<FileRow, 'id' | 'path' | 'finishedAt' | 'lastTs' | 'error'> | undefined {
  return db.get<Pick<FileRow, 'id' | 'path' | 'finishedAt' | 'lastTs' | 'error'>>(LAST_OF_STATUS, [status]);
}

const PATH_KNOWN = `SELECT 1 FROM files WHERE path = ? LIMIT 1`;

/** Whether the ledger has any row for `path` (done, failed or skipped). */
export function isPathInLedger(db: Db, path: string): boolean {
  return db.get(PATH_KNOWN, [path]) !== undefined;
}

/** A finding without its evidence and summary: what the overview counts and the allow-list tests. */
export interface FindingHead extends FindingEntity {
  id: number;
  severity: Severity;
  lastTs: number;
}

const FINDING_HEADS = `SELECT id, type, severity, src, dst, port, proto, last_ts AS "lastTs" FROM findings
  WHERE last_ts >= ? ORDER BY last_ts DESC LIMIT ?`;

/** The findings last seen at or after `since`, newest first, at most `limit`. */
export function findingHeadsSince(db: Db, since: number, limit: number): FindingHead[] {
  return db.all<FindingHead>(FINDING_HEADS, [since, checkedLimit(db, limit)]);
}

/** One peer of a host among its flagged connections. */
export interface HostPeer {
  peer: string;
  /** Flagged connections from the host to the peer, and from the peer to the host. */
  outbound: number;
  inbound: number;
  /** Bytes the host sent to the peer, and received from it, over those connections. */
  bytesSent: number;
  bytesReceived: number;
  lastTs: number;
}

// The host's latest `sample` flagged connections each way, through the (host, ts) indexes: a
// scanner with a million flagged rows costs what a quiet host does. The page says how many were read.
// SQLite is told the indexes; PostgreSQL's planner finds them.
function latestOfHost(engine: Engine): string {
  const by = (index: string): string => (engine === 'sqlite' ? `INDEXED BY ${index}` : '');
  return `
    SELECT * FROM (SELECT resp_h AS peer, 1 AS outbound, ts, coalesce(orig_bytes, 0) AS sent, coalesce(resp_bytes, 0) AS received
                   FROM anomalies ${by('anomalies_by_orig_h')} WHERE orig_h = @host ORDER BY ts DESC LIMIT @sample) AS outbound_rows
    UNION ALL
    SELECT * FROM (SELECT orig_h AS peer, 0 AS outbound, ts, coalesce(resp_bytes, 0) AS sent, coalesce(orig_bytes, 0) AS received
                   FROM anomalies ${by('anomalies_by_resp_h')} WHERE resp_h = @host AND orig_h <> @host ORDER BY ts DESC LIMIT @sample) AS inbound_rows`;
}

const HOST_PEERS = perEngine(
  (engine) => `SELECT peer, sum(outbound) AS outbound, sum(1 - outbound) AS inbound, sum(sent) AS "bytesSent", sum(received) AS "bytesReceived",
    max(ts) AS "lastTs" FROM (${latestOfHost(engine)}) AS latest GROUP BY peer ORDER BY count(*) DESC, peer LIMIT @limit`,
);

/** The host's peers among its latest `sample` flagged connections each way, most connections first. */
export function hostPeers(db: Db, host: string, options: { sample: number; limit: number }): HostPeer[] {
  return db.all<HostPeer>(forEngine(db, HOST_PEERS), {
    host,
    sample: checkedLimit(db, options.sample),
    limit: checkedLimit(db, options.limit),
  });
}

const HOST_PER_BIN = perEngine(
  (engine) => `SELECT ${binStart(engine, 'ts')} AS time, sum(outbound) AS outbound, sum(1 - outbound) AS inbound,
    sum(sent) AS "bytesSent", sum(received) AS "bytesReceived" FROM (${latestOfHost(engine)}) AS latest GROUP BY 1 ORDER BY 1`,
);

/** The host's latest `sample` flagged connections each way, per bin of `bin` seconds. */
export function hostFlaggedPerBin(
  db: Db,
  host: string,
  options: { sample: number; bin: number },
): { time: number; outbound: number; inbound: number; bytesSent: number; bytesReceived: number }[] {
  return db.all<{ time: number; outbound: number; inbound: number; bytesSent: number; bytesReceived: number }>(forEngine(db, HOST_PER_BIN), {
    host,
    sample: checkedLimit(db, options.sample),
    bin: options.bin,
  });
}

