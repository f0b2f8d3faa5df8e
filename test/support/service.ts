import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { gunzipSync } from 'node:zlib';
import BetterSqlite3 from 'better-sqlite3';
import { cli, zeekAnomaly } from './cli.js';
import { tempDir } from './paths.js';
import { dataLinesOf } from './read.js';

/**
 * Archive names are in the sensor's local time and the rita sensor ran in UTC; the backend is
 * pinned so every run (and the model trained once for a whole test file) uses the same one.
 */
export const SERVICE_ENV: Readonly<Record<string, string>> = { TZ: 'UTC', ZEEK_ANOMALY_BACKEND: 'wasm' };

/** The longest any wait on the service may take before the test fails, saying what it waited for. */
export const WAIT_MS = 60_000;

/** One line of `watch --log-format json`. */
export interface LogLine {
  time?: string;
  level?: 'info' | 'error';
  event: string;
  [key: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The user the child runs as (the default: this process's own). */
export interface RunAs {
  uid?: number;
  gid?: number;
}

const running = new Set<ServiceProcess>();

/**
 * `zeek-anomaly watch --log-format json …` in a child process. Every stdout line is parsed as it
 * arrives; tests wait for the lines they need (`waitFor`), never for a length of time.
 */
export class ServiceProcess {
  readonly lines: LogLine[] = [];
  /** Resolves when the child has exited, however it ended. */
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private readonly events = new EventEmitter();
  private stderrText = '';
  private exit: Exit | null = null;

  private constructor(args: readonly string[], cwd: string, as: RunAs) {
    this.child = spawn(process.execPath, [cli, ...args], { cwd, env: { ...process.env, ...SERVICE_ENV }, stdio: ['ignore', 'pipe', 'pipe'], ...as });
    running.add(this);
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrText += chunk;
    });
    const stdout = createInterface({ input: this.child.stdout! });
    stdout.on('line', (text) => {
      this.lines.push(parseLine(text));
      this.events.emit('change');
    });
    // 'close' (not 'exit'): stdout has been read to its end, so every line the child wrote is in `lines`.
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal };
        running.delete(this);
        this.events.emit('change');
        resolve(this.exit);
      });
    });
  }

  /** Starts `zeek-anomaly watch --log-format json` with `args` added, in `cwd`. */
  static watch(args: readonly string[], cwd: string, as: RunAs = {}): ServiceProcess {
    return new ServiceProcess(['watch', '--log-format', 'json', ...args], cwd, as);
  }

  get stderr(): string {
    return this.stderrText;
  }

  /**
   * The first line (from index `from` on) that `matches`; fails when the child exits first, `timeoutMs`
   * passes or `signal` aborts (the caller no longer needs it: a race another child won).
   */
  waitFor(what: string, matches: (line: LogLine) => boolean, options: { from?: number; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<LogLine> {
    const timeoutMs = options.timeoutMs ?? WAIT_MS;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.lines.slice(options.from ?? 0).find(matches);
        if (found !== undefined) {
          finish();
          resolve(found);
        } else if (this.exit !== null) {
          finish();
          reject(new Error(`the service exited (${JSON.stringify(this.exit)}) before ${what}\n${this.transcript()}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${what} within ${timeoutMs / 1000} s\n${this.transcript()}`));
      }, timeoutMs);
      const abandon = (): void => {
        finish();
        reject(new Error(`no longer waiting for ${what}`));
      };
      const finish = (): void => {
        clearTimeout(timer);
        this.events.off('change', check);
        options.signal?.removeEventListener('abort', abandon);
      };
      options.signal?.addEventListener('abort', abandon, { once: true });
      this.events.on('change', check);
      check();
    });
  }

  /** The `file` line for `path` (any status). */
  waitForFile(path: string, options: { from?: number; timeoutMs?: number; why?: string } = {}): Promise<LogLine> {
    return this.waitFor(`'file' line for ${path}${options.why === undefined ? '' : ` (${options.why})`}`, (line) => line.event === 'file' && line.file === path, options);
  }

  /** The `scoring` line for `path`: the service has begun reading a new file to score it (hashed, not in the ledger). */
  waitForScoring(path: string, options: { from?: number; timeoutMs?: number } = {}): Promise<LogLine> {
    return this.waitFor(`'scoring' line for ${path}`, (line) => line.event === 'scoring' && line.file === path, options);
  }

  /**
   * Waits until the watcher is surely following the log directory: the `model` line, logged when
   * the first file is taken, which is after the watcher is ready whatever the order of the lines
   * before it (the service now starts watching before it lists the archives and logs `start`; the
   * test of an archive that lands just after `start` is why a signal independent of it is kept).
   * The service must have been started with at least one archive present and the sensor's lease free.
   */
  waitUntilWatching(): Promise<LogLine> {
    return this.waitFor("'model' line (the watcher is ready once the first archive is taken)", (line) => line.event === 'model');
  }

  /** The `file` lines so far, from index `from` on. */
  fileLines(from = 0): LogLine[] {
    return this.lines.slice(from).filter((line) => line.event === 'file');
  }

  /** Sends `signal` and waits for the child to exit (bounded). */
  async stop(signal: NodeJS.Signals, timeoutMs = WAIT_MS): Promise<Exit> {
    if (this.exit === null) this.child.kill(signal);
    return this.waitForExit(`exit after ${signal}`, timeoutMs);
  }

  /** Waits (bounded) for the child to exit by itself, as `watch --once` does. */
  async waitForExit(what = 'exit', timeoutMs = WAIT_MS): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs / 1000} s\n${this.transcript()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** stdout and stderr so far, for failure messages. */
  transcript(): string {
    const out = this.lines.map((line) => JSON.stringify(line)).join('\n');
    return `--- stdout (${this.lines.length} lines)\n${out}\n--- stderr\n${this.stderrText}`;
  }

  /** SIGKILLs the child if it is still running (after a failed test). */
  kill(): void {
    if (this.exit === null) this.child.kill('SIGKILL');
  }
}

/** Kills (by their own handles) the children a failed test left running, and waits for them. */
export async function killLeftoverServices(): Promise<void> {
  const left = [...running];
  for (const service of left) service.kill();
  await Promise.all(left.map((service) => service.exited));
}

function parseLine(text: string): LogLine {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as LogLine).event === 'string') return parsed as LogLine;
  } catch {
    // Not one of the service's lines (a library's message): kept as text.
  }
  return { event: 'unparsed', text };
}

// ---------------------------------------------------------------------------------------------

/** Trains one small model into `<dataDir>/models` with the CLI; tests copy it into their own data dirs. */
export async function trainModel(dataDir: string, logs: string, cwd: string): Promise<string> {
  const result = await zeekAnomaly(['retrain', '--logs', logs, '--epochs', '2', '--json', '--data-dir', dataDir], { env: { ...SERVICE_ENV }, cwd });
  assert.equal(result.code, 0, `retrain failed\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  const outcome = JSON.parse(result.stdout) as { status: string; version: string };
  assert.equal(outcome.status, 'trained');
  return outcome.version;
}

export interface ServiceDirs {
  root: string;
  dataDir: string;
  logDir: string;
  db: string;
  config: string;
  cleanup: () => Promise<void>;
  /** The flags every command of this test is given. */
  flags: string[];
}

/**
 * A fresh temp folder with `data/` (holding a copy of `modelsFrom`'s `models/` when given), an
 * empty `logs/` and a config file: watch.stableMs 200, no scheduled jobs, with `config` merged in (one level deep).
 */
export async function serviceDirs(options: { modelsFrom?: string; config?: Record<string, unknown> } = {}): Promise<ServiceDirs> {
  const { dir: root, cleanup } = await tempDir('zeek-anomaly-service-');
  const dataDir = join(root, 'data');
  const logDir = join(root, 'logs');
  await mkdir(dataDir, { recursive: true });
  await mkdir(logDir, { recursive: true });
  if (options.modelsFrom !== undefined) await cp(join(options.modelsFrom, 'models'), join(dataDir, 'models'), { recursive: true });
  const config = join(root, 'config.json');
  const settings: Record<string, unknown> = { watch: { stableMs: 200 }, retrain: { schedule: null }, retention: { schedule: null } };
  for (const [key, value] of Object.entries(options.config ?? {})) {
    const base = settings[key];
    settings[key] = typeof base === 'object' && typeof value === 'object' ? { ...base, ...value } : value;
  }
  await writeFile(config, JSON.stringify(settings));
  const db = join(dataDir, 'zeek-anomaly.sqlite');
  return { root, dataDir, logDir, db, config, cleanup, flags: ['--config', config, '--data-dir', dataDir, '--log-dir', logDir] };
}

/** Writes `content` (or a copy of the file `content` names) as `<logDir>/<day>/<name>`, as zeekctl archives it; returns the path. */
export async function placeArchive(logDir: string, day: string, name: string, content: Buffer | string): Promise<string> {
  const folder = join(logDir, day);
  await mkdir(folder, { recursive: true });
  const path = join(folder, name);
  // Written rather than copied: the shared files are read-only and a copy would keep their mode.
  await writeFile(path, typeof content === 'string' ? await readFile(content) : content);
  return path;
}

/** The `.log.gz` files of a zeekctl day folder, by name. */
export async function archivesIn(day: string): Promise<string[]> {
  return (await readdir(day))
    .filter((name) => name.endsWith('.log.gz'))
    .sort()
    .map((name) => join(day, name));
}

/** Data rows in a (possibly multi-member) gzipped or plain Zeek TSV log, counted here, not by the reader. */
export function dataRowCount(file: string): number {
  const raw = readFileSync(file);
  return dataLinesOf((raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString('utf8')).length;
}

/** What per-file mode at quantile 0.95 flags: the top 5% of the rows, rounded up. */
export function topFivePercent(rows: number): number {
  return Math.ceil((rows * 5) / 100);
}

export interface LedgerRow {
  id: number;
  path: string;
  sha256: string;
  status: 'done' | 'failed' | 'skipped';
  rows: number | null;
  badLines: number | null;
  flagged: number | null;
  error: string | null;
  duplicateOf: number | null;
  modelVersion: string | null;
}

export interface Ledger {
  files: LedgerRow[];
  /** Anomalies per file id. */
  anomaliesByFile: Map<number, number>;
  anomalies: number;
  integrity: string;
}

/** The files table and anomaly counts, read with a read-only connection of the test's own. */
export function readLedger(db: string): Ledger {
  const conn = new BetterSqlite3(db, { readonly: true, fileMustExist: true });
  try {
    const files = conn
      .prepare<[], LedgerRow>(
        `SELECT id, path, sha256, status, rows, bad_lines AS badLines, flagged, error, duplicate_of AS duplicateOf, model_version AS modelVersion
         FROM files ORDER BY id`,
      )
      .all();
    const anomaliesByFile = new Map<number, number>();
    for (const { fileId, n } of conn.prepare<[], { fileId: number; n: number }>(`SELECT file_id AS fileId, count(*) AS n FROM anomalies GROUP BY file_id`).all()) {
      anomaliesByFile.set(fileId, n);
    }
    const anomalies = conn.prepare<[], number>(`SELECT count(*) FROM anomalies`).pluck().get() ?? 0;
    const integrity = conn.prepare<[], string>(`PRAGMA integrity_check`).pluck().get() ?? '';
    return { files, anomaliesByFile, anomalies, integrity };
  } finally {
    conn.close();
  }
}

/**
 * Checks what must hold whatever happened to the service: the database is intact, every anomaly
 * belongs to a 'done' file, and each 'done' file has exactly `flagged` anomalies.
 */
export function assertConsistent(ledger: Ledger): void {
  assert.equal(ledger.integrity, 'ok', 'PRAGMA integrity_check');
  const done = new Map(ledger.files.filter((f) => f.status === 'done').map((f) => [f.id, f]));
  for (const [fileId, n] of ledger.anomaliesByFile) {
    assert.ok(done.has(fileId), `${n} anomalies belong to file ${fileId}, which is not a 'done' file`);
  }
  for (const file of done.values()) {
    assert.equal(ledger.anomaliesByFile.get(file.id) ?? 0, file.flagged, `anomalies of ${file.path} (id ${file.id}) against its flagged count`);
  }
  const sum = [...done.values()].reduce((total, f) => total + (f.flagged ?? 0), 0);
  assert.equal(ledger.anomalies, sum, 'anomalies in the table against the sum of flagged');
}
