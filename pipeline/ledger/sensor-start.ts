import type { Db } from '../../db/connection.js';
import { adoptUnnamedRows, listSensors, type AdoptedRows } from '../../db/sensors.js';

/**
 * Readies the store for writing as `sensor` (the service, `score`): takes the rows recorded before
 * sensors were named. Call it once, before the first file and before the context state is read.
 * Returns what the operator should be told, if anything: the rows it took, and a warning when the
 * ledger knows other sensors but not this one.
 */
export function startSensor(db: Db, sensor: string): string[] {
  const notices: string[] = [];
  const adopted = adoptUnnamedRows(db, sensor);
  if (adopted.files > 0) notices.push(`took the rows recorded before sensors were named as sensor ${sensor}'s: ${describeAdopted(adopted)}`);
  const sensors = listSensors(db);
  const others = sensors.filter((s) => s.sensor !== sensor);
  // Most often the sensor was renamed (config sensor, or a new host name): every archive in the log
  // directory is then new to it.
  if (others.length > 0 && !sensors.some((s) => s.sensor === sensor)) {
    notices.push(
      `the database has files from ${others.map((s) => `${s.sensor} (${s.files} files)`).join(', ')} but none from sensor ${sensor}: if this is one of them ` +
        `under a new name (config sensor, or the host name when it is not set), set sensor back, or every archive is scored again as ${sensor}'s`,
    );
  }
  return notices;
}

function describeAdopted(adopted: AdoptedRows): string {
  return `${adopted.files} files, ${adopted.findings} findings, ${adopted.tracks} tracks, ${adopted.contextPieces} pieces of context state, ${adopted.models} models`;
}
