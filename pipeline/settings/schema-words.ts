import cron from 'node-cron';
import { z } from 'zod';

// The words every config section is written in. Each module owns its section's schema (the reader
// its bad-line policy, the findings their detectors, the dashboard where it listens) and builds it
// from these, so a bound and the sentence that states it to a user are made from the same numbers.
// The service puts the sections together (pipeline/service/config.ts). This file imports nothing
// of the project, so every folder may use it.

export const MAX = Number.MAX_SAFE_INTEGER;

/** A number from `min` to `max`, both included. */
export function numberFrom(min: number, max: number) {
  return z.number().min(min).max(max).describe(`a number from ${min} to ${max}`);
}

/** A whole number from `min` to `max` (or of `min` or more), both included. */
export function wholeFrom(min: number, max = MAX) {
  return z.int().min(min).max(max).describe(max === MAX ? `a whole number of ${min} or more` : `a whole number from ${min} to ${max}`);
}

export function oneOf<const T extends readonly string[]>(values: T) {
  const quoted = values.map((v) => JSON.stringify(v));
  return z.enum(values).describe(quoted.length === 1 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)!}`);
}

/** When a scheduled job runs: a cron expression, or null for never. */
export const schedule = z
  .string()
  .refine((value) => cron.validate(value), { error: 'is not a cron expression' })
  .nullable()
  .describe('a cron expression such as "0 3 * * 0", or null to turn the job off');
