import type { Database } from 'better-sqlite3';
import type { FileRow } from './files.js';
import type { FindingEntity, Severity } from './findings.js';
import { checkedLimit, prepared } from './statements.js';

// The dashboard's own reads. Each is bounded, by an index range or a LIMIT, so a page costs the
// same on a week's database as on a year's, and the service writing beside it is never held up:
// the dashboard's connection is read-only, and in WAL a reader takes no lock the writer waits for.

const FLAGGED_PER_BIN = `SELECT CAST(first_ts / @bin AS INTEGER) * @bin AS time, sum(rows) AS rows, sum(flagged) AS flagged
  FROM files WHERE status = 'done' AND first_ts >= @since GROUP BY 1 ORDER BY 1`;

/** Connections scored and flagged per bin of `bin` seconds (by each file's first connection), from `since` on. */
export function scoredPerBin(db: Database, since: number, bin: number): { time: number; rows: number; flagged: number }[] {
  return prepared<[{ since: number; bin: number }], { time: number; rows: number; flagged: number }>(db, FLAGGED_PER_BIN).all({ since, bin });
}

// finished_at is ISO 8601 text, so its first 13 characters are the hour.
const FILES_PER_HOUR = `SELECT substr(finished_at, 1, 13) || ':00:00Z' AS hour, status, count(*) AS files
  FROM files WHERE finished_at >= @since GROUP BY 1, 2 ORDER BY 1, 2`;

/** Files met per hour of the clock (when each was finished with) and status, from `since` (ISO 8601) on. */
export function filesPerHour(db: Database, since: string): { hour: string; status: FileRow['status']; files: number }[] {
  return prepared<[{ since: string }], { hour: string; status: FileRow['status']; files: number }>(db, FILES_PER_HOUR).all({ since });
}

const NEWEST_DATA = `SELECT max(last_ts) FROM files WHERE status = 'done'`;

/** The time of the newest connection scored (epoch seconds), or null before the first file. */
export function newestScoredTs(db: Database): number | null {
  return prepared<[], number | null>(db, NEWEST_DATA).pluck().get() ?? null;
}

const LAST_OF_STATUS = `SELECT id, path, finished_at AS finishedAt, last_ts AS lastTs, error FROM files WHERE status = ? ORDER BY id DESC LIMIT 1`;

/** The file most recently finished with this status. */
export function lastFileWithStatus(db: Database, status: FileRow['status']): Pick<FileRow, 'id' | 'path' | 'finishedAt' | 'lastTs' | 'error'> | undefined {
  return prepared<[string], Pick<FileRow, 'id' | 'path' | 'finishedAt' | 'lastTs' | 'error'>>(db, LAST_OF_STATUS).get(status);
}

const PATH_KNOWN = `SELECT 1 FROM files WHERE path = ? LIMIT 1`;

/** Whether the ledger has any row for `path` (done, failed or skipped). */
export function isPathInLedger(db: Database, path: string): boolean {
  return prepared<[string]>(db, PATH_KNOWN).get(path) !== undefined;
}

/** A finding without its evidence and summary: what the overview counts and the allow-list tests. */
export interface FindingHead extends FindingEntity {
  id: number;
  severity: Severity;
  lastTs: number;
}

const FINDING_HEADS = `SELECT id, type, severity, src, dst, port, proto, last_ts AS lastTs FROM findings
  WHERE last_ts >= ? ORDER BY last_ts DESC LIMIT ?`;

/** The findings last seen at or after `since`, newest first, at most `limit`. */
export function findingHeadsSince(db: Database, since: number, limit: number): FindingHead[] {
  return prepared<[number, number], FindingHead>(db, FINDING_HEADS).all(since, checkedLimit(db, limit));
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
const LATEST_OF_HOST = `
  SELECT * FROM (SELECT resp_h AS peer, 1 AS outbound, ts, coalesce(orig_bytes, 0) AS sent, coalesce(resp_bytes, 0) AS received
                 FROM anomalies INDEXED BY anomalies_by_orig_h WHERE orig_h = @host ORDER BY ts DESC LIMIT @sample)
  UNION ALL
  SELECT * FROM (SELECT orig_h AS peer, 0 AS outbound, ts, coalesce(resp_bytes, 0) AS sent, coalesce(orig_bytes, 0) AS received
                 FROM anomalies INDEXED BY anomalies_by_resp_h WHERE resp_h = @host AND orig_h <> @host ORDER BY ts DESC LIMIT @sample)`;

const HOST_PEERS = `SELECT peer, sum(outbound) AS outbound, sum(1 - outbound) AS inbound, sum(sent) AS bytesSent, sum(received) AS bytesReceived,
  max(ts) AS lastTs FROM (${LATEST_OF_HOST}) GROUP BY peer ORDER BY count(*) DESC, peer LIMIT @limit`;

/** The host's peers among its latest `sample` flagged connections each way, most connections first. */
export function hostPeers(db: Database, host: string, options: { sample: number; limit: number }): HostPeer[] {
  return prepared<[{ host: string; sample: number; limit: number }], HostPeer>(db, HOST_PEERS).all({
    host,
    sample: checkedLimit(db, options.sample),
    limit: checkedLimit(db, options.limit),
  });
}

const HOST_PER_BIN = `SELECT CAST(ts / @bin AS INTEGER) * @bin AS time, sum(outbound) AS outbound, sum(1 - outbound) AS inbound,
  sum(sent) AS bytesSent, sum(received) AS bytesReceived FROM (${LATEST_OF_HOST}) GROUP BY 1 ORDER BY 1`;

/** The host's latest `sample` flagged connections each way, per bin of `bin` seconds. */
export function hostFlaggedPerBin(
  db: Database,
  host: string,
  options: { sample: number; bin: number },
): { time: number; outbound: number; inbound: number; bytesSent: number; bytesReceived: number }[] {
  return prepared<[{ host: string; sample: number; bin: number }], { time: number; outbound: number; inbound: number; bytesSent: number; bytesReceived: number }>(
    db,
    HOST_PER_BIN,
  ).all({ host, sample: checkedLimit(db, options.sample), bin: options.bin });
}

