import { anomalyCluster } from './detectors/anomaly-cluster.js';
import { beacon } from './detectors/beacon.js';
import { exfiltration } from './detectors/exfiltration.js';
import { flood } from './detectors/flood.js';
import { longConnection } from './detectors/long-connection.js';
import { portScan } from './detectors/port-scan.js';
import { refusedRetries } from './detectors/refused-retries.js';
import type { Candidate, Detector, FindingType, Surroundings } from './detector.js';
import type { FileActivity } from './file-activity.js';
import type { FindingsOptions } from './findings-options.js';

/** Every detector, configured, by type. */
export function makeDetectors(options: Readonly<FindingsOptions>): ReadonlyMap<FindingType, Detector> {
  const detectors = [
    beacon(options.beacon),
    portScan(options.portScan),
    flood(options.flood),
    refusedRetries(options.refusedRetries),
    exfiltration(options.exfiltration),
    longConnection(options.longConnection),
    anomalyCluster(options.anomalyCluster),
  ];
  return new Map(detectors.map((d) => [d.type, d]));
}

/** What the detectors saw in one file's activity: those that read the file's flags (`afterFlags`) or the others. */
export function detectCandidates(detectors: ReadonlyMap<FindingType, Detector>, activity: FileActivity, around: Surroundings, afterFlags = false): Candidate[] {
  return [...detectors.values()].filter((d) => (d.readsFlags === true) === afterFlags).flatMap((detector) => detector.detect(activity, around));
}
