import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { queryAnomalies } from '../../db/anomalies.js';
import type { AnomalyRow } from '../../db/anomaly-columns.js';
import { insertFinding, linkFindingAnomalies, linkFindingFile, queryFindings, SEVERITIES, updateFinding, type FindingFields } from '../../db/findings.js';
import { upsertModel } from '../../db/models.js';
import { openDatabase } from '../../db/open-database.js';
import { recordScoredFile } from '../../db/record-file.js';
import { quantile } from '../../model/metrics.js';
import { seededRandom } from '../../model/random.js';
import { FINDING_TYPES } from '../../pipeline/findings/registry.js';
import { startDashboard } from '../../pipeline/serve/start-dashboard.js';

// `npm run bench:dashboard`: how long each dashboard page takes on a database holding 1M
// anomalies and 10k findings (the target: under 300 ms, median), and whether a dashboard being
// read hard slows the service's writes. The database is generated once (seeded) and cached in
// bench-output/; every request goes over HTTP on loopback, as a browser's would.

const SCRIPT = fileURLToPath(import.meta.url);
const ROOT = join(dirname(SCRIPT), '..', '..');
const OUTPUT_DIR = join(ROOT, 'bench-output');
const GENERATOR_TAG = 'd3';
const DB_FILE = join(OUTPUT_DIR, `dashboard-1m-${GENERATOR_TAG}.sqlite`);

const FILES = 720; // 30 days of hourly archives
const ANOMALIES_PER_FILE = 1389; // × 720 = 1,000,080
// One of them the busy host's month-long finding, updated by every file: 720 × 14 + 1 = 10,081 findings.
const FINDINGS_PER_FILE = 15;
const START_TS = Date.UTC(2024, 4, 1) / 1000;
// One host is in a tenth of all anomalies: its page must cost what a quiet host's does.
const BUSY_HOST = '10.0.0.5';
const BENCH_SENSOR = 'bench';
const TARGET_MS = 300;
const WRITER_ROUND_PAIRS = 3;

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '15' }, 'reader-child': { type: 'string' }, 'writer-files': { type: 'string', default: '4' } },
});

if (values['reader-child'] !== undefined) {
  await readerChild(values['reader-child']);
} else {
  await main(Number(values.runs), Number(values['writer-files']));
}

async function main(runs: number, writerFiles: number): Promise<void> {
  await mkdir(OUTPUT_DIR, { recursive: true });
  if (!existsSync(DB_FILE)) await generate(DB_FILE);
  // A file cached by an older version is brought up to the current schema (the dashboard opens it read-only).
  openDatabase(DB_FILE).close();
  console.log(`database: ${relative(ROOT, DB_FILE)} (${FILES} files, ${(FILES * ANOMALIES_PER_FILE).toLocaleString('en-US')} anomalies, ${(FILES * (FINDINGS_PER_FILE - 1) + 1).toLocaleString('en-US')} findings)`);
  console.log(`node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${runs} runs per page after one warm-up\n`);

  const dashboard = await startDashboard({ db: DB_FILE, host: '127.0.0.1', port: 0, token: '', logDir: null, allow: [], findingTypes: FINDING_TYPES, log: { info: () => {}, error: (e, f) => console.error(e, f) } });
  try {
    const pages = pagesOf();
    console.log('| page | median ms | p95 ms | max ms | bytes | under 300 ms |');
    console.log('|---|---:|---:|---:|---:|---|');
    for (const page of pages) {
      const times: number[] = [];
      let size = 0;
      for (let i = 0; i <= runs; i++) {
        const started = performance.now();
        const response = await fetch(new URL(page.path, dashboard.url));
        const body = await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`${page.path}: ${response.status}`);
        if (i > 0) times.push(performance.now() - started);
        size = body.byteLength;
      }
      const m = quantile(times, 0.5);
      console.log(`| ${page.name} \`${page.path}\` | ${m.toFixed(1)} | ${quantile(times, 0.95).toFixed(1)} | ${Math.max(...times).toFixed(1)} | ${size.toLocaleString('en-US')} | ${m < TARGET_MS ? 'yes' : '**no**'} |`);
    }
  } finally {
    await dashboard.stop();
  }

  console.log(`\nwriter: files of 50,000 anomalies recorded into a copy of the database, ${writerFiles} a round, alone and with a dashboard reader hammering it, rounds alternating`);
  const copy = join(OUTPUT_DIR, 'dashboard-writer.sqlite');
  await rm(copy, { force: true });
  await copyFile(DB_FILE, copy);
  try {
    // Alternating, because the database grows with every file and later files take longer:
    // rounds in a row would charge that growth to whichever came last.
    const alone: { seconds: number[]; lock: number[] } = { seconds: [], lock: [] };
    const loaded: { seconds: number[]; lock: number[] } = { seconds: [], lock: [] };
    let requests = 0;
    for (let round = 0; round < WRITER_ROUND_PAIRS; round++) {
      append(alone, writeFiles(copy, writerFiles, `a${round}`));
      const reader = startReader(copy);
      await reader.ready;
      append(loaded, writeFiles(copy, writerFiles, `b${round}`));
      requests += await reader.stop();
    }
    console.log('| round | files | median s per file | median write lock s | reader requests |');
    console.log('|---|---:|---:|---:|---:|');
    console.log(`| alone | ${alone.seconds.length} | ${quantile(alone.seconds, 0.5).toFixed(3)} | ${quantile(alone.lock, 0.5).toFixed(3)} | – |`);
    console.log(`| with the reader | ${loaded.seconds.length} | ${quantile(loaded.seconds, 0.5).toFixed(3)} | ${quantile(loaded.lock, 0.5).toFixed(3)} | ${requests} |`);
    const ratio = quantile(loaded.seconds, 0.5) / quantile(alone.seconds, 0.5);
    console.log(`\nwith the reader, a file takes ${ratio.toFixed(2)}× as long to record as alone (the machine has ${cpus().length} cores: the reader has one)`);
  } finally {
    await rm(copy, { force: true });
    await rm(`${copy}-wal`, { force: true });
    await rm(`${copy}-shm`, { force: true });
  }
}

function append(into: { seconds: number[]; lock: number[] }, from: { seconds: number[]; lock: number[] }): void {
  into.seconds.push(...from.seconds);
  into.lock.push(...from.lock);
}

/** The pages a user opens, with real ids and hosts from the database. */
function pagesOf(): { name: string; path: string }[] {
  const db = openDatabase(DB_FILE, { readonly: true });
  try {
    const top = queryFindings(db, { limit: 1 })[0]!.id;
    const busyFinding = queryFindings(db, { host: BUSY_HOST, type: 'anomaly-cluster', limit: 1 })[0]!.id;
    const quiet = queryAnomalies(db, { limit: 50 }).find((a) => a.origH !== BUSY_HOST)!.origH;
    return [
      { name: 'overview', path: '/' },
      { name: 'overview, 30 days', path: '/?window=30d' },
      { name: 'overview refresh', path: '/api/overview' },
      { name: 'findings', path: '/findings' },
      { name: 'findings, high+, one type', path: '/findings?severity=high&type=beacon' },
      { name: 'findings, page 100', path: '/findings?page=100' },
      { name: 'finding (top score)', path: `/findings/${top}` },
      { name: 'finding (a month, 100k anomalies)', path: `/findings/${busyFinding}` },
      { name: 'host (busiest)', path: `/hosts/${BUSY_HOST}` },
      { name: 'host (quiet)', path: `/hosts/${quiet}` },
      { name: 'anomalies', path: '/anomalies' },
      { name: 'anomalies by score', path: '/anomalies?order=score' },
      // Scores run from 1 up with a long tail: below 15 is the deep middle of the order, as "next" far along reaches it.
      { name: 'anomalies, deep page', path: '/anomalies?order=score&after=15_999999999' },
      { name: 'anomalies, busiest host', path: `/anomalies?host=${BUSY_HOST}&order=score` },
      { name: 'anomalies, one day', path: '/anomalies?since=2024-05-10&until=2024-05-11' },
      { name: 'anomalies, min score', path: '/anomalies?minScore=50' },
      { name: 'files', path: '/files' },
      { name: 'files, failed', path: '/files?status=failed' },
      { name: 'models', path: '/models' },
    ];
  } finally {
    db.close();
  }
}

/** Records `count` files of 50,000 anomalies each, timing each. */
function writeFiles(file: string, count: number, tag: string): { seconds: number[]; lock: number[] } {
  const db = openDatabase(file);
  const random = seededRandom(tag.charCodeAt(0));
  const seconds: number[] = [];
  const lock: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const ts = START_TS + 40 * 86_400 + i * 3600;
      const rows = Array.from({ length: 50_000 }, (_, n) => anomaly(random, ts + n * 0.07, 'bench'));
      const started = performance.now();
      const recorded = recordScoredFile(db, scoredFile(`/bench/writer-${tag}-${i}.log.gz`, ts, 1_000_000, rows.length), rows);
      seconds.push((performance.now() - started) / 1000);
      lock.push(recorded.lockSeconds);
    }
  } finally {
    db.close();
  }
  return { seconds, lock };
}

/** A child process serving the dashboard over `file` and fetching its heaviest pages back to back, until stopped. */
function startReader(file: string): { ready: Promise<void>; stop: () => Promise<number> } {
  const child: ChildProcess = spawn(process.execPath, [SCRIPT, '--reader-child', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (data: string) => {
      out += data;
      if (out.includes('ready\n')) resolve();
    });
    child.on('error', reject);
  });
  return {
    ready,
    stop: async () => {
      const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
      child.kill('SIGINT');
      await closed;
      return Number(/requests (\d+)/.exec(out)?.[1] ?? Number.NaN);
    },
  };
}

async function readerChild(file: string): Promise<void> {
  const dashboard = await startDashboard({ db: file, host: '127.0.0.1', port: 0, token: '', logDir: null, allow: [], findingTypes: FINDING_TYPES, log: { info: () => {}, error: () => {} } });
  let requests = 0;
  let stopping = false;
  process.once('SIGINT', () => (stopping = true));
  process.stdout.write('ready\n');
  const paths = ['/api/overview', '/anomalies?order=score', `/hosts/${BUSY_HOST}`, '/findings', '/anomalies.csv?minScore=200'];
  while (!stopping) {
    for (const path of paths) {
      await (await fetch(new URL(path, dashboard.url))).arrayBuffer();
      requests++;
    }
  }
  await dashboard.stop();
  process.stdout.write(`requests ${requests}\n`);
}

// ---------------------------------------------------------------------------------------------
// The database: 30 days of hourly files, their anomalies and findings, written through db/ as the service writes them.

async function generate(file: string): Promise<void> {
  console.log(`generating ${relative(ROOT, file)}; cached for later runs…`);
  const started = performance.now();
  await rm(file, { force: true });
  const db = openDatabase(file);
  const random = seededRandom(20240501);
  try {
    upsertModel(db, BENCH_SENSOR, { version: 'v0001-bench', createdAt: '2024-05-01T00:00:00.000Z', active: true, preset: 'default', metrics: benchMetrics(random) });
    // The worst finding to show: the busy host's cluster of flagged connections, going on in every
    // file for the whole month, linked to all of its 100,000 anomalies.
    let busyFinding: number | null = null;
    for (let f = 0; f < FILES; f++) {
      const ts = START_TS + f * 3600;
      const rows = Array.from({ length: ANOMALIES_PER_FILE }, (_, n) => anomaly(random, ts + (n * 3600) / ANOMALIES_PER_FILE, 'v0001-bench'));
      rows.sort((a, b) => a.ts - b.ts);
      recordScoredFile(db, scoredFile(`/opt/zeek/logs/day-${Math.floor(f / 24)}/conn.${f % 24}.log.gz`, ts, 20_000 + Math.floor(random() * 20_000), rows.length), rows, {
        withinTransaction: (fileId) => {
          const busy: FindingFields = { ...benchFinding(random, START_TS, BUSY_HOST), type: 'anomaly-cluster', dst: null, port: null, proto: null, lastTs: ts + 3599 };
          busyFinding ??= insertFinding(db, BENCH_SENSOR, busy, new Date(ts * 1000).toISOString());
          updateFinding(db, busyFinding, busy, new Date(ts * 1000 + 3_600_000).toISOString());
          linkFindingFile(db, busyFinding, fileId, 139);
          linkFindingAnomalies(db, busyFinding, fileId, busy, { firstTs: ts, lastTs: ts + 3600 });
          for (let k = 1; k < FINDINGS_PER_FILE; k++) {
            const finding = benchFinding(random, ts, null);
            const id = insertFinding(db, BENCH_SENSOR, finding, new Date(ts * 1000 + 3_600_000).toISOString());
            linkFindingFile(db, id, fileId, finding.connections);
            linkFindingAnomalies(db, id, fileId, finding, { firstTs: ts, lastTs: ts + 3600 });
          }
        },
      });
      if (f % 72 === 71) console.log(`  ${f + 1} of ${FILES} files`);
    }
  } finally {
    db.close();
  }
  console.log(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

function scoredFile(path: string, ts: number, rows: number, flagged: number): Parameters<typeof recordScoredFile>[1] {
  const now = new Date().toISOString();
  return {
    sensor: BENCH_SENSOR,
    path,
    size: rows * 120,
    sha256: `${path}-${ts}`,
    rows,
    badLines: 0,
    flagged,
    threshold: 1,
    thresholdMode: 'per-file',
    modelVersion: 'v0001-bench',
    firstTs: ts,
    lastTs: ts + 3599,
    startedAt: now,
    finishedAt: now,
  };
}

function anomaly(random: () => number, ts: number, model: string): AnomalyRow {
  const busy = random() < 0.1;
  const origH = busy ? BUSY_HOST : `10.0.${Math.floor(random() * 4)}.${1 + Math.floor(random() * 250)}`;
  const respH = `${11 + Math.floor(random() * 200)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}`;
  const score = 1 + -Math.log(1 - random()) * 20;
  return {
    ts,
    uid: `C${Math.floor(random() * 2 ** 48).toString(36)}`,
    origH,
    origP: 1024 + Math.floor(random() * 60_000),
    respH: random() < 0.3 ? `198.51.100.${Math.floor(random() * 50)}` : respH,
    respP: [443, 80, 53, 22, 8080][Math.floor(random() * 5)]!,
    proto: random() < 0.8 ? 'tcp' : 'udp',
    service: random() < 0.5 ? 'ssl' : null,
    duration: random() * 100,
    origBytes: Math.floor(random() * 1e6),
    respBytes: Math.floor(random() * 1e6),
    connState: ['SF', 'S0', 'REJ', 'RSTO'][Math.floor(random() * 4)]!,
    history: 'ShADadFf',
    origPkts: Math.floor(random() * 100),
    respPkts: Math.floor(random() * 100),
    score,
    threshold: 1,
    modelVersion: model,
    explanation: [
      { feature: 'orig_bytes', share: 0.5 },
      { feature: 'pair.conns_1h', share: 0.3, text: `${origH} → ${respH}: 12 connections (half-life 1 h)` },
      { feature: 'duration', share: 0.2 },
    ],
    connScore: score,
    contextScore: score / 2,
  };
}

function benchFinding(random: () => number, ts: number, src: string | null): FindingFields {
  const type = FINDING_TYPES[Math.floor(random() * FINDING_TYPES.length)]!;
  const severity = SEVERITIES[Math.min(4, Math.floor(-Math.log(1 - random()) * 1.2))]!;
  return {
    type,
    src: src ?? `10.0.${Math.floor(random() * 4)}.${1 + Math.floor(random() * 250)}`,
    dst: `198.51.100.${Math.floor(random() * 50)}`,
    port: 443,
    proto: 'tcp',
    severity,
    score: SEVERITIES.indexOf(severity) * 20 + random() * 20,
    firstTs: ts,
    lastTs: ts + 3599,
    connections: 10 + Math.floor(random() * 1000),
    bytesOut: Math.floor(random() * 1e8),
    bytesIn: Math.floor(random() * 1e7),
    summary: `${type} seen on the bench`,
    evidence: { measure: 'bench', value: random(), grading: { base: 50, modifiers: [] } },
    uids: { first: 'CbenchFirst', last: 'CbenchLast', top: null },
    modelVersion: 'v0001-bench',
  };
}

function benchMetrics(random: () => number): unknown {
  const epochs = Array.from({ length: 30 }, (_, i) => ({ epoch: i + 1, loss: 1 / (i + 1) + random() * 0.01, valLoss: 1.1 / (i + 1), seconds: 1 }));
  return { preset: 'default', rows: { used: 1_000_000 }, epochs, bestEpoch: 30, testLoss: 0.03, threshold: { value: 1 }, trainingSeconds: 120, context: { epochs, testLoss: 0.04 } };
}
