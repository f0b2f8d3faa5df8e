import type { z } from 'zod';
import type { Detector, DetectorDefinition } from './detector.js';
import { anomalyClusterDetector } from './detectors/anomaly-cluster.js';
import { beaconDetector } from './detectors/beacon.js';
import { exfiltrationDetector } from './detectors/exfiltration.js';
import { floodDetector } from './detectors/flood.js';
import { longConnectionDetector } from './detectors/long-connection.js';
import { portScanDetector } from './detectors/port-scan.js';
import { refusedRetriesDetector } from './detectors/refused-retries.js';
import type { Modifiers } from './modifier-registry.js';

// The one list of detectors. The finding types, the config's `findings` sections and their
// defaults (findings-settings.ts), the CLI's and the dashboard's type choices, and the table in
// docs/findings.md (checked by a test) all follow from it. Adding a detector: a module in
// detectors/ that exports its `defineDetector(…)`, and a line here (docs/development.md, "Add a detector").

export const DETECTORS = [
  beaconDetector,
  portScanDetector,
  floodDetector,
  refusedRetriesDetector,
  exfiltrationDetector,
  longConnectionDetector,
  anomalyClusterDetector,
] as const;

type Definitions = (typeof DETECTORS)[number];

export type FindingType = Definitions['type'];

export const FINDING_TYPES: readonly FindingType[] = DETECTORS.map((d) => d.type);

/** Each detector's options, under its config key (`findings.beacon`, `findings.portScan`, …). */
export type DetectorOptions = { [D in Definitions as D['key']]: z.infer<D['options']> };

/** Every detector, configured, by type. */
export function makeDetectors(options: Readonly<DetectorOptions>, modifiers: Modifiers): ReadonlyMap<FindingType, Detector> {
  return new Map(
    DETECTORS.map((definition) => {
      // Each definition's make takes its own section: the union of them cannot say so, one at a time can.
      const one = definition as unknown as DetectorDefinition<FindingType, keyof DetectorOptions, z.ZodObject>;
      return [definition.type, one.make(options[one.key], modifiers)];
    }),
  );
}
