import { checkedLimit, contextError, type Db } from './connection.js';
import { ledgerLock } from './record-file.js';
import { insertSuppression, type SuppressionMatch } from './suppressions.js';
import { VERDICTS, type TriageStatus, type Verdict } from './triage-status.js';

// What analysts decide about findings, and the audit trail of every decision (migration 10).

/** One entry of a finding's audit trail. */
export interface FindingEvent {
  id: number;
  findingId: number;
  sensor: string;
  /** ISO 8601. */
  at: string;
  /** Who: a dashboard token's name, an OS user, or `zeek-anomaly` for what the service does itself. */
  by: string;
  action: 'triaged' | 'reopened';
  statusFrom: TriageStatus;
  statusTo: TriageStatus;
  /** The analyst's note, or why the service reopened it. */
  note: string | null;
}

export interface TriageInput {
  status: Verdict;
  note: string | null;
  by: string;
  /** ISO 8601; now when not given. */
  at?: string;
  /** With a verdict of `benign`: silence what it matches, until `expiresAt` (ISO 8601) or revoked. */
  suppress?: SuppressionMatch & { expiresAt: string | null };
}

export type TriageOutcome =
  | { status: 'done'; findingId: number; from: TriageStatus; to: TriageStatus; suppressionId: number | null }
  | { status: 'missing'; findingId: number };

const STATUS_OF = `SELECT sensor, status FROM findings WHERE id = ?`;
const SET_STATUS = `UPDATE findings SET status = @status, status_note = @note, status_by = @by, status_at = @at WHERE id = @id`;
const ADD_EVENT = `INSERT INTO finding_events (finding_id, sensor, at, by_whom, action, status_from, status_to, note)
  VALUES (@findingId, @sensor, @at, @by, @action, @from, @to, @note)`;

/** Sets finding `id`'s status and appends the change to its trail, in one transaction. */
export function triageFinding(db: Db, id: number, input: TriageInput): TriageOutcome {
  if (!(VERDICTS as readonly string[]).includes(input.status)) throw new Error(`${db.name}: triage: status is '${String(input.status)}'; allowed: ${VERDICTS.join(', ')}`);
  if (input.suppress !== undefined && input.status !== 'benign') throw new Error(`${db.name}: triage: a suppression goes with a verdict of benign, not ${input.status}`);
  const found = db.get<{ sensor: string; status: TriageStatus }>(STATUS_OF, [id]);
  if (found === undefined) return { status: 'missing', findingId: id };
  const at = input.at ?? new Date().toISOString();
  try {
    return db.transaction(ledgerLock(found.sensor), (): TriageOutcome => {
      // Read again under the lock: a file's transaction may have reopened it meanwhile.
      const current = db.get<{ status: TriageStatus }>(STATUS_OF, [id]);
      if (current === undefined) return { status: 'missing', findingId: id };
      db.run(SET_STATUS, { id, status: input.status, note: input.note, by: input.by, at });
      db.run(ADD_EVENT, { findingId: id, sensor: found.sensor, at, by: input.by, action: 'triaged', from: current.status, to: input.status, note: input.note });
      const suppressionId =
        input.suppress === undefined
          ? null
          : insertSuppression(db, { ...input.suppress, reason: input.note ?? `marked benign by ${input.by}`, by: input.by, createdAt: at, findingId: id });
      return { status: 'done', findingId: id, from: current.status, to: input.status, suppressionId };
    });
  } catch (error) {
    throw contextError(`${db.name}: triaging finding ${id} as ${input.status}`, error);
  }
}

/**
 * Sets a finding back to `new` because of later activity, with why, appending it to the trail.
 * Opens no transaction: a file's findings are written inside the file's own.
 */
export function reopenFinding(db: Db, id: number, sensor: string, from: TriageStatus, reason: string, at: string): void {
  db.run(SET_STATUS, { id, status: 'new', note: reason, by: SERVICE_NAME, at });
  db.run(ADD_EVENT, { findingId: id, sensor, at, by: SERVICE_NAME, action: 'reopened', from, to: 'new', note: reason });
}

/** Who the service is in the trail, when it changes a status itself. */
export const SERVICE_NAME = 'zeek-anomaly';

const EVENTS_OF = `SELECT id, finding_id AS "findingId", sensor, at, by_whom AS "by", action, status_from AS "statusFrom", status_to AS "statusTo", note
  FROM finding_events WHERE finding_id = ? ORDER BY id LIMIT ?`;

/** Finding `id`'s trail, oldest first. */
export function eventsOfFinding(db: Db, id: number, limit?: number): FindingEvent[] {
  return db.all<FindingEvent>(EVENTS_OF, [id, checkedLimit(db, limit)]);
}

const PRUNE_EVENTS = `DELETE FROM finding_events WHERE at < ?`;

/** Deletes the trail's entries made before `isoTime`, and returns how many went. */
export function pruneEventsBefore(db: Db, isoTime: string): number {
  return db.run(PRUNE_EVENTS, [isoTime]);
}
