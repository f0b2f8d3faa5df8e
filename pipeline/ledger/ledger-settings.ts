import { z } from 'zod';
import { wholeFrom } from '../settings/schema-words.js';

// The config's `lease` section, owned by the ledger: who may score a sensor's files.

/**
 * Several scorers of one sensor take turns: the one scoring holds the sensor's lease, renewed every
 * third of this, and another takes over this long after it dies (docs/scale-out.md).
 */
export const LEASE_SCHEMA = z.strictObject({ seconds: wholeFrom(2, 3600) });

// Longer than the longest stretch a scorer writes without renewing (a 10M-row file's transaction
// holds its thread for some seconds); short enough that a dead scorer's files wait half a minute.
export const DEFAULT_LEASE: Readonly<z.infer<typeof LEASE_SCHEMA>> = { seconds: 30 };
