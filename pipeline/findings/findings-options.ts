import { DEFAULT_ANOMALY_CLUSTER, type AnomalyClusterOptions } from './detectors/anomaly-cluster.js';
import { DEFAULT_BEACON, type BeaconOptions } from './detectors/beacon.js';
import { DEFAULT_EXFILTRATION, type ExfiltrationOptions } from './detectors/exfiltration.js';
import { DEFAULT_FLOOD, type FloodOptions } from './detectors/flood.js';
import { DEFAULT_LONG_CONNECTION, type LongConnectionOptions } from './detectors/long-connection.js';
import { DEFAULT_PORT_SCAN, type PortScanOptions } from './detectors/port-scan.js';
import { DEFAULT_REFUSED_RETRIES, type RefusedRetriesOptions } from './detectors/refused-retries.js';
import { DEFAULT_FILE_ACTIVITY_OPTIONS } from './file-activity.js';
import type { AllowEntry } from './allow-list.js';

/** Everything the findings stage can be told (config key `findings`). */
export interface FindingsOptions {
  /** CIDRs of the monitored network: exfiltration is from inside to outside. RITA's `internal_subnets`. */
  internalNetworks: string[];
  /** A detection on an entity within this many hours of its finding's last connection updates it; later, it is a new finding. */
  mergeGapHours: number;
  /** The most source → destination pairs followed in one file (each costs an object and an index entry, and each of its connections 21 bytes of columns). */
  maxPairs: number;
  beacon: BeaconOptions;
  portScan: PortScanOptions;
  flood: FloodOptions;
  refusedRetries: RefusedRetriesOptions;
  exfiltration: ExfiltrationOptions;
  longConnection: LongConnectionOptions;
  anomalyCluster: AnomalyClusterOptions;
  /** Noisy but harmless traffic: matching findings are not raised, and not listed (see allow-list.ts). */
  allow: AllowEntry[];
}

export const DEFAULT_FINDINGS: Readonly<FindingsOptions> = {
  internalNetworks: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', 'fc00::/7', 'fe80::/10'],
  // A day and a half: a daily job (a backup, a check-in) with some jitter stays one finding.
  mergeGapHours: 36,
  maxPairs: DEFAULT_FILE_ACTIVITY_OPTIONS.maxPairs,
  beacon: DEFAULT_BEACON,
  portScan: DEFAULT_PORT_SCAN,
  flood: DEFAULT_FLOOD,
  refusedRetries: DEFAULT_REFUSED_RETRIES,
  exfiltration: DEFAULT_EXFILTRATION,
  longConnection: DEFAULT_LONG_CONNECTION,
  anomalyCluster: DEFAULT_ANOMALY_CLUSTER,
  allow: [],
};
