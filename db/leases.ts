import { contextError, forEngine, perEngine, type Db, type Engine } from './connection.js';

/**
 * A sensor's lease as a scorer holds it: its name for the holder (host:pid:start, one per scorer
 * process) and how long a claim or renewal lasts.
 */
export interface LeaseHolder {
  sensor: string;
  holder: string;
  seconds: number;
}

/** A lease row, as operators see who scores what. */
export interface SensorLeaseRow {
  sensor: string;
  holder: string;
  /** Epoch seconds, by the database's clock (SQLite: the host's). */
  expiresAt: number;
  /** The file in hand, and since when; null between files. */
  file: string | null;
  fileSince: number | null;
  /** Past its expiry and not let go: its scorer stopped renewing (killed, or stuck), and the next claim takes it. */
  expired: boolean;
}

/** The file's transaction found the sensor's lease with another scorer: it wrote nothing. */
export class LeaseLostError extends Error {
  constructor(
    readonly sensor: string,
    readonly holder: string,
    readonly heldBy: string | null,
  ) {
    super(`sensor ${sensor}'s lease is ${heldBy === null ? 'no one’s' : `held by ${heldBy}`}, no longer by ${holder}: another scorer took over its files`);
  }
}

// The database's clock, in epoch seconds: leases of scorers on several hosts are judged by one clock.
const NOW: Record<Engine, string> = {
  sqlite: `((julianday('now') - 2440587.5) * 86400.0)`,
  postgres: `extract(epoch from clock_timestamp())::double precision`,
};

// The row is made if need be, then taken if it is free (no one's, or past its expiry) or already
// this scorer's. PostgreSQL: SKIP LOCKED passes over a row another scorer is claiming or writing
// under (a file's transaction locks it), so claims never queue behind each other; SQLite's write
// lock already lets one writer at a time through.
const ENSURE_ROW = `INSERT INTO sensor_leases (sensor, holder, expires_at) VALUES (@sensor, '', 0) ON CONFLICT (sensor) DO NOTHING`;
const FREE_ROW = perEngine(
  (engine) => `SELECT holder FROM sensor_leases WHERE sensor = @sensor AND (holder = @holder OR holder = '' OR expires_at < ${NOW[engine]})
    ${engine === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : ''}`,
);
// `@holder` takes the lease for `seconds` from now, where `condition` holds.
const takeWhere = (condition: string): Record<Engine, string> =>
  perEngine((engine) => `UPDATE sensor_leases SET holder = @holder, expires_at = ${NOW[engine]} + @seconds, file = NULL, file_since = NULL WHERE ${condition}`);
const TAKE = takeWhere('sensor = @sensor');

/** Takes the sensor's lease if no live scorer holds it (or renews it if this one does). Returns whether it is now held. */
export function claimSensorLease(db: Db, lease: LeaseHolder): boolean {
  const params = { sensor: lease.sensor, holder: lease.holder, seconds: lease.seconds };
  try {
    return db.transaction(`lease/${lease.sensor}`, () => {
      db.run(ENSURE_ROW, params);
      if (db.get(forEngine(db, FREE_ROW), params) === undefined) return false;
      db.run(forEngine(db, TAKE), params);
      return true;
    });
  } catch (error) {
    throw contextError(`${db.name}: claiming sensor ${lease.sensor}'s lease as ${lease.holder}`, error);
  }
}

const HOLDER_OF = `SELECT holder FROM sensor_leases WHERE sensor = ? AND holder <> ''`;

/** Who holds the sensor's lease (or held it, until it is taken or let go); null when no one. */
export function sensorLeaseHolder(db: Db, sensor: string): string | null {
  return db.get<{ holder: string }>(HOLDER_OF, [sensor])?.holder ?? null;
}

const TAKE_FROM = takeWhere('sensor = @sensor AND holder = @from');

/**
 * Takes the lease from `from`, before it expires, when the caller knows that holder is dead (a
 * process of this host that is gone). Only if `from` still holds it: returns whether it was taken.
 */
export function takeSensorLeaseFrom(db: Db, lease: LeaseHolder, from: string): boolean {
  try {
    return db.run(forEngine(db, TAKE_FROM), { sensor: lease.sensor, holder: lease.holder, seconds: lease.seconds, from }) === 1;
  } catch (error) {
    throw contextError(`${db.name}: taking sensor ${lease.sensor}'s lease from ${from} as ${lease.holder}`, error);
  }
}

const RENEW = {
  sqlite: `UPDATE sensor_leases SET expires_at = ${NOW.sqlite} + @seconds,
    file = @file, file_since = CASE WHEN @file IS NULL THEN NULL WHEN file IS @file THEN file_since ELSE ${NOW.sqlite} END
    WHERE sensor = @sensor AND holder = @holder`,
  postgres: `UPDATE sensor_leases SET expires_at = ${NOW.postgres} + @seconds,
    file = @file::text, file_since = CASE WHEN @file::text IS NULL THEN NULL WHEN file IS NOT DISTINCT FROM @file::text THEN file_since ELSE ${NOW.postgres} END
    WHERE sensor = @sensor AND holder = @holder`,
};

/**
 * Extends the lease by its length from now, and records the file in hand (null between files).
 * Returns false when this scorer no longer holds it (another took it after it expired).
 */
export function renewSensorLease(db: Db, lease: LeaseHolder, file: string | null): boolean {
  try {
    return db.run(forEngine(db, RENEW), { sensor: lease.sensor, holder: lease.holder, seconds: lease.seconds, file }) === 1;
  } catch (error) {
    throw contextError(`${db.name}: renewing sensor ${lease.sensor}'s lease as ${lease.holder}`, error);
  }
}

const RELEASE = `UPDATE sensor_leases SET holder = '', expires_at = 0, file = NULL, file_since = NULL WHERE sensor = @sensor AND holder = @holder`;

/** Lets the lease go, if this scorer still holds it: another may take it at once. */
export function releaseSensorLease(db: Db, lease: Pick<LeaseHolder, 'sensor' | 'holder'>): void {
  db.run(RELEASE, { sensor: lease.sensor, holder: lease.holder });
}

// Locks the row to the end of the file's transaction: a claim waits for (PostgreSQL: skips) it,
// so no other scorer can take the lease between this check and the commit.
const HOLDER = {
  sqlite: `SELECT holder FROM sensor_leases WHERE sensor = ?`,
  postgres: `SELECT holder FROM sensor_leases WHERE sensor = ? FOR UPDATE`,
};

/**
 * Inside a file's transaction: throws LeaseLostError unless `holder` still holds the sensor's
 * lease, so that a scorer that lost it (paused past its expiry, say) writes nothing.
 */
export function checkLeaseHeld(db: Db, lease: Pick<LeaseHolder, 'sensor' | 'holder'>): void {
  const row = db.get<{ holder: string }>(forEngine(db, HOLDER), [lease.sensor]);
  if (row?.holder !== lease.holder) throw new LeaseLostError(lease.sensor, lease.holder, row === undefined || row.holder === '' ? null : row.holder);
}

const LIST = perEngine(
  (engine) => `SELECT sensor, holder, expires_at AS "expiresAt", file, file_since AS "fileSince", expires_at < ${NOW[engine]} AS expired
    FROM sensor_leases WHERE holder <> '' ORDER BY sensor`,
);

/** The leases held, or held until they expired and nobody has taken them since, by sensor. */
export function listSensorLeases(db: Db): SensorLeaseRow[] {
  // SQLite answers a comparison with 1 or 0.
  return db.all<Omit<SensorLeaseRow, 'expired'> & { expired: boolean | number }>(forEngine(db, LIST)).map((row) => ({ ...row, expired: Boolean(row.expired) }));
}
