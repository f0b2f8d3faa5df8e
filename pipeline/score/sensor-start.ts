import type { Database } from 'better-sqlite3';
import { adoptUnnamedRows, listSensors, type AdoptedRows } from '../../db/sensors.js';

/** What a writer (the service, `score`) found as it began writing as `sensor`. */
export interface SensorStart {
  sensor: string;
  /** The rows from before sensors were named that it took as its own (all zero when there were none). */
  adopted: AdoptedRows;
  /** Files the ledger holds from this sensor, and from the others. */
  ownFiles: number;
  otherSensors: { sensor: string; files: number }[];
}

/**
 * Readies the store for writing as `sensor`: takes the rows recorded before sensors were named, and
 * reports what else the ledger holds. Call it once, before the first file.
 */
export function startSensor(db: Database, sensor: string): SensorStart {
  const adopted = adoptUnnamedRows(db, sensor);
  const sensors = listSensors(db);
  return {
    sensor,
    adopted,
    ownFiles: sensors.find((s) => s.sensor === sensor)?.files ?? 0,
    otherSensors: sensors.filter((s) => s.sensor !== sensor),
  };
}

/**
 * A warning when the ledger knows other sensors but not this one: most often the sensor was renamed
 * (config `sensor`, or a new host name), and every archive in the log directory is then new to it.
 */
export function renamedSensorWarning(start: SensorStart): string | null {
  if (start.ownFiles > 0 || start.otherSensors.length === 0) return null;
  const others = start.otherSensors.map((s) => `${s.sensor} (${s.files} files)`).join(', ');
  return (
    `the database has files from ${others} but none from sensor ${start.sensor}: if this is one of them under a new name ` +
    `(config sensor, or the host name when it is not set), set sensor back, or every archive is scored again as ${start.sensor}'s`
  );
}
