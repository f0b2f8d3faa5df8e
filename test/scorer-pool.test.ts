import * as assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { queryAnomalies } from '../db/anomalies.js';
import type { Db } from '../db/connection.js';
import { listFiles } from '../db/files.js';
import { queryFindings } from '../db/findings.js';
import { openDatabase } from '../db/open-database.js';
import { seededRandom } from '../model/random.js';
import { shared } from './support/paths.js';
import { startPostgres, type LocalPostgres } from '../scripts/dev/local-postgres.js';
import { archivesIn, killLeftoverServices, placeArchive, serviceDirs, ServiceProcess, trainModel, type ServiceDirs } from './support/service.js';

// Three scorers (`watch --once`) share one log directory of 54 real archives (rita-missing-host:
// the last six hours of 2024-04-19, then 04-20 and 04-21) and one PostgreSQL store, as one sensor. Scorers are killed with SIGKILL at random
// moments and started again. However they were interrupted, the store must hold what one scorer
// left alone stores: every archive done once, the same anomalies and the same findings.

const RITA = shared('rotated', 'rita-missing-host');
const SENSOR = 'pool';
const KILLS = 6;
// Short, so that a killed holder's files pass to another scorer within seconds.
const LEASE_SECONDS = 2;

let dirs: ServiceDirs;
let postgres: LocalPostgres;
let archives: string[];
let reference: Db;

const scorer = (url: string): ServiceProcess => ServiceProcess.watch(['--once', ...dirs.flags, '--db', url, '--sensor', SENSOR], dirs.root);

before(async () => {
  dirs = await serviceDirs({ config: { lease: { seconds: LEASE_SECONDS } } });
  postgres = await startPostgres();
  await trainModel(dirs.dataDir, join(RITA, '2024-04-19'), dirs.root);
  archives = [];
  for (const day of ['2024-04-19', '2024-04-20', '2024-04-21']) {
    const present = await archivesIn(join(RITA, day));
    for (const archive of day === '2024-04-19' ? present.slice(-6) : present) archives.push(await placeArchive(dirs.logDir, day, basename(archive), archive));
  }
  assert.ok(archives.length >= 50, `${archives.length} archives`);
  // What one scorer, never interrupted, stores.
  const url = postgres.newDatabaseUrl();
  const alone = scorer(url);
  assert.deepEqual(await alone.waitForExit('the reference scorer to finish', 300_000), { code: 0, signal: null }, alone.transcript());
  reference = openDatabase(url, { readonly: true });
});

after(async () => {
  await killLeftoverServices();
  reference?.close();
  postgres?.stop();
  await dirs?.cleanup();
});

describe('three scorers sharing one log directory', () => {
  test('killed with SIGKILL at random moments and started again, they leave every archive done once, and the anomalies and findings one scorer stores', async () => {
    const url = postgres.newDatabaseUrl();
    const random = seededRandom(Number(process.env.ZEEK_ANOMALY_POOL_SEED ?? 13));
    const scorers = [scorer(url), scorer(url), scorer(url)];
    const everyScorer = [...scorers];
    /** Each scorer killed part-way through a file, and that file. */
    const killedInFile: { victim: ServiceProcess; file: string }[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      // Once a scorer has begun a file, after a random part of a second, one is killed: most often
      // the one scoring (the lease holder), sometimes one waiting for it.
      const race = new AbortController();
      const scoring = await Promise.any(
        scorers.map((one) => one.waitFor('a file being scored', (line) => line.event === 'scoring', { from: one.lines.length, timeoutMs: 120_000, signal: race.signal })),
      ).finally(() => race.abort());
      // The moment, not a wait for something: a random point in (or just past) the file.
      await sleep(random() * 400);
      const holder = scorers.findIndex((one) => inFile(one) !== null);
      const victim = holder !== -1 && random() < 0.75 ? holder : Math.floor(random() * scorers.length);
      const file = inFile(scorers[victim]!);
      if (file !== null) killedInFile.push({ victim: scorers[victim]!, file });
      scorers[victim]!.kill();
      await scorers[victim]!.exited;
      assert.ok(typeof scoring.file === 'string');
      const fresh = scorer(url);
      scorers[victim] = fresh;
      everyScorer.push(fresh);
    }
    for (const one of scorers) assert.deepEqual(await one.waitForExit('a scorer to finish', 300_000), { code: 0, signal: null }, one.transcript());

    assert.ok(killedInFile.length >= 1, `at least one scorer was killed part-way through a file (${killedInFile.length} of ${KILLS} kills)`);
    // Another scorer took over such a file and finished it. (A kill that came after the file's
    // commit and before its log line leaves it done with no one else's line: so at least one, not each.)
    const takenOver = killedInFile.filter(({ victim, file }) =>
      everyScorer.some((one) => one !== victim && one.fileLines().some((line) => line.file === file && line.status === 'done')),
    );
    assert.ok(takenOver.length >= 1, `a file whose scorer was killed was finished by another (${takenOver.length} of ${killedInFile.length})`);

    const store = openDatabase(url, { readonly: true });
    try {
      const files = listFiles(store, { sensor: SENSOR });
      const done = files.filter((file) => file.status === 'done');
      assert.equal(done.length, archives.length, 'every archive done');
      assert.equal(new Set(done.map((file) => file.path)).size, archives.length, 'each once');
      assert.deepEqual(files.filter((file) => file.status !== 'done'), [], 'nothing failed or skipped');
      const anomalies = queryAnomalies(store, { sensor: SENSOR });
      for (const file of done) assert.equal(anomalies.filter((row) => row.fileId === file.id).length, file.flagged, `${file.path}: its anomalies once each`);
      // The context state went from file to file in order through every handover: the same scores as one scorer's.
      assert.deepEqual(essence(anomalies), essence(queryAnomalies(reference, { sensor: SENSOR })));
      assert.deepEqual(entities(queryFindings(store, { sensor: SENSOR })), entities(queryFindings(reference, { sensor: SENSOR })));
    } finally {
      store.close();
    }
  });
});

describe('a scorer whose store goes away', () => {
  test('its connections cut while it scores, it tries the file it was on again before any later one, and stores what a scorer left alone stores', async () => {
    const url = postgres.newDatabaseUrl();
    const admin = openDatabase(url);
    const one = scorer(url);
    try {
      await one.waitFor('a file being scored', (line) => line.event === 'scoring', { timeoutMs: 120_000 });
      // Every connection of the scorer to its database is cut, again and again, until a file fails for it.
      const failed = one.waitFor('a file that failed for the store', (line) => line.event === 'file' && line.status === 'error', { timeoutMs: 60_000 });
      let cutting = true;
      void failed.finally(() => (cutting = false)).catch(() => undefined);
      while (cutting) {
        admin.all('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
        await sleep(20);
      }
      const error = await failed;
      assert.match(String(error.error), /terminating connection due to administrator command|Connection terminated|connection to PostgreSQL was lost/, 'it failed for the store, and says so');
      assert.equal(error.retryInSeconds, 1, 'the first retry comes after a second');
      assert.deepEqual(await one.waitForExit('the scorer to finish', 300_000), { code: 0, signal: null }, one.transcript());

      // The file that failed is the next one done, before any file after it.
      const at = one.lines.indexOf(error);
      const nextDone = one.lines.slice(at).find((line) => line.event === 'file' && line.status === 'done');
      assert.equal(nextDone?.file, error.file, one.transcript());
    } finally {
      admin.close();
      one.kill();
    }

    const store = openDatabase(url, { readonly: true });
    try {
      const files = listFiles(store, { sensor: SENSOR });
      assert.equal(files.filter((file) => file.status === 'done').length, archives.length, 'every archive done');
      assert.deepEqual(files.filter((file) => file.status !== 'done'), [], 'nothing failed or skipped');
      // The context state the cut file had half counted was read again: the same scores as one scorer's.
      assert.deepEqual(essence(queryAnomalies(store, { sensor: SENSOR })), essence(queryAnomalies(reference, { sensor: SENSOR })));
      assert.deepEqual(entities(queryFindings(store, { sensor: SENSOR })), entities(queryFindings(reference, { sensor: SENSOR })));
    } finally {
      store.close();
    }
  });
});

/** The file a scorer has begun and not finished, by its log: null between files. */
function inFile(one: ServiceProcess): string | null {
  const last = one.lines.findLast((line) => line.event === 'scoring' || line.event === 'file');
  return last?.event === 'scoring' && typeof last.file === 'string' ? last.file : null;
}

function essence(rows: { filePath: string; uid: string | null; score: number }[]): string[] {
  return rows.map((row) => `${basename(row.filePath)} ${row.uid} ${row.score}`).sort();
}

function entities(rows: { type: string; src: string | null; dst: string | null; port: number | null; connections: number; severity: string }[]): string[] {
  return rows.map((row) => `${row.type} ${row.src} ${row.dst} ${row.port} ${row.connections} ${row.severity}`).sort();
}
