import { execFile, spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { arch, cpus, platform, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { gunzip } from '../../pipeline/read/gunzip.js';
import { readConnLog } from '../../pipeline/read/read-conn-log.js';
import type { ConnRecord } from '../../pipeline/read/conn-record.js';
import { processFile } from '../../pipeline/ledger/process-file.js';
import { ContextState, DEFAULT_CONTEXT_LIMITS } from '../../pipeline/context/context-state.js';
import { ContextKeeper } from '../../pipeline/ledger/context-keeper.js';
import { readThreadFor, type ReadThreadSetting } from '../../pipeline/first-read/read-thread.js';
import { FindingsStage } from '../../pipeline/findings/findings-stage.js';
import { DEFAULT_FINDINGS } from '../../pipeline/findings/findings-settings.js';
import { CONTEXT_FEATURE_NAMES, CONTEXT_WIDTH } from '../../pipeline/context/context-features.js';
import { Preprocessor } from '../../preprocess/preprocessor.js';
import { presetNamed } from '../../preprocess/presets.js';
import { DEFAULT_SCORE_BATCH, DEFAULT_TRAIN_OPTIONS, buildAutoencoder, scoreAll } from '../../model/autoencoder.js';
import { initBackend } from '../../model/backend.js';
import { loadScoringModel } from '../../model/load-scoring-model.js';
import { retrain } from '../../pipeline/train/retrain.js';
import { ModelStore } from '../../model/store.js';
import type { Engine } from '../../db/connection.js';
import { countFiles, listFiles } from '../../db/files.js';
import { openDatabase } from '../../db/open-database.js';
import { startPostgres } from './local-postgres.js';
import { DEFAULTS, retrainSettings } from '../../pipeline/service/config.js';
import { CONN_TSV_FIELDS, SYNTHETIC_NON_DATA_LINES, writeSyntheticConnLog } from '../synthetic-conn-log.js';

const SCRIPT = fileURLToPath(import.meta.url);
const execFileAsync = promisify(execFile);
const ROOT = findRepoRoot(dirname(SCRIPT));
const OUTPUT_DIR = join(ROOT, 'bench-output');

const SEED = 20240419;
/** The sensor the benchmarks' files are scored as. */
const BENCH_SENSOR = 'bench';
// The flags the CLI runs with (its shebang): each case is measured as the service would run it.
const SERVICE_NODE_FLAGS = ['--max-semi-space-size=32'];
// Part of the cached file's name: bump it when the generator changes so stale files are not reused.
const GENERATOR_TAG = 'g1';
// The baselines read with the reader's chunk size, so the comparison is of parsing, not of I/O.
const READ_CHUNK = 1024 * 1024;

const TARGET_ROWS_PER_SECOND = 1_000_000;
const TARGET_PEAK_RSS_MB = 200;

interface BenchFile {
  label: string;
  rows: number;
  path: string;
}

const FILES = {
  '1m': { label: '1M', rows: 1_000_000, path: join(OUTPUT_DIR, `conn-1m-seed${SEED}-${GENERATOR_TAG}.log.gz`) },
  '10m': { label: '10M', rows: 10_000_000, path: join(OUTPUT_DIR, `conn-10m-seed${SEED}-${GENERATOR_TAG}.log.gz`) },
} satisfies Record<string, BenchFile>;

type CaseName =
  | 'gunzip-only'
  | 'split-tabs'
  | 'zlib-sync-only'
  | 'split-tabs-one-core'
  | 'csv-parse'
  | 'reader-tsv-gz'
  | 'reader-tsv-gz-10m'
  | 'preprocess-default'
  | 'preprocess-seed'
  | 'context-1m'
  | 'context-keys-10m'
  | 'score-wasm'
  | 'retrain-1m'
  | 'score-e2e-1m'
  | 'score-e2e-1m-no-thread'
  | 'score-e2e-1m-context'
  | 'score-e2e-1m-context-no-thread'
  | 'score-e2e-1m-context-taskset-0'
  | 'score-e2e-1m-findings'
  | 'score-e2e-10m-context'
  | 'score-e2e-10m-context-no-thread'
  | 'seed-peer'
  | 'score-e2e-10m'
  | 'score-e2e-1m-context-postgres'
  | 'catch-up-1-scorer'
  | 'catch-up-3-scorers';

interface BenchCase {
  name: CaseName;
  file: BenchFile;
  /**
   * Runs the case and returns the rows it handled (and, when setup must not count, the seconds of
   * the measured part; for the cases that write to the database, how long they held its write
   * lock); throws when the rows are not what was written.
   */
  run(file: BenchFile): Promise<number | Measured>;
}

interface Measured {
  rows: number;
  seconds: number;
  /** BEGIN IMMEDIATE to the end of COMMIT, for the cases that store a scored file. */
  lockSeconds?: number;
  /** The peak RSS of the process that did the work, when that is not the case's own (seed-peer's Python). */
  workerRssKb?: number;
}

/** A case that cannot run on this machine (Python or pandas missing): said, and left out of the table. */
class SkippedCase extends Error {}

const CASES: readonly BenchCase[] = [
  { name: 'gunzip-only', file: FILES['1m'], run: gunzipOnly },
  { name: 'split-tabs', file: FILES['1m'], run: splitTabs },
  { name: 'zlib-sync-only', file: FILES['1m'], run: zlibSyncOnly },
  { name: 'split-tabs-one-core', file: FILES['1m'], run: splitTabsOneCore },
  { name: 'csv-parse', file: FILES['1m'], run: csvParse },
  { name: 'reader-tsv-gz', file: FILES['1m'], run: reader },
  { name: 'reader-tsv-gz-10m', file: FILES['10m'], run: reader },
  { name: 'preprocess-default', file: FILES['1m'], run: (file) => preprocessCase(file, 'default') },
  { name: 'preprocess-seed', file: FILES['1m'], run: (file) => preprocessCase(file, 'seed') },
  { name: 'context-1m', file: FILES['1m'], run: contextCase },
  { name: 'context-keys-10m', file: FILES['1m'], run: contextKeysCase },
  { name: 'score-wasm', file: FILES['1m'], run: scoreCase },
  { name: 'retrain-1m', file: FILES['1m'], run: retrainCase },
  { name: 'score-e2e-1m', file: FILES['1m'], run: (file) => scoreEndToEnd(file, false) },
  { name: 'score-e2e-1m-no-thread', file: FILES['1m'], run: (file) => scoreEndToEnd(file, false, false, 'sqlite', 'off') },
  { name: 'score-e2e-1m-context', file: FILES['1m'], run: (file) => scoreEndToEnd(file, true) },
  { name: 'score-e2e-1m-context-no-thread', file: FILES['1m'], run: (file) => scoreEndToEnd(file, true, false, 'sqlite', 'off') },
  // Spawned under `taskset -c 0` (see `spawnCase`): one core, where "auto" starts no read thread.
  { name: 'score-e2e-1m-context-taskset-0', file: FILES['1m'], run: (file) => scoreEndToEnd(file, true) },
  { name: 'score-e2e-1m-findings', file: FILES['1m'], run: (file) => scoreEndToEnd(file, true, true) },
  { name: 'score-e2e-10m', file: FILES['10m'], run: (file) => scoreEndToEnd(file, false) },
  { name: 'score-e2e-10m-context', file: FILES['10m'], run: (file) => scoreEndToEnd(file, true) },
  { name: 'score-e2e-10m-context-no-thread', file: FILES['10m'], run: (file) => scoreEndToEnd(file, true, false, 'sqlite', 'off') },
  { name: 'seed-peer', file: FILES['1m'], run: seedPeer },
  { name: 'score-e2e-1m-context-postgres', file: FILES['1m'], run: (file) => scoreEndToEnd(file, true, false, 'postgres') },
  { name: 'catch-up-1-scorer', file: FILES['1m'], run: () => catchUp(1) },
  { name: 'catch-up-3-scorers', file: FILES['1m'], run: () => catchUp(3) },
];
const DEFAULT_CASES: readonly CaseName[] = [
  'gunzip-only',
  'split-tabs',
  'zlib-sync-only',
  'split-tabs-one-core',
  'csv-parse',
  'reader-tsv-gz',
  'preprocess-default',
  'preprocess-seed',
  'context-1m',
  'score-wasm',
  'score-e2e-1m',
  'score-e2e-1m-no-thread',
  'score-e2e-1m-context',
  'score-e2e-1m-context-no-thread',
  'score-e2e-1m-context-taskset-0',
  'score-e2e-1m-findings',
  'score-e2e-1m-context-postgres',
  'catch-up-1-scorer',
  'catch-up-3-scorers',
  'seed-peer',
];
const REFERENCE_CASE: CaseName = 'split-tabs';
// The original notebook system's batch step, re-created in ../shared/bench/seed_peer.py; issue 12's
// target is end-to-end scoring with context at 3.6 times its rows/s, measured in the same run.
const PEER_CASE: CaseName = 'seed-peer';
const PEER_TARGET_RATIO = 3.6;
// With the one core `taskset -c 0` leaves, so that scoring does not starve a busy sensor host.
const ONE_CORE_TARGET_ROWS_PER_SECOND = 250_000;
const PEER_SCRIPT = join(process.env.ZEEK_ANOMALY_SHARED_DATA === undefined ? join(ROOT, '..', 'shared') : dirname(process.env.ZEEK_ANOMALY_SHARED_DATA), 'bench', 'seed_peer.py');
// Debian's Python, where python3-pandas lives (../shared/bench/README.md), not another on the PATH.
const PEER_PYTHON = '/usr/bin/python3';

// ---------------------------------------------------------------------------------------------
// The cases. Each runs alone in a fresh process so that its peak RSS is its own.

async function gunzipOnly(file: BenchFile): Promise<number> {
  let newlines = 0;
  await pipeline(createReadStream(file.path, { highWaterMark: READ_CHUNK }), createGunzip(), async (chunks: AsyncIterable<Buffer>) => {
    for await (const chunk of chunks) {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) newlines++;
    }
  });
  const rows = newlines - SYNTHETIC_NON_DATA_LINES;
  expectRows('gunzip-only', file, rows);
  return rows;
}

// Node's gunzip inflates on the libuv thread pool, so the two cases above use a second core.
// These two inflate on the main thread with zlib-sync, as the reader does: the one-core baselines.
async function zlibSyncOnly(file: BenchFile): Promise<number> {
  let newlines = 0;
  for await (const chunk of gunzip(createReadStream(file.path, { highWaterMark: READ_CHUNK }))) {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) newlines++;
  }
  const rows = newlines - SYNTHETIC_NON_DATA_LINES;
  expectRows('zlib-sync-only', file, rows);
  return rows;
}

async function splitTabsOneCore(file: BenchFile): Promise<number> {
  return splitTabsOf(file, 'split-tabs-one-core', gunzip(createReadStream(file.path, { highWaterMark: READ_CHUNK })));
}

async function splitTabs(file: BenchFile): Promise<number> {
  let rows = 0;
  await pipeline(createReadStream(file.path, { highWaterMark: READ_CHUNK }), createGunzip(), async (chunks: AsyncIterable<Buffer>) => {
    rows = await splitTabsOf(file, 'split-tabs', chunks);
  });
  return rows;
}

async function splitTabsOf(file: BenchFile, name: string, chunks: AsyncIterable<Buffer>): Promise<number> {
  let rows = 0;
  let badRows = 0;
  const take = (line: string): void => {
    if (line.length === 0 || line.charCodeAt(0) === 35 /* # */) return;
    if (line.split('\t').length === CONN_TSV_FIELDS.length) rows++;
    else badRows++;
  };
  const decoder = new StringDecoder('utf8');
  let carry = '';
  for await (const chunk of chunks) {
    const lines = (carry + decoder.write(chunk)).split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) take(line);
  }
  take(carry + decoder.end());
  if (badRows > 0) throw new Error(`${name}: ${badRows} lines without ${CONN_TSV_FIELDS.length} fields`);
  expectRows(name, file, rows);
  return rows;
}

async function csvParse(file: BenchFile): Promise<number> {
  let rows = 0;
  let badRows = 0;
  const parser = parse({ delimiter: '\t', relax_column_count: true, quote: false, comment: '#', comment_no_infix: true });
  await pipeline(createReadStream(file.path, { highWaterMark: READ_CHUNK }), createGunzip(), parser, async (records: AsyncIterable<string[]>) => {
    for await (const record of records) {
      if (record.length === CONN_TSV_FIELDS.length) rows++;
      else badRows++;
    }
  });
  if (badRows > 0) throw new Error(`csv-parse: ${badRows} records without ${CONN_TSV_FIELDS.length} fields`);
  expectRows('csv-parse', file, rows);
  return rows;
}

async function reader(file: BenchFile): Promise<number> {
  const log = readConnLog(file.path);
  let rows = 0;
  for await (const batch of log) rows += batch.length;
  // A reader that drops or mangles rows must not be able to post a good figure.
  const s = log.summary;
  const problems: string[] = [];
  if (s.format !== 'zeek-tsv') problems.push(`format ${s.format}`);
  if (s.compression !== 'gzip') problems.push(`compression ${s.compression}`);
  if (s.rows !== rows) problems.push(`summary.rows ${s.rows} but ${rows} records yielded`);
  if (s.badLines !== 0) problems.push(`${s.badLines} bad lines (first: ${JSON.stringify(s.badLineSamples[0] ?? null)})`);
  if (s.truncated) problems.push('reported as truncated');
  if (problems.length > 0) throw new Error(`reader: ${problems.join('; ')}`);
  expectRows('reader', file, rows);
  return rows;
}

// Preprocessing and scoring are timed on rows already in memory: reading is its own case above.
const IN_MEMORY_ROWS = 300_000;
const TIMED_REPEATS = 3;

async function firstRows(file: BenchFile, count: number): Promise<ConnRecord[]> {
  const rows: ConnRecord[] = [];
  for await (const batch of readConnLog(file.path)) {
    for (const record of batch) rows.push(record);
    if (rows.length >= count) break;
  }
  return rows.slice(0, count);
}

/** Fit once, then transform every row in blocks, as scoring does; the best of a few repeats after a warm-up. */
async function preprocessCase(file: BenchFile, preset: 'default' | 'seed'): Promise<{ rows: number; seconds: number }> {
  const rows = await firstRows(file, IN_MEMORY_ROWS);
  const preprocessor = Preprocessor.fit(rows, presetNamed(preset));
  const block = 8192;
  const out = new Float32Array(block * preprocessor.width);
  const times: number[] = [];
  for (let repeat = 0; repeat <= TIMED_REPEATS; repeat++) {
    const started = performance.now();
    for (let i = 0; i < rows.length; i += block) preprocessor.transform(rows.slice(i, i + block), out);
    if (repeat > 0) times.push((performance.now() - started) / 1000);
  }
  return { rows: rows.length, seconds: median(times) };
}

/**
 * The context stage alone on the whole file: every row counted into a fresh state and its context
 * features written. The file is streamed; only the stage's own time is summed.
 */
async function contextCase(file: BenchFile): Promise<{ rows: number; seconds: number }> {
  const out = new Float32Array(8192 * CONTEXT_WIDTH);
  const times: number[] = [];
  let rows = 0;
  for (let repeat = 0; repeat <= TIMED_REPEATS; repeat++) {
    const state = new ContextState();
    let seconds = 0;
    rows = 0;
    for await (const batch of readConnLog(file.path)) {
      const started = performance.now();
      state.observeAll(batch, out.length >= batch.length * CONTEXT_WIDTH ? out : new Float32Array(batch.length * CONTEXT_WIDTH));
      seconds += (performance.now() - started) / 1000;
      rows += batch.length;
    }
    if (repeat > 0) times.push(seconds);
  }
  expectRows('context-1m', file, rows);
  return { rows, seconds: median(times) };
}

/**
 * The context stage's memory bound: 10M connections from 1M distinct source hosts to 10M distinct
 * channels (each source to ten destinations, one each hour-second apart), made in memory, through a
 * state with the default limits. The tables fill and evict; peak RSS is what a sensor with that
 * many keys would hold. (The file is not read: it only names the case's row count.)
 */
function contextKeysCase(): Promise<{ rows: number; seconds: number }> {
  const hosts = Array.from({ length: 1_000_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  const destinations = Array.from({ length: 10 }, (_, i) => `198.51.100.${i + 1}`);
  const record: ConnRecord = {
    ts: 1_700_000_000, uid: null, 'id.orig_h': '', 'id.orig_p': 40000, 'id.resp_h': '', 'id.resp_p': 443, proto: 'tcp', service: null,
    duration: 1, orig_bytes: 100, resp_bytes: 1000, conn_state: 'SF', local_orig: null, local_resp: null, missed_bytes: 0, history: 'ShADadFf',
    orig_pkts: 5, orig_ip_bytes: 400, resp_pkts: 5, resp_ip_bytes: 1300, tunnel_parents: null, ip_proto: 6, extras: null,
  };
  const state = new ContextState();
  const out = new Float32Array(CONTEXT_WIDTH);
  const rows = 10_000_000;
  const started = performance.now();
  for (let i = 0; i < rows; i++) {
    record.ts = 1_700_000_000 + i / 1000;
    record['id.orig_h'] = hosts[i % hosts.length]!;
    record['id.resp_h'] = destinations[Math.floor(i / hosts.length)]!;
    state.observe(record, out, 0);
  }
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(`context-keys-10m: ${JSON.stringify(state.sizes())}\n`);
  return Promise.resolve({ rows, seconds });
}

/** The autoencoder's forward pass and per-feature errors on the default preset's width, at the default batch size. */
async function scoreCase(file: BenchFile): Promise<{ rows: number; seconds: number }> {
  const rows = await firstRows(file, IN_MEMORY_ROWS);
  const preprocessor = Preprocessor.fit(rows, presetNamed('default'));
  const x = preprocessor.transform(rows);
  const { tf, name } = await initBackend({ prefer: 'wasm' });
  if (name !== 'wasm') throw new Error(`score-wasm ran on ${name}`);
  const model = buildAutoencoder(tf, preprocessor.width, 1);
  const times: number[] = [];
  for (let repeat = 0; repeat <= TIMED_REPEATS; repeat++) {
    const started = performance.now();
    scoreAll(tf, model, x, rows.length, preprocessor.width, DEFAULT_SCORE_BATCH);
    if (repeat > 0) times.push((performance.now() - started) / 1000);
  }
  return { rows: rows.length, seconds: median(times) };
}

/**
 * `retrain` of the whole 1M-row file as the configuration's defaults say (`retrain.*`: the sample,
 * the preset, the training options): read, sample, fit, train, evaluate, save. Rows/s is of the
 * rows read, so that a smaller sample shows as a faster retrain.
 */
async function retrainCase(file: BenchFile): Promise<{ rows: number; seconds: number }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'zeek-anomaly-bench-'));
  try {
    const backend = await initBackend({ prefer: 'wasm' });
    const started = performance.now();
    const settings = retrainSettings(DEFAULTS);
    const outcome = await retrain(backend, new ModelStore({ dataDir }), { ...settings, logs: [file.path], seed: 1, activate: true });
    if (outcome.status !== 'trained') throw new Error(`retrain failed: ${outcome.status === 'failed' ? outcome.reason : 'stopped'}`);
    process.stderr.write(
      `retrain-1m: ${settings.sampling} sample of ${outcome.rowsUsed.toLocaleString('en-US')} of ${outcome.rowsSeen.toLocaleString('en-US')} rows, ${outcome.epochs} epochs, test loss ${outcome.testLoss.toFixed(4)}, ${outcome.seconds.toFixed(1)} s\n`,
    );
    expectRows('retrain', file, outcome.rowsSeen);
    return { rows: outcome.rowsSeen, seconds: (performance.now() - started) / 1000 };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * `score` of a whole file into a fresh store (a SQLite file, or a database on a PostgreSQL server
 * this process starts, with PostgreSQL's default durability) with a model trained (once, cached) on
 * a sample of the 1M file: hashing, reading, featurising, scoring, the exact top 5% and the insert.
 */
async function scoreEndToEnd(file: BenchFile, withContext: boolean, withFindings = false, engine: Engine = 'sqlite', thread: ReadThreadSetting = DEFAULTS.read.thread): Promise<Measured> {
  const backend = await initBackend({ prefer: 'wasm' });
  const store = new ModelStore({ dataDir: join(OUTPUT_DIR, withContext ? 'model-for-scoring-context' : 'model-for-scoring') });
  if ((await store.activeVersion()) === null) {
    const outcome = await retrain(backend, store, {
      logs: [FILES['1m'].path],
      maxRows: 100_000,
      preset: presetNamed('default'),
      train: { ...DEFAULT_TRAIN_OPTIONS, maxEpochs: 10 },
      seed: 1,
      activate: true,
      context: withContext ? { limits: DEFAULT_CONTEXT_LIMITS } : false,
    });
    if (outcome.status !== 'trained') throw new Error(`training the scoring model failed: ${outcome.status === 'failed' ? outcome.reason : 'stopped'}`);
  }
  const model = await loadScoringModel(backend.tf, store, { contextColumns: CONTEXT_FEATURE_NAMES });
  const dir = await mkdtemp(join(tmpdir(), 'zeek-anomaly-bench-'));
  const server = engine === 'postgres' ? await startPostgres({ durable: true }) : null;
  const db = openDatabase(server === null ? join(dir, 'bench.sqlite') : server.newDatabaseUrl());
  try {
    const started = performance.now();
    const context = withContext ? ContextKeeper.load(db, BENCH_SENSOR, DEFAULT_CONTEXT_LIMITS) : undefined;
    const findings = withFindings ? new FindingsStage(DEFAULT_FINDINGS) : undefined;
    const readThread = readThreadFor(thread);
    const outcome = await processFile({ db, sensor: BENCH_SENSOR, tf: backend.tf, model, context, readThread, findings, options: { mode: 'per-file', quantile: 0.95 } }, file.path).finally(() => readThread?.close());
    const seconds = (performance.now() - started) / 1000;
    if (outcome.status !== 'done') throw new Error(`score: ${JSON.stringify(outcome)}`);
    if (outcome.flagged !== Math.ceil(0.05 * file.rows)) throw new Error(`score flagged ${outcome.flagged}, not the top 5% of ${file.rows}`);
    expectRows('score', file, outcome.rows);
    process.stderr.write(`${file.label}: stored ${outcome.flagged} anomalies holding the write lock ${outcome.lockSeconds.toFixed(2)} s${outcome.findings === null ? '' : `; findings ${JSON.stringify(outcome.findings)}`}\n`);
    return { rows: outcome.rows, seconds, lockSeconds: outcome.lockSeconds };
  } finally {
    db.close();
    server?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

// The catch-up: a scorer down for most of a day comes back to this many hourly archives.
const CATCH_UP_ARCHIVES = 20;
const CATCH_UP_ROWS_PER_ARCHIVE = 50_000;

/**
 * `scorers` processes of `watch --once`, one sensor, one log directory of 20 hourly archives
 * (50,000 rows each, generated once and cached) and one PostgreSQL store: the wall time from
 * their start until the last has exited, every archive done. Rows/s is of all 20 archives' rows.
 */
async function catchUp(scorers: number): Promise<Measured> {
  const logDir = join(OUTPUT_DIR, `catch-up-${CATCH_UP_ARCHIVES}x${CATCH_UP_ROWS_PER_ARCHIVE}-${GENERATOR_TAG}`);
  for (let hour = 0; hour < CATCH_UP_ARCHIVES; hour++) {
    const name = `conn.${String(hour).padStart(2, '0')}:00:00-${String(hour + 1).padStart(2, '0')}:00:00.log.gz`;
    const path = join(logDir, '2024-04-19', name);
    if (existsSync(path)) continue;
    await mkdir(dirname(path), { recursive: true });
    await writeSyntheticConnLog(path, { rows: CATCH_UP_ROWS_PER_ARCHIVE, seed: SEED + hour, gzip: true, startTs: 1713484800 + hour * 3600 });
  }
  const dataDir = join(OUTPUT_DIR, 'model-for-scoring-context');
  if (!existsSync(join(dataDir, 'models'))) await scoreEndToEnd(FILES['1m'], true); // trains and caches the model
  const server = await startPostgres({ durable: true });
  try {
    const url = server.newDatabaseUrl();
    openDatabase(url).close(); // migrated before the clock starts
    const cli = join(ROOT, 'dist', 'scripts', 'cli.js');
    const args = [...SERVICE_NODE_FLAGS, cli, 'watch', '--once', '--log-format', 'json', '--log-dir', logDir, '--data-dir', dataDir, '--db', url, '--sensor', BENCH_SENSOR];
    const env = { ...process.env, ZEEK_ANOMALY_BACKEND: 'wasm', ZEEK_ANOMALY_CONFIG: '' };
    const started = performance.now();
    const codes = await Promise.all(Array.from({ length: scorers }, () => execFileAsync(process.execPath, args, { env, maxBuffer: 64 * 1024 * 1024 }).then(() => 0)));
    const seconds = (performance.now() - started) / 1000;
    if (codes.some((code) => code !== 0)) throw new Error(`a scorer failed: ${JSON.stringify(codes)}`);
    const db = openDatabase(url, { readonly: true });
    try {
      const done = countFiles(db, BENCH_SENSOR).done;
      if (done !== CATCH_UP_ARCHIVES) throw new Error(`catch-up: ${done} archives done, not ${CATCH_UP_ARCHIVES}`);
      const rows = listFiles(db, { sensor: BENCH_SENSOR }).reduce((sum, file) => sum + (file.rows ?? 0), 0);
      process.stderr.write(`catch-up with ${scorers} scorer(s): ${CATCH_UP_ARCHIVES} archives in ${seconds.toFixed(1)} s\n`);
      return { rows, seconds };
    } finally {
      db.close();
    }
  } finally {
    server.stop();
  }
}

/**
 * ../shared/bench/seed_peer.py on the same file: pandas read, the original preprocessing, a numpy
 * forward pass, the 95th percentile and its SQLite append. Its own rows/s is what it prints; its
 * peak RSS comes from /usr/bin/time when that is installed.
 */
async function seedPeer(file: BenchFile): Promise<Measured> {
  if (!existsSync(PEER_SCRIPT)) throw new SkippedCase(`${PEER_SCRIPT} is not there (../shared/bench beside the repository)`);
  try {
    await execFileAsync(PEER_PYTHON, ['-c', 'import pandas, numpy']);
  } catch (error) {
    const why = (error as { stderr?: string }).stderr?.trim().split('\n').at(-1) ?? (error as Error).message;
    throw new SkippedCase(`${PEER_PYTHON} with pandas is missing (apt-get install -y python3-pandas): ${why}`);
  }
  const timed = existsSync('/usr/bin/time');
  const command = timed ? ['/usr/bin/time', '-f', 'peak-rss-kb=%M', PEER_PYTHON] : [PEER_PYTHON];
  const started = performance.now();
  // A failure throws, with the script's stderr in the message.
  const run = await execFileAsync(command[0]!, [...command.slice(1), PEER_SCRIPT, file.path], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const seconds = (performance.now() - started) / 1000;
  const rowsPerSecond = Number(/rows_per_s=([\d.]+)/.exec(run.stdout)?.[1]);
  const rows = Number(/rows=(\d+)/.exec(run.stdout)?.[1] ?? file.rows);
  if (!(rowsPerSecond > 0)) throw new Error(`seed_peer.py printed no rows_per_s: ${run.stdout}`);
  expectRows('seed-peer', file, rows);
  const rss = Number(/peak-rss-kb=(\d+)/.exec(run.stderr)?.[1]);
  process.stderr.write(`seed-peer: ${run.stdout.trim()} (${seconds.toFixed(1)} s with Python's start)\n`);
  // Its own figure, which leaves out the interpreter's start, as ours leave out Node's.
  return { rows, seconds: rows / rowsPerSecond, ...(Number.isFinite(rss) ? { workerRssKb: rss } : {}) };
}

function expectRows(name: string, file: BenchFile, rows: number): void {
  if (rows !== file.rows) throw new Error(`${name}: read ${rows} rows from ${file.path}, which holds ${file.rows}`);
}

// ---------------------------------------------------------------------------------------------
// Child side

interface ChildResult extends Measured {
  maxRssKb: number;
}

async function runChild(name: string): Promise<void> {
  const bench = CASES.find((c) => c.name === name);
  if (bench === undefined) throw new Error(`unknown case ${name}`);
  const started = performance.now();
  let measured: number | Measured;
  try {
    measured = await bench.run(bench.file);
  } catch (error) {
    if (!(error instanceof SkippedCase)) throw error;
    process.stdout.write(`${JSON.stringify({ skipped: error.message })}\n`);
    return;
  }
  const { workerRssKb, ...result } = typeof measured === 'number' ? { rows: measured, seconds: (performance.now() - started) / 1000, workerRssKb: undefined } : measured;
  process.stdout.write(`${JSON.stringify({ ...result, maxRssKb: workerRssKb ?? process.resourceUsage().maxRSS } satisfies ChildResult)}\n`);
}

// ---------------------------------------------------------------------------------------------
// Parent side

function spawnCase(name: CaseName): Promise<ChildResult | { skipped: string }> {
  return new Promise((resolve, reject) => {
    const node = [process.execPath, ...process.execArgv, ...SERVICE_NODE_FLAGS, SCRIPT, '--child', name];
    const [command, ...args] = name.endsWith('-taskset-0') ? ['taskset', '-c', '0', ...node] : node;
    const child = spawn(command!, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (data: string) => (out += data));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`case ${name} failed (exit ${signal ?? code}); its error is above`));
        return;
      }
      try {
        resolve(parseChildResult(out));
      } catch (error) {
        reject(new Error(`case ${name} printed no result: ${String(error)}`));
      }
    });
  });
}

function parseChildResult(out: string): ChildResult | { skipped: string } {
  const last = out.trim().split('\n').pop() ?? '';
  const value = JSON.parse(last) as Partial<ChildResult> & { skipped?: unknown };
  if (typeof value.skipped === 'string') return { skipped: value.skipped };
  const { rows, seconds, maxRssKb, lockSeconds } = value;
  if (typeof rows !== 'number' || typeof seconds !== 'number' || typeof maxRssKb !== 'number') throw new Error(last);
  if (lockSeconds !== undefined && typeof lockSeconds !== 'number') throw new Error(last);
  return { rows, seconds, maxRssKb, ...(lockSeconds === undefined ? {} : { lockSeconds }) };
}

async function ensureFile(file: BenchFile): Promise<void> {
  if (existsSync(file.path)) return;
  console.log(`generating ${relative(ROOT, file.path)} (${file.label} rows, seed ${SEED}); cached for later runs…`);
  const started = performance.now();
  await writeSyntheticConnLog(file.path, { rows: file.rows, seed: SEED, gzip: true });
  console.log(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** A single-member gzip file records its uncompressed size (mod 2^32) in its last four bytes. */
async function gzipUncompressedSize(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const trailer = Buffer.alloc(4);
    await handle.read(trailer, 0, 4, size - 4);
    return trailer.readUInt32LE(0);
  } finally {
    await handle.close();
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] ?? NaN;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] ?? NaN) + hi) / 2;
}

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
const thousands = (n: number): string => Math.round(n).toLocaleString('en-US');

interface CaseSummary {
  name: CaseName;
  file: BenchFile;
  rowsPerSecond: number;
  peakRssMb: number;
  /** The median write lock time of its runs, for the cases that store a scored file. */
  lockSeconds: number | undefined;
  runs: number;
}

function table(summaries: readonly CaseSummary[]): string {
  const reference = summaries.find((s) => s.name === REFERENCE_CASE)?.rowsPerSecond;
  const lines = [
    `| case | median rows/s | vs ${REFERENCE_CASE} | peak RSS MB | write lock s | runs |`,
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const s of summaries) {
    const ratio = reference === undefined ? '—' : `${(s.rowsPerSecond / reference).toFixed(2)}×`;
    const lock = s.lockSeconds === undefined ? '—' : s.lockSeconds.toFixed(2);
    lines.push(`| ${s.name} | ${thousands(s.rowsPerSecond)} | ${ratio} | ${s.peakRssMb.toFixed(1)} | ${lock} | ${s.runs} |`);
  }
  return lines.join('\n');
}

async function runParent(args: string[], runs: number, selected: readonly BenchCase[]): Promise<void> {
  const files = [...new Set(selected.map((c) => c.file))];
  for (const file of files) await ensureFile(file);

  const results = new Map<CaseName, ChildResult[]>(selected.map((c) => [c.name, []]));
  const skipped = new Map<CaseName, string>();
  // Runs interleave the cases, so a noisy moment on the machine spreads over all of them.
  for (let run = 1; run <= runs; run++) {
    for (const bench of selected) {
      if (skipped.has(bench.name)) continue;
      const result = await spawnCase(bench.name);
      if ('skipped' in result) {
        skipped.set(bench.name, result.skipped);
        console.log(`${bench.name}: skipped: ${result.skipped}`);
        continue;
      }
      results.get(bench.name)?.push(result);
      const lock = result.lockSeconds === undefined ? '' : `, write lock held ${result.lockSeconds.toFixed(2)} s`;
      console.log(`run ${run}/${runs} ${bench.name}: ${thousands(result.rows / result.seconds)} rows/s, ${(result.maxRssKb / 1024).toFixed(1)} MB${lock}`);
    }
  }

  const summaries: CaseSummary[] = selected.filter((bench) => !skipped.has(bench.name)).map((bench) => {
    const rs = results.get(bench.name) ?? [];
    return {
      name: bench.name,
      file: bench.file,
      rowsPerSecond: median(rs.map((r) => r.rows / r.seconds)),
      peakRssMb: Math.max(...rs.map((r) => r.maxRssKb / 1024)),
      lockSeconds: rs.some((r) => r.lockSeconds !== undefined) ? median(rs.flatMap((r) => (r.lockSeconds === undefined ? [] : [r.lockSeconds]))) : undefined,
      runs: rs.length,
    };
  });

  const fileLines: string[] = [];
  for (const file of files) {
    const gz = (await stat(file.path)).size;
    const raw = await gzipUncompressedSize(file.path);
    fileLines.push(
      `- ${relative(ROOT, file.path)}: ${thousands(file.rows)} rows, ${mb(gz)} MB gzip, ${mb(raw)} MB uncompressed (${(raw / gz).toFixed(1)}:1)`,
    );
  }
  const cpu = cpus();
  const report = [
    `## zeek-anomaly read benchmark, ${new Date().toISOString()}`,
    '',
    table(summaries),
    '',
    `- node ${process.version}, ${platform()} ${arch()}, ${cpu[0]?.model ?? 'unknown CPU'} (${cpu.length} logical CPUs)`,
    ...fileLines,
    `- median of ${runs} runs per case, each run a fresh process; peak RSS is the largest maxRSS of its runs`,
    '- write lock: for the score cases, the median time the database write lock was held to store the file (BEGIN IMMEDIATE to the end of COMMIT)',
    `- command: \`${['node', relative(process.cwd(), SCRIPT), ...args].join(' ')}\``,
    ...[...skipped].map(([name, why]) => `- ${name}: skipped: ${why}`),
    ...peerLines(summaries),
    ...pairedCaseLines(summaries),
    '',
  ].join('\n');
  console.log(`\n${report}`);

  const target = summaries.find((s) => s.name === 'reader-tsv-gz');
  if (target !== undefined) {
    const met = target.rowsPerSecond >= TARGET_ROWS_PER_SECOND && target.peakRssMb < TARGET_PEAK_RSS_MB;
    console.log(
      `reader-tsv-gz target (≥ ${thousands(TARGET_ROWS_PER_SECOND)} rows/s, < ${TARGET_PEAK_RSS_MB} MB): ${met ? 'met' : 'NOT met'}`,
    );
  }
  await mkdir(OUTPUT_DIR, { recursive: true });
  await writeFile(join(OUTPUT_DIR, 'last-run.md'), report);
}

/** Each end-to-end case against the original system's batch step on the same file, in this run. */
function peerLines(summaries: readonly CaseSummary[]): string[] {
  const peer = summaries.find((s) => s.name === PEER_CASE);
  if (peer === undefined) return [];
  return summaries
    .filter((s) => s.name.startsWith('score-e2e-') && s.file === peer.file)
    .map((s) => {
      const ratio = s.rowsPerSecond / peer.rowsPerSecond;
      const target = s.name === 'score-e2e-1m-context' ? ` (target ≥ ${PEER_TARGET_RATIO}×: ${ratio >= PEER_TARGET_RATIO ? 'met' : 'NOT met'})` : '';
      return `- ${s.name} against ${PEER_CASE}: ${thousands(s.rowsPerSecond)} / ${thousands(peer.rowsPerSecond)} rows/s = ${ratio.toFixed(2)}×${target}`;
    });
}

// Issue 13's targets: PostgreSQL at 70% or more of SQLite's rows/s; three scorers faster than one.
const POSTGRES_TARGET_RATIO = 0.7;

/** Cases set against each other, each pair from this run: PostgreSQL against SQLite, the read thread against none, one core against the target, three scorers against one. */
function pairedCaseLines(summaries: readonly CaseSummary[]): string[] {
  const named = (name: CaseName): CaseSummary | undefined => summaries.find((s) => s.name === name);
  const lines: string[] = [];
  const sqlite = named('score-e2e-1m-context');
  const postgres = named('score-e2e-1m-context-postgres');
  if (sqlite !== undefined && postgres !== undefined) {
    const ratio = postgres.rowsPerSecond / sqlite.rowsPerSecond;
    lines.push(
      `- score-e2e-1m-context-postgres against score-e2e-1m-context: ${thousands(postgres.rowsPerSecond)} / ${thousands(sqlite.rowsPerSecond)} rows/s = ${ratio.toFixed(2)}× (target ≥ ${POSTGRES_TARGET_RATIO}×: ${ratio >= POSTGRES_TARGET_RATIO ? 'met' : 'NOT met'})`,
    );
  }
  for (const [threaded, here] of [['score-e2e-1m-context', 'score-e2e-1m-context-no-thread'], ['score-e2e-1m', 'score-e2e-1m-no-thread']] as const) {
    const a = named(threaded);
    const b = named(here);
    if (a !== undefined && b !== undefined) lines.push(`- ${threaded} (read thread: auto) against ${here}: ${(a.rowsPerSecond / b.rowsPerSecond).toFixed(2)}× the rows/s`);
  }
  const oneCore = named('score-e2e-1m-context-taskset-0');
  if (oneCore !== undefined) {
    lines.push(`- score-e2e-1m-context-taskset-0: ${thousands(oneCore.rowsPerSecond)} rows/s on one core (target ≥ ${thousands(ONE_CORE_TARGET_ROWS_PER_SECOND)}: ${oneCore.rowsPerSecond >= ONE_CORE_TARGET_ROWS_PER_SECOND ? 'met' : 'NOT met'})`);
  }
  const one = named('catch-up-1-scorer');
  const three = named('catch-up-3-scorers');
  if (one !== undefined && three !== undefined) {
    const ratio = three.rowsPerSecond / one.rowsPerSecond;
    lines.push(`- catch-up-3-scorers against catch-up-1-scorer: ${ratio.toFixed(2)}× the rows/s (target: above 1×, ${ratio > 1 ? 'met' : 'NOT met'})`);
  }
  return lines;
}

function selectCases(only: string | undefined, large: boolean): BenchCase[] {
  const names: string[] = only === undefined ? [...DEFAULT_CASES, ...(large ? ['reader-tsv-gz-10m', 'score-e2e-10m', 'score-e2e-10m-context', 'score-e2e-10m-context-no-thread'] : [])] : only.split(',').map((n) => n.trim()).filter((n) => n !== '');
  return names.map((name) => {
    const bench = CASES.find((c) => c.name === name);
    if (bench === undefined) throw new Error(`--only: unknown case '${name}'; the cases are ${CASES.map((c) => c.name).join(', ')}`);
    return bench;
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const { values } = parseArgs({
    args,
    options: {
      runs: { type: 'string', default: '5' },
      only: { type: 'string' },
      large: { type: 'boolean', default: false },
      child: { type: 'string' },
    },
    strict: true,
  });
  if (values.child !== undefined) {
    await runChild(values.child);
    return;
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number of 1 or more, not '${values.runs}'`);
  await runParent(args, runs, selectCases(values.only, values.large));
}

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
