import type { Db } from '../../db/connection.js';
import type { AllowList } from '../findings/allow-list.js';
import type { ArchiveLagReader } from './archive-lag.js';

/** What every page reads from: handed to each by the app, so a test can give its own. */
export interface DashboardDeps {
  /** A read-only connection: the dashboard never writes, and never holds the service up. */
  db: Db;
  /** Config `findings.allow`: what it vouches for is left out of lists and counts, unless asked for. */
  allowList: AllowList;
  /** The log directory against the ledger, or null when the dashboard runs with no log directory to look at. */
  lag: ArchiveLagReader | null;
  /** The finding types to filter by (the detectors' registry, handed in: the dashboard loads no detector code). */
  findingTypes: readonly string[];
  /** How often the overview refreshes itself. */
  liveSeconds: number;
}
