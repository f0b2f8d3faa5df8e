import { z } from 'zod';
import { THRESHOLD_MODES } from '../../db/files.js';
import { numberFrom, oneOf } from '../settings/schema-words.js';

// The config's `threshold` section, owned by the scorer: which rows of a file are flagged.

export const THRESHOLD_SCHEMA = z.strictObject({ mode: oneOf(THRESHOLD_MODES), quantile: numberFrom(0.5, 0.9999) });

export const DEFAULT_THRESHOLD: Readonly<z.infer<typeof THRESHOLD_SCHEMA>> = { mode: 'per-file', quantile: 0.95 };
