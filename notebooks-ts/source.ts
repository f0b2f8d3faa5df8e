import { isAbsolute, relative } from 'node:path';
import type { ConnRecord } from '../pipeline/read/conn-record.js';
import { findConnLogs, type FoundLog } from '../pipeline/discover/log-files.js';
import { LogReadError } from '../pipeline/read/log-read-error.js';
import { readConnLog } from '../pipeline/read/read-conn-log.js';
import type { BadLinePolicy } from '../pipeline/read/bad-line-policy.js';
import type { RenderedChart } from './charts.js';

/** What every notebook returns: where its report and charts are. */
export interface NotebookResult {
  name: string;
  report: string;
  chartsDir: string;
  charts: RenderedChart[];
  warnings: string[];
}

export interface NotebookBase {
  /** The folder the report and its charts go to. */
  out: string;
  /** The command line that makes this report, for its footer. */
  command: string;
  /** Progress and notes, one line each (the CLI writes them to stderr). */
  log?: (message: string) => void;
  badLines?: BadLinePolicy;
}

export interface FailedFile {
  file: string;
  error: string;
}

export interface StreamSummary {
  files: FoundLog[];
  ignored: number;
  filesRead: number;
  failed: FailedFile[];
  rows: number;
}

// Progress lines at most this often.
const PROGRESS_EVERY_MS = 2000;

/**
 * Streams every record of the conn logs in `inputs` (files, folders, globs; oldest first) through
 * `onRecord`, one batch at a time: nothing is kept here. A file that cannot be read is reported
 * and skipped, as retrain does; its rows already seen stay counted (the aggregates cannot take them
 * back), which the report says.
 */
export async function streamRecords(
  inputs: readonly string[],
  options: { since?: Date; until?: Date; badLines?: BadLinePolicy; log?: (message: string) => void },
  onRecord: (record: ConnRecord) => void,
): Promise<StreamSummary> {
  const log = options.log ?? (() => {});
  const { files, ignored } = await findConnLogs(inputs, { since: options.since, until: options.until });
  log(`found ${files.length} conn logs${ignored.length > 0 ? ` (${ignored.length} other files ignored)` : ''}`);
  const since = options.since ? options.since.getTime() / 1000 : -Infinity;
  const until = options.until ? options.until.getTime() / 1000 : Infinity;
  const failed: FailedFile[] = [];
  let rows = 0;
  let filesRead = 0;
  let lastLog = performance.now();
  for (const [index, found] of files.entries()) {
    try {
      for await (const batch of readConnLog(found.path, { badLines: options.badLines })) {
        for (const record of batch) {
          if (record.ts < since || record.ts >= until) continue;
          rows++;
          onRecord(record);
        }
      }
      filesRead++;
    } catch (error) {
      if (!(error instanceof LogReadError)) throw error;
      failed.push({ file: found.path, error: error.message });
      log(`skipped ${error.message}`);
    }
    if (performance.now() - lastLog > PROGRESS_EVERY_MS || index === files.length - 1) {
      lastLog = performance.now();
      log(`read ${index + 1} of ${files.length} files, ${rows.toLocaleString('en-US')} rows`);
    }
  }
  return { files, ignored: ignored.length, filesRead, failed, rows };
}

/** "2022-03-01 00:00:12 UTC" for epoch seconds. */
export function utcTime(ts: number | null): string {
  if (ts === null || !Number.isFinite(ts)) return 'n/a';
  return `${new Date(ts * 1000).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '')} UTC`;
}

/** A path as the reader knows it: relative to the working folder when it is inside it, else as it is. */
export function displayPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
