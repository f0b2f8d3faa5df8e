/** Why a whole file was rejected. Bad single lines are not errors; they are counted in the summary. */
export type LogReadErrorCode =
  | 'io'
  /** The file's content changed between two reads of it (it was still being written, or replaced). */
  | 'changed'
  | 'empty'
  | 'corrupt-gzip'
  | 'truncated-gzip'
  | 'binary'
  | 'unknown-format'
  | 'wrong-log-type'
  | 'missing-columns'
  | 'too-many-bad-lines'
  | 'no-rows';

/** A file that cannot be used: the message names the file and, where there is one, the line. */
export class LogReadError extends Error {
  override readonly name = 'LogReadError';
  readonly code: LogReadErrorCode;
  readonly file: string;
  readonly line: number | null;
  /** The message without the file and line in front, for reports that show them already. */
  readonly detail: string;
  /** Data rows read successfully before the failure. */
  readonly rowsRead: number;

  constructor(options: { code: LogReadErrorCode; file: string; message: string; line?: number | null; rowsRead?: number }) {
    super(`${options.file}${options.line == null ? '' : `:${options.line}`}: ${options.message}`);
    this.code = options.code;
    this.file = options.file;
    this.line = options.line ?? null;
    this.detail = options.message;
    this.rowsRead = options.rowsRead ?? 0;
  }
}

/** A line that could not be read; reading goes on. */
export interface BadLine {
  line: number;
  reason: string;
}

/** Thrown by row parsers for a single bad line; the reader turns it into a `BadLine`. */
export class BadLineError extends Error {
  override readonly name = 'BadLineError';
}

export function badValue(field: string, value: string, expected: string): BadLineError {
  return new BadLineError(`field '${field}' has value ${quote(value)}, expected ${expected}`);
}

function quote(value: string): string {
  const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
  return JSON.stringify(shown);
}
