import type { BadLine, LogReadErrorCode } from './log-read-error.js';

/** When a file's bad lines make the whole file unusable. */
export interface BadLinePolicy {
  /** A file is rejected when more than this share of its data lines is bad… */
  maxBadLineRatio: number;
  /** …and at least this many lines are bad. */
  minBadLinesToReject: number;
}

export const DEFAULT_BAD_LINE_POLICY: BadLinePolicy = { maxBadLineRatio: 0.01, minBadLinesToReject: 100 };

/** Why a file read to its end is rejected for its bad lines (with the first as an example), or null when it is not. */
export function whyTooManyBadLines(
  read: { badLines: number; dataLines: number; rows: number; badLineSamples: readonly BadLine[] },
  policy: BadLinePolicy,
): { code: LogReadErrorCode; message: string } | null {
  const { badLines, dataLines, rows, badLineSamples } = read;
  const first = badLineSamples[0];
  const example = first ? `; the first is line ${first.line}: ${first.reason}` : '';
  if (rows === 0 && badLines > 0) return { code: 'no-rows', message: `none of its ${badLines} data lines could be read${example}` };
  const { maxBadLineRatio, minBadLinesToReject } = policy;
  if (badLines >= minBadLinesToReject && badLines > maxBadLineRatio * dataLines) {
    return {
      code: 'too-many-bad-lines',
      message: `${badLines} of ${dataLines} data lines are bad, over the limit (more than ${formatPercent(maxBadLineRatio)} and at least ${minBadLinesToReject})${example}`,
    };
  }
  return null;
}

function formatPercent(ratio: number): string {
  return `${+(ratio * 100).toFixed(4)}%`;
}
