import { z } from 'zod';
import { wholeFrom } from '../settings/schema-words.js';

// The config's `watch` section, owned by the watcher.

/** A file is taken once its size has not changed for this long (Zeek may still be writing it). */
export const WATCH_SCHEMA = z.strictObject({ stableMs: wholeFrom(0, 3_600_000) });

export const DEFAULT_WATCH: Readonly<z.infer<typeof WATCH_SCHEMA>> = { stableMs: 5000 };
