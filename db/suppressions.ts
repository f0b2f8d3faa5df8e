import { checkedLimit, contextError, type Db } from './connection.js';

// Suppressions: noise silenced from a verdict, kept in the store (migration 11). What they match is
// worked out in pipeline/findings/suppression-set.ts; here they are stored, listed and revoked.

export const SUPPRESSION_SCOPES = ['entity', 'pair', 'channel', 'src', 'dst'] as const;
export type SuppressionScope = (typeof SUPPRESSION_SCOPES)[number];

/** What a suppression matches: every part that is not null. */
export interface SuppressionMatch {
  /** null: every sensor. */
  sensor: string | null;
  /** null: every finding type. */
  type: string | null;
  scope: SuppressionScope;
  /** An address or a network. */
  src: string | null;
  dst: string | null;
  port: number | null;
  proto: string | null;
}

export interface NewSuppression extends SuppressionMatch {
  reason: string;
  by: string;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601, or null: until revoked. */
  expiresAt: string | null;
  /** The finding whose verdict made it. */
  findingId: number | null;
}

export interface Suppression extends NewSuppression {
  id: number;
  revokedAt: string | null;
  revokedBy: string | null;
}

const INSERT = `INSERT INTO suppressions (sensor, type, scope, src, dst, port, proto, reason, by_whom, created_at, expires_at, finding_id)
  VALUES (@sensor, @type, @scope, @src, @dst, @port, @proto, @reason, @by, @createdAt, @expiresAt, @findingId) RETURNING id`;

/** Stores a suppression and returns its id. Opens no transaction: a verdict writes it with its own. */
export function insertSuppression(db: Db, suppression: NewSuppression): number {
  try {
    return db.get<{ id: number }>(INSERT, { ...suppression })!.id;
  } catch (error) {
    throw contextError(`${db.name}: storing a suppression (${suppression.scope} of finding ${suppression.findingId ?? '-'})`, error);
  }
}

const COLUMNS = `id, sensor, type, scope, src, dst, port, proto, reason, by_whom AS "by", created_at AS "createdAt", expires_at AS "expiresAt",
  finding_id AS "findingId", revoked_at AS "revokedAt", revoked_by AS "revokedBy"`;
// ISO 8601 times in UTC compare as text.
const ACTIVE = `SELECT ${COLUMNS} FROM suppressions WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > @now) ORDER BY id`;
const ALL = `SELECT ${COLUMNS} FROM suppressions ORDER BY id DESC LIMIT @limit`;

/** The suppressions in force at `now` (ISO 8601), oldest first. */
export function activeSuppressions(db: Db, now: string): Suppression[] {
  return db.all<Suppression>(ACTIVE, { now });
}

/** Every suppression, revoked and expired ones too, newest first. */
export function listSuppressions(db: Db, limit?: number): Suppression[] {
  return db.all<Suppression>(ALL, { limit: checkedLimit(db, limit) });
}

const REVOKE = `UPDATE suppressions SET revoked_at = @at, revoked_by = @by WHERE id = @id AND revoked_at IS NULL`;
const EXISTS = `SELECT revoked_at AS "revokedAt" FROM suppressions WHERE id = ?`;

export type RevokeOutcome = { status: 'done' } | { status: 'missing' } | { status: 'skipped'; reason: string };

/** Revokes suppression `id`: what it hid is listed again. */
export function revokeSuppression(db: Db, id: number, by: string, at: string): RevokeOutcome {
  const found = db.get<{ revokedAt: string | null }>(EXISTS, [id]);
  if (found === undefined) return { status: 'missing' };
  if (found.revokedAt !== null) return { status: 'skipped', reason: `already revoked at ${found.revokedAt}` };
  return db.run(REVOKE, { id, by, at }) === 1 ? { status: 'done' } : { status: 'skipped', reason: 'revoked meanwhile' };
}
