import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';

/**
 * Where a conn log came from, by the name Zeek gave it:
 * - `zeekctl`: `YYYY-MM-DD/conn.HH:MM:SS-HH:MM:SS[-<logger>].log[.gz]`, written by zeekctl's
 *   `archive-log`/`make-archive-name` and, with the same names, by `zeek-archiver`;
 * - `archiver`: `conn__YYYY-MM-DD-HH-MM-SS__YYYY-MM-DD-HH-MM-SS__[<metadata>__].log[.gz]`, a
 *   rotated log waiting in a supervised cluster's `log-queue/` for `zeek-archiver`;
 * - `standalone`: `conn.YYYY-MM-DD-HH-MM-SS.log[.gz]`, plain `zeek` with rotation on (only the
 *   opening time is in the name);
 * - `plain`: `conn.log`, `<name>.conn.log`, `<name>.conn.json.log`, `<name>.conn.log.labeled`,
 *   CSV/TSV/JSON exports named `<name>.conn.csv` and the like, each optionally gzipped.
 */
export type LogLayout = 'zeekctl' | 'archiver' | 'standalone' | 'plain';

/**
 * A path judged by its name alone; the reader checks the content (`#path`, the columns) later.
 * `start` and `end` bound the connections' start times when the name gives them (`end` is when
 * Zeek rotated the file), and are null when it does not.
 */
export type LogPathClass =
  | { kind: 'conn-archive'; layout: LogLayout; start: Date | null; end: Date | null }
  | { kind: 'ignored'; reason: string };

export interface FoundLog {
  path: string;
  layout: LogLayout;
  start: Date | null;
  end: Date | null;
}

export interface IgnoredPath {
  path: string;
  reason: string;
}

export interface NameTimeOptions {
  /**
   * The zone of the times in file names. Zeek, zeekctl and zeek-archiver write them in the
   * sensor's local time, and this process runs beside the sensor, so `local` (the default) is
   * this process's zone (`TZ`). Use `utc` for archives from a sensor that ran in UTC.
   */
  nameTimeZone?: 'local' | 'utc';
}

export interface FindOptions extends NameTimeOptions {
  /** Keep files that may hold connections at or after this time. */
  since?: Date;
  /** Keep files that may hold connections before this time. */
  until?: Date;
}

export interface FoundLogs {
  /** Oldest first: by start time where the name gives one, then the rest by path. */
  files: FoundLog[];
  ignored: IgnoredPath[];
  /** Conn logs left out because their time range is outside `since`/`until`. */
  outsideRange: number;
}

/** Compressions Zeek's tools can be set to write that the reader does not read (it reads gzip and plain text). */
const UNREAD_COMPRESSIONS = ['.bz2', '.xz', '.zst', '.lz4', '.lz', '.zip', '.7z', '.Z'];
const UNFINISHED_SUFFIXES = ['.tmp', '.temp', '.part', '.partial', '.filepart'];
const EXPORT_SUFFIXES = ['.csv', '.tsv', '.json', '.jsonl'];

const TIME_OF_DAY = '(\\d{2}):(\\d{2}):(\\d{2})';
const DATE_TIME = '(\\d{4})-(\\d{2})-(\\d{2})-(\\d{2})-(\\d{2})-(\\d{2})';
/** `conn.00:00:00-01:00:00.log`, `conn.23:00:00-current.log`, `conn.00:00:00-01:00:00-logger-1.log`. */
const ZEEKCTL_NAME = new RegExp(`^([^.]+)\\.${TIME_OF_DAY}-(?:${TIME_OF_DAY}|(current))(?:-.+)?\\.log$`);
/** `conn__2020-07-16-09-00-00__2020-07-16-10-00-00__.log`, optionally with `log_suffix=logger-1__` before `.log`. */
const ARCHIVER_NAME = new RegExp(`^(.+?)__${DATE_TIME}__${DATE_TIME}__(?:.+__)?\\.log$`);
/** `conn.2024-04-19-15-00-00.log`. */
const STANDALONE_NAME = new RegExp(`^([^.]+)\\.${DATE_TIME}\\.log$`);
const DAY_FOLDER = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Judges one path by its name and folders, without touching the disk. */
export function classifyLogPath(path: string, options: NameTimeOptions = {}): LogPathClass {
  const zone = options.nameTimeZone ?? 'local';
  const name = basename(path);
  const folders = dirname(path).split(/[\\/]/);

  if (name.startsWith('.')) return ignored('a hidden file (zeek-archiver and editors keep unfinished files hidden)');
  if (folders.includes('current')) return ignored('in a current/ folder, where Zeek is still writing');
  const unfinished = UNFINISHED_SUFFIXES.find((suffix) => name.endsWith(suffix));
  if (unfinished !== undefined) return ignored(`an unfinished file (${unfinished})`);

  const unread = UNREAD_COMPRESSIONS.find((suffix) => name.endsWith(suffix));
  const stem = name.endsWith('.gz') ? name.slice(0, -3) : unread === undefined ? name : name.slice(0, -unread.length);
  const judged = classifyStem(stem, folders[folders.length - 1] ?? '', zone);
  if (judged.kind === 'conn-archive' && unread !== undefined) {
    return ignored(`compressed as ${unread}, which the reader does not read (it reads gzip and plain text)`);
  }
  return judged;
}

/**
 * Finds the conn logs among `inputs`, each a file, a folder (walked recursively, following
 * symlinks but never twice into the same folder, and skipping hidden and `current/` folders) or
 * a glob (`*`, `?`, `[…]` and `{a,b}` within a name, `**` for any depth of folders; a folder it
 * matches is walked; a glob does not match symlinks, see `expandGlob`). A file reached twice, through two inputs or a symlink, is listed once.
 *
 * `since` and `until` select files by the time range in their names: a file is kept when that
 * range overlaps [since, until). A file whose name gives no time (`conn.log`, an export), or no end
 * (standalone rotation), is kept where its range is unknown: the reader must still filter its
 * records on `ts`. Note that a file's range is when Zeek wrote its records, which is when each
 * connection ended, while `ts` is when it began: a connection that began before `until` but ended
 * after it is in a file this leaves out. For sampling training rows that edge does not matter.
 *
 * An input that does not exist (or a glob that matches nothing) is an error naming it.
 */
export async function findConnLogs(inputs: readonly string[], options: FindOptions = {}): Promise<FoundLogs> {
  checkRange(options.since, options.until);
  const walk: Walk = { zone: options.nameTimeZone ?? 'local', found: [], ignored: [], folders: new Set(), files: new Set() };

  for (const input of inputs) {
    const info = await statOrNull(input);
    if (info === null) {
      if (!isDynamicPattern(input)) throw new Error(`${input} does not exist; give a conn log, a folder of them or a glob`);
      const matches = await expandGlob(input);
      if (matches.length === 0) throw new Error(`no file or folder matches the glob ${input}`);
      for (const match of matches) await visit(walk, match, false);
    } else if (info.isDirectory()) {
      await walkFolder(walk, input, { isInput: true, viaSymlink: false });
    } else {
      await visit(walk, input, false, { named: true });
    }
  }

  const inRange = walk.found.filter((file) => overlaps(file, options.since, options.until));
  return {
    files: inRange.sort(oldestFirst),
    ignored: walk.ignored,
    outsideRange: walk.found.length - inRange.length,
  };
}

// ---------------------------------------------------------------------------------------------

type Zone = 'local' | 'utc';

interface Walk {
  zone: Zone;
  found: FoundLog[];
  ignored: IgnoredPath[];
  /** Real paths of the folders walked, so a symlink loop or overlapping inputs are walked once. */
  folders: Set<string>;
  /** Real paths of the conn logs found, so a file reached twice is listed once. */
  files: Set<string>;
}

function classifyStem(stem: string, parentFolder: string, zone: Zone): LogPathClass {
  const zeekctl = ZEEKCTL_NAME.exec(stem);
  if (zeekctl !== null) {
    const [, log = '', ...parts] = zeekctl;
    if (log !== 'conn') return notConn(log);
    if (parts[6] === 'current') return ignored("zeekctl's link to the log Zeek is still writing (-current)");
    return zeekctlTimes(stem, parentFolder, parts.slice(0, 6).map(Number), zone);
  }

  const archiver = ARCHIVER_NAME.exec(stem);
  if (archiver !== null) {
    const [, log = '', ...parts] = archiver;
    if (log !== 'conn') return notConn(log);
    const numbers = parts.map(Number);
    const start = wallClock(numbers.slice(0, 6), zone);
    const end = wallClock(numbers.slice(6, 12), zone);
    if (start === null || end === null) return ignored(`${stem} has a time that is not a calendar date and time of day`);
    return { kind: 'conn-archive', layout: 'archiver', start, end };
  }

  const standalone = STANDALONE_NAME.exec(stem);
  if (standalone !== null) {
    const [, log = '', ...parts] = standalone;
    if (log !== 'conn') return notConn(log);
    const start = wallClock(parts.map(Number), zone);
    if (start === null) return ignored(`${stem} has a time that is not a calendar date and time of day`);
    return { kind: 'conn-archive', layout: 'standalone', start, end: null };
  }

  const log = plainLogName(stem);
  if (log === null) {
    return ignored('not named as a conn log (conn.log, conn.<times>.log, <name>.conn.log, <name>.conn.json.log, <name>.conn.log.labeled, optionally .gz)');
  }
  return log === 'conn' ? { kind: 'conn-archive', layout: 'plain', start: null, end: null } : notConn(log);
}

/** The zeekctl folder gives the day the file was opened; an end before the start is on the next day. */
function zeekctlTimes(stem: string, parentFolder: string, times: number[], zone: Zone): LogPathClass {
  const [openHour = 0, openMinute = 0, openSecond = 0, closeHour = 0, closeMinute = 0, closeSecond = 0] = times;
  if (!isTimeOfDay(openHour, openMinute, openSecond) || !isTimeOfDay(closeHour, closeMinute, closeSecond)) {
    return ignored(`${stem} has a time that is not a time of day`);
  }
  const day = DAY_FOLDER.exec(parentFolder);
  const [year, month, date] = day === null ? [] : day.slice(1).map(Number);
  if (year === undefined || month === undefined || date === undefined || wallClock([year, month, date, 0, 0, 0], zone) === null) {
    // Copied out of its day folder: the time of day alone does not place it.
    return { kind: 'conn-archive', layout: 'zeekctl', start: null, end: null };
  }
  const closesNextDay = closeHour * 3600 + closeMinute * 60 + closeSecond < openHour * 3600 + openMinute * 60 + openSecond;
  return {
    kind: 'conn-archive',
    layout: 'zeekctl',
    start: wallClock([year, month, date, openHour, openMinute, openSecond], zone),
    end: wallClock([year, month, date + (closesNextDay ? 1 : 0), closeHour, closeMinute, closeSecond], zone, true),
  };
}

/**
 * The log type a plain name gives: the last dot-separated word before `.log` (after taking off
 * `.labeled` and a `.json` before `.log`), or before an export's `.csv`, `.tsv`, `.json`. Null
 * when the name is neither.
 */
function plainLogName(stem: string): string | null {
  let rest = stem.endsWith('.labeled') ? stem.slice(0, -'.labeled'.length) : stem;
  if (rest.endsWith('.log')) {
    rest = rest.slice(0, -'.log'.length);
    if (rest.endsWith('.json')) rest = rest.slice(0, -'.json'.length);
  } else {
    const exported = EXPORT_SUFFIXES.find((suffix) => rest.endsWith(suffix));
    if (exported === undefined || rest !== stem) return null;
    rest = rest.slice(0, -exported.length);
    // An export must say it is a conn log: `model.json` is not one.
    if (!(rest === 'conn' || rest.endsWith('.conn'))) return null;
  }
  const log = rest.slice(rest.lastIndexOf('.') + 1);
  return log === '' ? null : log;
}

/**
 * A Date from [year, month (1-12), day, hour, minute, second] in `zone`, or null when the fields
 * are not a real date and time of day. With `dayMayOverflow`, day + 1 past the month's end rolls
 * into the next month (for a file closed after midnight).
 */
function wallClock(fields: number[], zone: Zone, dayMayOverflow = false): Date | null {
  const [year = NaN, month = NaN, day = NaN, hour = NaN, minute = NaN, second = NaN] = fields;
  const utc = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const exact = utc.getUTCFullYear() === year && utc.getUTCMonth() === month - 1 && utc.getUTCDate() === day;
  if (!isTimeOfDay(hour, minute, second) || month < 1 || month > 12 || (!exact && !dayMayOverflow)) return null;
  // Local time through the Date constructor, which also places times in a DST change sensibly.
  return zone === 'utc' ? utc : new Date(year, month - 1, day, hour, minute, second);
}

function isTimeOfDay(hour: number, minute: number, second: number): boolean {
  return hour <= 23 && minute <= 59 && second <= 59;
}

async function visit(walk: Walk, path: string, viaSymlink: boolean, how: { named?: boolean } = {}): Promise<void> {
  const info = await statOrNull(path);
  if (info === null) {
    walk.ignored.push({ path, reason: 'a broken symlink' });
  } else if (info.isDirectory()) {
    await walkFolder(walk, path, { isInput: false, viaSymlink });
  } else if (info.isFile()) {
    await addFile(walk, path, how.named === true);
  } else {
    walk.ignored.push({ path, reason: 'not a regular file' });
  }
}

async function walkFolder(walk: Walk, folder: string, how: { isInput: boolean; viaSymlink: boolean }): Promise<void> {
  let entries: Dirent[];
  try {
    const real = await realpath(folder);
    if (walk.folders.has(real)) {
      // Overlapping inputs are expected and not worth a word; a symlink back into the tree is.
      if (how.viaSymlink) walk.ignored.push({ path: folder, reason: `a symlink to ${real}, which is walked already` });
      return;
    }
    walk.folders.add(real);
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    // Removed since its parent was listed (an expiring archive): there is nothing left to find.
    if (errorCode(error) === 'ENOENT' && !how.isInput) return;
    if (how.isInput) throw new Error(`${folder} cannot be read: ${errorCode(error)}`);
    walk.ignored.push({ path: folder, reason: `a folder that cannot be read (${errorCode(error)})` });
    return;
  }
  entries.sort((a, b) => compareText(a.name, b.name));

  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      const skip = skippedFolder(entry.name);
      if (skip === null) await walkFolder(walk, path, { isInput: false, viaSymlink: false });
      else walk.ignored.push({ path, reason: skip });
    } else if (entry.isSymbolicLink()) {
      const skip = skippedFolder(entry.name);
      const target = await statOrNull(path);
      if (target?.isDirectory() && skip !== null) walk.ignored.push({ path, reason: skip });
      else await visit(walk, path, true);
    } else if (entry.isFile()) {
      await addFile(walk, path);
    } else {
      walk.ignored.push({ path, reason: 'not a regular file' });
    }
  }
}

function skippedFolder(name: string): string | null {
  if (name.startsWith('.')) return 'a hidden folder';
  if (name === 'current') return 'a current/ folder, where Zeek is still writing';
  return null;
}

/** A file met in a folder is judged by its name; a file the user named is read whatever its name (the reader judges its content). */
async function addFile(walk: Walk, path: string, named = false): Promise<void> {
  const classified = classifyLogPath(path, { nameTimeZone: walk.zone });
  if (classified.kind === 'ignored' && !named) {
    walk.ignored.push({ path, reason: classified.reason });
    return;
  }
  const judged = classified.kind === 'ignored' ? { layout: 'plain' as const, start: null, end: null } : classified;
  let real: string;
  try {
    real = await realpath(path);
  } catch (error) {
    // zeek-archiver moves queued files away as it archives them; one gone since the listing is not an error.
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  if (walk.files.has(real)) return;
  walk.files.add(real);
  walk.found.push({ path, layout: judged.layout, start: judged.start, end: judged.end });
}

function overlaps(file: FoundLog, since: Date | undefined, until: Date | undefined): boolean {
  if (since !== undefined && file.end !== null && file.end.getTime() <= since.getTime()) return false;
  if (until !== undefined && file.start !== null && file.start.getTime() >= until.getTime()) return false;
  return true;
}

/** Files with a start time, oldest first; then those without, which no time can place, by path. */
function oldestFirst(a: FoundLog, b: FoundLog): number {
  if (a.start !== null && b.start !== null) return a.start.getTime() - b.start.getTime() || compareText(a.path, b.path);
  if (a.start !== null) return -1;
  if (b.start !== null) return 1;
  return compareText(a.path, b.path);
}

function checkRange(since: Date | undefined, until: Date | undefined): void {
  if (since !== undefined && Number.isNaN(since.getTime())) throw new RangeError('since is an invalid date');
  if (until !== undefined && Number.isNaN(until.getTime())) throw new RangeError('until is an invalid date');
  if (since !== undefined && until !== undefined && since.getTime() >= until.getTime()) {
    throw new RangeError(`since (${since.toISOString()}) must be before until (${until.toISOString()})`);
  }
}

/** When an archive's name says its hour began (epoch ms); Infinity for a file whose name says no time. */
export function archiveStartMs(path: string): number {
  const found = classifyLogPath(path);
  return found.kind === 'conn-archive' && found.start !== null ? found.start.getTime() : Number.POSITIVE_INFINITY;
}

/**
 * The files and folders a glob matches, sorted (tinyglobby: `*`, `?`, `[…]`, `{a,b}`, `**`; names
 * starting with a dot only where the pattern says so, as in a shell). Absolute patterns give
 * absolute paths, relative ones paths relative to the working folder. A folder it matches is
 * walked by `walkFolder`.
 *
 * The glob part neither follows nor matches symlinks: followed, `**` would wander through a link
 * back into the tree (or into zeekctl's `current` link to the live logs); and tinyglobby leaves
 * out the links it does not follow (its issue #133). Name a linked file or folder, or a folder
 * above it, directly: a folder named as an input is walked following its links, each folder once.
 * Links in the folders before the glob part are followed.
 */
async function expandGlob(pattern: string): Promise<string[]> {
  // The folders before the first segment with glob syntax are resolved first, links and all: a
  // log directory reached through a symlink (/opt/zeek/logs → /usr/local/zeek/logs is common) is
  // still the place to look. Matches keep the pattern's own spelling of that part.
  const segments = pattern.split('/');
  const firstDynamic = segments.findIndex((segment) => isDynamicPattern(segment));
  const base = segments.slice(0, firstDynamic).join('/') || (isAbsolute(pattern) ? '/' : '');
  let root: string;
  try {
    root = await realpath(base === '' ? '.' : base);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return [];
    throw error;
  }
  const matches = await glob(segments.slice(firstDynamic).join('/'), {
    cwd: root,
    onlyFiles: false,
    // `2024-04-*` matches the day folders themselves, not every file under them.
    expandDirectories: false,
    followSymbolicLinks: false,
  });
  // Folders come back with a trailing slash.
  return matches.map((path) => join(base, path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path)).sort(compareText);
}

async function statOrNull(path: string): Promise<Awaited<ReturnType<typeof stat>> | null> {
  try {
    return await stat(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR' || errorCode(error) === 'ELOOP') return null;
    throw error;
  }
}

function notConn(log: string): LogPathClass {
  return ignored(`named as a ${log} log, not a conn log`);
}

function ignored(reason: string): LogPathClass {
  return { kind: 'ignored', reason };
}

function errorCode(error: unknown): string {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : String(error);
}

/** Code-unit order: the same on every machine, unlike `localeCompare`. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
