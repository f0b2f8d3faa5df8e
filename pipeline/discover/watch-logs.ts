import { basename } from 'node:path';
import chokidar from 'chokidar';
import { classifyLogPath } from './log-files.js';

export interface WatchLogsOptions {
  dir: string;
  /** A file is reported once its size has not changed for this long: Zeek or gzip may still be writing it. */
  stableMs: number;
  onFile: (path: string) => void;
  onError: (error: Error) => void;
}

/**
 * Reports every rotated conn log that appears (or changes) under `dir` from now on; files already
 * there are the caller's to list (`findConnLogs`). Ignores `current/`, dot-files, temp files and
 * other log types. Resolves once watching has started, with a function that stops it.
 */
export async function watchLogs(options: WatchLogsOptions): Promise<() => Promise<void>> {
  const watcher = chokidar.watch(options.dir, {
    ignoreInitial: true,
    awaitWriteFinish: { stabilityThreshold: options.stableMs, pollInterval: Math.min(250, Math.max(20, options.stableMs / 4)) },
    ignored: (path, stats) => isIgnored(path, stats?.isDirectory()),
  });
  const report = (path: string): void => {
    if (classifyLogPath(path).kind === 'conn-archive') options.onFile(path);
  };
  watcher.on('add', report).on('change', report).on('error', (error) => options.onError(error as Error));
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return () => watcher.close();
}

function isIgnored(path: string, isDirectory: boolean | undefined): boolean {
  const name = basename(path);
  // `current/` holds the logs Zeek is writing; zeekctl moves them into a dated folder when rotated.
  if (name === 'current' || (name.startsWith('.') && name.length > 1)) return true;
  if (isDirectory !== false) return false;
  return classifyLogPath(path).kind === 'ignored';
}
