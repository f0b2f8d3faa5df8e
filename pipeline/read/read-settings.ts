import { z } from 'zod';
import { numberFrom, wholeFrom } from '../settings/schema-words.js';
import { DEFAULT_BAD_LINE_POLICY, type BadLinePolicy } from './bad-line-policy.js';

// The config's `badLines` section, owned by the reader: when a file's bad lines reject it.

export const BAD_LINES_SCHEMA = z.strictObject({ maxRatio: numberFrom(0, 1), minCount: wholeFrom(0) });

export type BadLinesSettings = z.infer<typeof BAD_LINES_SCHEMA>;

export const DEFAULT_BAD_LINES: Readonly<BadLinesSettings> = { maxRatio: DEFAULT_BAD_LINE_POLICY.maxBadLineRatio, minCount: DEFAULT_BAD_LINE_POLICY.minBadLinesToReject };

/** The reader's policy from the section. */
export function badLinePolicyOf(section: Readonly<BadLinesSettings>): BadLinePolicy {
  return { maxBadLineRatio: section.maxRatio, minBadLinesToReject: section.minCount };
}
