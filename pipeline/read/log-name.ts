import { basename } from 'node:path';

// What follows the log's name in the names Zeek's tools give files: extensions and labels…
const SUFFIXES = new Set(['gz', 'log', 'labeled', 'json', 'jsonl', 'csv', 'tsv', 'txt']);
// …and the times of rotated logs: zeekctl's `HH:MM:SS-HH:MM:SS[-logger]`, plain zeek's `YYYY-MM-DD-HH-MM-SS`.
const ROTATION_TIME = /^(\d{2}:\d{2}:\d{2}-|\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$)/;

/**
 * The log a file's name says it holds (`dns` for `dns.13:00:00-14:00:00.log.gz`, `capture.dns.json.log`,
 * `dns__2024-04-19-03-00-00__…__.log` or `dns.log.labeled`), or null when it says none. Only a
 * name: a file's `#path` says more. (pipeline/discover knows these names for finding conn logs;
 * the reader may not import it, and needs only this much.)
 */
export function logTypeFromName(file: string): string | null {
  const name = basename(file);
  // zeek-archiver's `dns__<open>__<close>__.log`.
  const archived = name.indexOf('__');
  const parts = (archived > 0 ? name.slice(0, archived) : name).split('.');
  while (parts.length > 1 && SUFFIXES.has(parts[parts.length - 1]!.toLowerCase())) parts.pop();
  while (parts.length > 1 && ROTATION_TIME.test(parts[parts.length - 1]!)) parts.pop();
  const log = parts[parts.length - 1] ?? '';
  return /^[A-Za-z][\w-]*$/.test(log) ? log : null;
}
