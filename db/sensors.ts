import type { Db } from './connection.js';
import { contextError } from './connection.js';

/** A sensor's name: short, and safe in a file name, a URL and a log line. */
export const SENSOR_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const SENSOR_NAME_RULE = '1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit';

/** A sensor the database has files from, with how many. */
export interface SensorFiles {
  sensor: string;
  files: number;
}

const SENSORS = `SELECT sensor, count(*) AS files FROM files GROUP BY sensor ORDER BY sensor`;

/** Every sensor the ledger has files from ('' for rows recorded before sensors were named, until one takes them). */
export function listSensors(db: Db): SensorFiles[] {
  return db.all<SensorFiles>(SENSORS);
}

/** The sensors the ledger has files from, by name (not rows from before sensors were named). */
export function sensorNames(db: Db): string[] {
  return listSensors(db).flatMap(({ sensor }) => (sensor === '' ? [] : [sensor]));
}

/** How many rows of each table `adoptUnnamedRows` gave to the sensor. */
export interface AdoptedRows {
  files: number;
  findings: number;
  tracks: number;
  contextPieces: number;
  models: number;
}

// One lock for every sensor: two starting at once must not both take the same rows.
const ADOPTION_LOCK = 'zeek-anomaly/adopt-unnamed-rows';

const ADOPT = {
  files: `UPDATE files SET sensor = ? WHERE sensor = ''`,
  findings: `UPDATE findings SET sensor = ? WHERE sensor = ''`,
  tracks: `UPDATE finding_tracks SET sensor = ? WHERE sensor = ''`,
  contextPieces: `UPDATE context_state SET sensor = ? WHERE sensor = ''`,
  models: `UPDATE models SET sensor = ? WHERE sensor = ''`,
} as const;

/**
 * Gives `sensor` the rows recorded before sensors were named (migration 7 left them ''), in one
 * transaction. Until then one instance wrote each database, so they are the first writer's: its
 * ledger, findings, context state and models carry on as they were, with no file scored again.
 */
export function adoptUnnamedRows(db: Db, sensor: string): AdoptedRows {
  try {
    return db.transaction(
      ADOPTION_LOCK,
      (): AdoptedRows => ({
        files: db.run(ADOPT.files, [sensor]),
        findings: db.run(ADOPT.findings, [sensor]),
        tracks: db.run(ADOPT.tracks, [sensor]),
        contextPieces: db.run(ADOPT.contextPieces, [sensor]),
        models: db.run(ADOPT.models, [sensor]),
      }),
    );
  } catch (error) {
    throw contextError(`${db.name}: giving the rows recorded before sensor names to sensor ${sensor}`, error);
  }
}
