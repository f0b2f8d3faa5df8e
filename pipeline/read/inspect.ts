import { performance } from 'node:perf_hooks';
import { LogReadError, type BadLine } from './log-read-error.js';
import { readConnLog } from './read-conn-log.js';
import { readZeekLog } from './read-zeek-log.js';
import { logTypeFromName } from './log-name.js';
import type { LogReader, ReadOptions, ReadSummary } from './log-reader.js';

export type InspectOutcome =
  | ({ status: 'read' } & InspectFigures)
  | ({ status: 'rejected'; error: { code: LogReadError['code']; message: string; detail: string; line: number | null } } & InspectFigures);

export interface InspectFigures {
  file: string;
  /** The log it holds: `conn`, or another log's `#path` (or `_path`), or what its name says; null when nothing says. */
  log: string | null;
  /** How `log` is known: the file's `#path`/`_path`, its conn columns, or its name. */
  logFrom: 'path' | 'columns' | 'file name' | null;
  /** Whether it was read as a conn log, the only log that is scored; other logs are read by their own columns. */
  conn: boolean;
  format: ReadSummary['format'];
  compression: ReadSummary['compression'];
  path: string | null;
  fields: string[];
  rows: number;
  badLines: number;
  badLineSamples: BadLine[];
  truncated: boolean;
  firstTs: number | null;
  lastTs: number | null;
  seconds: number;
  rowsPerSecond: number;
}

/**
 * Reads a whole file and reports what it holds; a file that cannot be used is an outcome, not a
 * throw. It is read as a conn log first, as the scorer would read it; a file that is another
 * log (its `#path` says so, or it lacks the conn columns and its name does not say conn) is read
 * again as that log, by its own columns, and reported as such.
 */
export async function inspectFile(file: string, options?: ReadOptions): Promise<InspectOutcome> {
  const asConn = await readWhole(readConnLog(file, options));
  const { error, summary } = asConn;
  const otherLog =
    error?.code === 'wrong-log-type' || (error?.code === 'missing-columns' && (summary.path ?? logTypeFromName(file)) !== 'conn');
  if (!otherLog) return outcome(asConn, { log: 'conn', logFrom: summary.path === null ? 'columns' : 'path', conn: true });
  const asLog = await readWhole(readZeekLog(file, options));
  const declared = asLog.summary.path;
  const named = logTypeFromName(file);
  return outcome(asLog, {
    log: declared ?? named,
    logFrom: declared !== null ? 'path' : named !== null ? 'file name' : null,
    conn: false,
  });
}

interface WholeRead {
  summary: ReadSummary;
  error: LogReadError | null;
  seconds: number;
}

async function readWhole<Row>(reader: LogReader<Row>): Promise<WholeRead> {
  const started = performance.now();
  let error: LogReadError | null = null;
  try {
    for await (const batch of reader) void batch;
  } catch (caught) {
    if (!(caught instanceof LogReadError)) throw caught;
    error = caught;
  }
  return { summary: reader.summary, error, seconds: (performance.now() - started) / 1000 };
}

function outcome({ summary: s, error, seconds }: WholeRead, log: Pick<InspectFigures, 'log' | 'logFrom' | 'conn'>): InspectOutcome {
  const figures: InspectFigures = {
    file: s.file,
    ...log,
    format: s.format,
    compression: s.compression,
    path: s.path,
    fields: s.fields,
    rows: s.rows,
    badLines: s.badLines,
    badLineSamples: s.badLineSamples,
    truncated: s.truncated,
    firstTs: s.firstTs,
    lastTs: s.lastTs,
    seconds,
    rowsPerSecond: seconds > 0 ? Math.round(s.rows / seconds) : 0,
  };
  if (error === null) return { status: 'read', ...figures };
  return { status: 'rejected', error: { code: error.code, message: error.message, detail: error.detail, line: error.line }, ...figures };
}

/** The human report of one file, as `zeek-anomaly inspect` prints it. */
export function formatInspect(outcome: InspectOutcome): string {
  const lines = [outcome.file];
  const row = (label: string, value: string): void => {
    lines.push(`  ${label.padEnd(11)} ${value}`);
  };
  if (outcome.status === 'rejected') {
    const { code, line, detail } = outcome.error;
    row('REJECTED', `${code}: ${line === null ? '' : `line ${line}: `}${detail}`);
  }
  // A conn log's report is as it always was; another log says what it is and that it is not scored.
  if (!outcome.conn) row('log', `${describeLog(outcome)}, not a conn log: read by its own columns, not scored`);
  if (outcome.format !== null) {
    row('format', `${outcome.format}, ${outcome.compression === 'gzip' ? 'gzip' : 'not compressed'}${outcome.path ? `, #path ${outcome.path}` : ''}`);
  }
  if (outcome.fields.length > 0) row('fields', `${outcome.fields.length}: ${outcome.fields.join(' ')}`);
  row('rows', `${int(outcome.rows)} in ${outcome.seconds.toFixed(2)} s (${int(outcome.rowsPerSecond)} rows/s)`);
  row('bad lines', int(outcome.badLines));
  for (const bad of outcome.badLineSamples) lines.push(`${' '.repeat(14)}line ${bad.line}: ${bad.reason}`);
  if (outcome.badLines > outcome.badLineSamples.length) {
    lines.push(`${' '.repeat(14)}… and ${int(outcome.badLines - outcome.badLineSamples.length)} more`);
  }
  if (outcome.format !== null) {
    row('cut short', outcome.truncated ? 'yes: the writer stopped before the end (no #close, or a last line without newline)' : 'no');
  }
  if (outcome.firstTs !== null && outcome.lastTs !== null) row('time range', timeRange(outcome.firstTs, outcome.lastTs));
  return lines.join('\n');
}

function describeLog({ log, logFrom }: InspectFigures): string {
  if (log === null) return 'unknown (no #path, and its name says none)';
  return logFrom === 'file name' ? `${log} (by its file name: the file declares no #path)` : log;
}

// Captures such as Stratosphere's keep timestamps relative to their start; those are not dates.
const EARLIEST_PLAUSIBLE_EPOCH = 946684800; // 2000-01-01

function timeRange(first: number, last: number): string {
  const span = `${int(Math.round(last - first))} s`;
  if (first < EARLIEST_PLAUSIBLE_EPOCH) return `${first.toFixed(6)} … ${last.toFixed(6)} (relative seconds, ${span})`;
  return `${new Date(first * 1000).toISOString()} … ${new Date(last * 1000).toISOString()} (${span})`;
}

function int(n: number): string {
  return n.toLocaleString('en-US');
}
