import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import type { Db } from '../db/connection.js';
import { queryAnomalies, type StoredAnomalyRow } from '../db/anomalies.js';
import { readContextState } from '../db/context-state.js';
import { listFiles } from '../db/files.js';
import { openDatabase } from '../db/open-database.js';
import { DEFAULT_TRAIN_OPTIONS } from '../model/autoencoder.js';
import { initBackend, type Backend } from '../model/backend.js';
import { disposeScoringModel, loadScoringModel, type ScoringModel } from '../model/load-scoring-model.js';
import { ModelStore } from '../model/store.js';
import { ContextKeeper } from '../pipeline/ledger/context-keeper.js';
import { ReadThread } from '../pipeline/first-read/read-thread.js';
import { scoreFile } from '../pipeline/score/score-file.js';
import { combinedScore } from '../model/combine.js';
import { DEFAULT_SCORE_BATCH, scoreAll as scoreRows } from '../model/autoencoder.js';
import { CONTEXT_FEATURE_NAMES, CONTEXT_WIDTH } from '../pipeline/context/context-features.js';
import { ContextState, DEFAULT_CONTEXT_LIMITS } from '../pipeline/context/context-state.js';
import { readAll } from './support/read.js';
import { anomaliesOfFinding, queryFindings } from '../db/findings.js';
import { DEFAULT_FINDINGS } from '../pipeline/findings/findings-settings.js';
import { FindingsStage } from '../pipeline/findings/findings-stage.js';
import { processFile, type FileOutcome } from '../pipeline/ledger/process-file.js';
import { retrain } from '../pipeline/train/retrain.js';
import { presetNamed } from '../preprocess/presets.js';
import { shared, tempDir } from './support/paths.js';
import { archivesIn } from './support/service.js';

const SENSOR = 'sensor-a';

const RITA = shared('rotated', 'rita-missing-host');
const OPTIONS = { mode: 'per-file' as const, quantile: 0.95 };

let backend: Backend;
let scratch: { dir: string; cleanup: () => Promise<void> };
let model: ScoringModel;
let files: string[];

before(async () => {
  backend = await initBackend({ prefer: 'wasm' });
  scratch = await tempDir();
  const store = new ModelStore({ dataDir: join(scratch.dir, 'models') });
  const trained = await retrain(backend, store, {
    logs: [join(RITA, '2024-04-19')],
    maxRows: 20_000,
    preset: presetNamed('default'),
    train: { ...DEFAULT_TRAIN_OPTIONS, maxEpochs: 3 },
    seed: 1,
    activate: true,
  });
  assert.equal(trained.status, 'trained', JSON.stringify(trained));
  model = await loadScoringModel(backend.tf, store, { contextColumns: CONTEXT_FEATURE_NAMES });
  files = (await archivesIn(join(RITA, '2024-04-20'))).slice(0, 4);
});
after(async () => {
  disposeScoringModel(model);
  await scratch.cleanup();
});

/** Scores `names` in order into `db`, with the context state `keeper` carries. */
async function scoreAll(db: Db, keeper: ContextKeeper, names: readonly string[]): Promise<FileOutcome[]> {
  const outcomes: FileOutcome[] = [];
  for (const file of names) outcomes.push(await processFile({ db, sensor: SENSOR, tf: backend.tf, model, context: keeper, options: OPTIONS }, file));
  return outcomes;
}

function anomaliesOf(db: Db, file: string): StoredAnomalyRow[] {
  return queryAnomalies(db, { limit: 100_000, order: 'ts' })
    .filter((row) => row.filePath === file)
    .sort((a, b) => a.ts - b.ts || (a.uid ?? '').localeCompare(b.uid ?? ''));
}

describe('scoring with a context model', () => {
  test('every flagged row keeps both errors, its score is their sum over their baselines, and context features are explained in words', async () => {
    assert.ok(model.context !== null, 'retrain trained a context model');
    const db = openDatabase(join(scratch.dir, 'one.sqlite'));
    try {
      const keeper = ContextKeeper.load(db, SENSOR, DEFAULT_CONTEXT_LIMITS);
      const [outcome] = await scoreAll(db, keeper, files.slice(0, 1));
      assert.equal(outcome?.status, 'done', JSON.stringify(outcome));
      const rows = anomaliesOf(db, files[0]!);
      assert.ok(rows.length > 0);
      const { scales } = model.context;
      for (const row of rows) {
        assert.ok(row.connScore !== null && row.contextScore !== null, JSON.stringify(row));
        const expected = row.connScore / scales.conn + row.contextScore / scales.context;
        assert.ok(Math.abs(row.score - expected) <= 1e-5 * expected, `score ${row.score}, expected ${expected}`);
      }
      const worded = rows.flatMap((row) => row.explanation).filter((item) => item.text !== undefined);
      assert.ok(worded.length > 0, 'some explanations name context features');
      assert.ok(worded.every((item) => CONTEXT_FEATURE_NAMES.includes(item.feature) && /^(source|destination|channel) \S+|^\S+ → \S+: /.test(item.text!)), worded[0]?.text);
      assert.equal(readContextState(db, SENSOR)?.fileId, outcome.status === 'done' ? outcome.fileId : -1, 'the state was saved with the file');
    } finally {
      db.close();
    }
  });

  test('a restart between files (the state read back from the database) scores the next files bit for bit as one uninterrupted run', async () => {
    const straight = openDatabase(join(scratch.dir, 'straight.sqlite'));
    const restarted = openDatabase(join(scratch.dir, 'restarted.sqlite'));
    try {
      await scoreAll(straight, ContextKeeper.load(straight, SENSOR, DEFAULT_CONTEXT_LIMITS), files);
      await scoreAll(restarted, ContextKeeper.load(restarted, SENSOR, DEFAULT_CONTEXT_LIMITS), files.slice(0, 2));
      // A new process: nothing carried over but what the database holds.
      await scoreAll(restarted, ContextKeeper.load(restarted, SENSOR, DEFAULT_CONTEXT_LIMITS), files.slice(2));
      for (const file of files) {
        const a = anomaliesOf(straight, file).map(({ uid, score, connScore, contextScore, explanation }) => ({ uid, score, connScore, contextScore, explanation }));
        const b = anomaliesOf(restarted, file).map(({ uid, score, connScore, contextScore, explanation }) => ({ uid, score, connScore, contextScore, explanation }));
        assert.ok(a.length > 0);
        assert.deepEqual(b, a, file);
      }
      assert.deepEqual(readContextState(restarted, SENSOR)?.parts, readContextState(straight, SENSOR)?.parts, 'the same state after the same files');
    } finally {
      straight.close();
      restarted.close();
    }
  });

  test('a file that fails leaves the saved state as it was, and the next file scores as if it had never been met', async () => {
    const db = openDatabase(join(scratch.dir, 'failed.sqlite'));
    const clean = openDatabase(join(scratch.dir, 'clean.sqlite'));
    try {
      const keeper = ContextKeeper.load(db, SENSOR, DEFAULT_CONTEXT_LIMITS);
      await scoreAll(db, keeper, files.slice(0, 1));
      const saved = readContextState(db, SENSOR)?.parts;
      // Thousands of its rows are read (and counted, block by block) before the gzip stream ends.
      const cut = await dayInOneFile(0.6);
      const [failed] = await scoreAll(db, keeper, [cut]);
      assert.equal(failed?.status, 'failed', JSON.stringify(failed));
      assert.match(failed.status === 'failed' ? failed.error : '', /truncated|ends/i);
      assert.deepEqual(readContextState(db, SENSOR)?.parts, saved, 'the saved state is untouched');
      await scoreAll(db, keeper, files.slice(1, 2));
      await scoreAll(clean, ContextKeeper.load(clean, SENSOR, DEFAULT_CONTEXT_LIMITS), files.slice(0, 2));
      assert.deepEqual(
        anomaliesOf(db, files[1]!).map((r) => r.score),
        anomaliesOf(clean, files[1]!).map((r) => r.score),
      );
    } finally {
      db.close();
      clean.close();
    }
  });

  test('a file read a second time flags, with context, exactly the top 5% a single read keeping every row would', async () => {
    // Two days of archives in one file (about 80,000 rows), scored from an empty state. A gzip
    // records only its last member's size, so the file looks like the smallest there is (65,536
    // rows), and the running cut keeps the top 5% of that many; while the state warms up almost
    // every channel is new and scores high, so early rows the whole file's top 5% needs are let
    // go. The second read replays the context of each.
    const archives = [...(await archivesIn(join(RITA, '2024-04-20'))), ...(await archivesIn(join(RITA, '2024-04-21')))];
    const file = join(scratch.dir, 'conn.two-days.log.gz');
    await writeFile(file, Buffer.concat(await Promise.all(archives.map((archive) => readFile(archive)))));
    const state = new ContextState(DEFAULT_CONTEXT_LIMITS);
    const outcome = await scoreFile(backend.tf, model, file, { ...OPTIONS, context: { state, rewound: () => new ContextState(DEFAULT_CONTEXT_LIMITS) } });
    assert.equal(outcome.status, 'scored');
    if (outcome.status !== 'scored' || model.context === null) return;
    assert.equal(outcome.readTwice, true, "the top share was not all among the first read's candidates");

    // Brute force, apart from scoreFile: every row through a fresh state and both models, sorted.
    const { records } = await readAll(file);
    const raw = new ContextState(DEFAULT_CONTEXT_LIMITS).observeAll(records);
    const conn = scoreRows(backend.tf, model.model, model.preprocessor.transform(records), records.length, model.preprocessor.width, DEFAULT_SCORE_BATCH).scores;
    const context = scoreRows(backend.tf, model.context.model, model.context.scaler.transform(raw, records.length), records.length, CONTEXT_WIDTH, DEFAULT_SCORE_BATCH).scores;
    const scores = records.map((_, i) => combinedScore(conn[i]!, context[i]!, model.context!.scales));
    const k = Math.ceil(0.05 * records.length);
    const expected = scores
      .map((score, i) => ({ score, i }))
      .sort((a, b) => b.score - a.score || a.i - b.i)
      .slice(0, k)
      .sort((a, b) => a.i - b.i);
    const flagged = [...outcome.flagged];
    assert.equal(outcome.flaggedCount, k);
    assert.deepEqual(
      flagged.map((f) => f.uid),
      expected.map(({ i }) => records[i]!.uid),
    );
    flagged.forEach((f, n) => assert.ok(Math.abs(f.score - expected[n]!.score) <= 1e-5 * expected[n]!.score, `${f.uid}: ${f.score}, brute force ${expected[n]!.score}`));
  });

  test('findings are written with each file: linked to the flagged connections of their entity, and a file met again adds nothing', async () => {
    const db = openDatabase(join(scratch.dir, 'findings.sqlite'));
    try {
      const keeper = ContextKeeper.load(db, SENSOR, DEFAULT_CONTEXT_LIMITS);
      const findings = new FindingsStage(DEFAULT_FINDINGS);
      const day = await archivesIn(join(RITA, '2024-04-19'));
      for (const file of day) {
        const outcome = await processFile({ db, sensor: SENSOR, tf: backend.tf, model, context: keeper, findings, options: OPTIONS }, file);
        assert.equal(outcome.status, 'done', JSON.stringify(outcome));
        assert.ok(outcome.status === 'done' && outcome.findings !== null, 'the outcome says what the file did to the findings');
      }
      const stored = queryFindings(db);
      assert.ok(stored.length > 0);
      // The model's own voice: a source whose connections the autoencoder flagged far above the rate.
      const cluster = stored.find((f) => f.type === 'anomaly-cluster');
      assert.ok(cluster !== undefined, stored.map((f) => f.type).join(', '));
      assert.ok((cluster.evidence.flagged as number) >= DEFAULT_FINDINGS.anomalyCluster.minFlagged);
      assert.ok(anomaliesOfFinding(db, cluster.id, 1000).every((row) => row.origH === cluster.src), 'its links are its source\'s flagged rows');
      const linked = stored.map((f) => ({ f, rows: anomaliesOfFinding(db, f.id) })).filter(({ rows }) => rows.length > 0);
      assert.ok(linked.length > 0, 'some findings have flagged connections');
      for (const { f, rows } of linked) {
        for (const row of rows) {
          assert.ok((f.src === null || row.origH === f.src) && (f.dst === null || row.respH === f.dst) && (f.port === null || row.respP === f.port), `${f.type} ${f.id}: ${row.origH} → ${row.respH}:${row.respP}`);
        }
      }
      const again = await processFile({ db, sensor: SENSOR, tf: backend.tf, model, context: keeper, findings, options: OPTIONS }, day[5]!);
      assert.equal(again.status, 'already-seen');
      assert.deepEqual(
        queryFindings(db).map((f) => [f.id, f.connections, f.score]),
        stored.map((f) => [f.id, f.connections, f.score]),
      );
    } finally {
      db.close();
    }
  });
});

describe('the first read on a thread of its own', () => {
  /** What a file left in the store: its anomalies, the sensor's findings and its saved context state. */
  function stored(db: Db) {
    return {
      anomalies: files.map((file) => anomaliesOf(db, file).map(({ uid, score, connScore, contextScore, explanation }) => ({ uid, score, connScore, contextScore, explanation }))),
      findings: queryFindings(db).map(({ id: _id, createdAt: _created, updatedAt: _updated, ...fields }) => fields),
      state: readContextState(db, SENSOR)?.parts,
    };
  }

  test('files read, counted and featurised on a thread (one for all files, or a new one each file) store the same anomalies, findings and context state, bit for bit, as on this thread', async () => {
    const here = openDatabase(join(scratch.dir, 'read-here.sqlite'));
    const there = openDatabase(join(scratch.dir, 'read-on-a-thread.sqlite'));
    const anew = openDatabase(join(scratch.dir, 'read-on-a-thread-a-file.sqlite'));
    const kept = new ReadThread();
    const stopped = new ReadThread({ keepBelowRows: 0 });
    try {
      const findings = [new FindingsStage(DEFAULT_FINDINGS), new FindingsStage(DEFAULT_FINDINGS), new FindingsStage(DEFAULT_FINDINGS)] as const;
      const keepers = [here, there, anew].map((db) => ContextKeeper.load(db, SENSOR, DEFAULT_CONTEXT_LIMITS));
      for (const file of files) {
        const a = await processFile({ db: here, sensor: SENSOR, tf: backend.tf, model, context: keepers[0], findings: findings[0], options: OPTIONS }, file);
        const b = await processFile({ db: there, sensor: SENSOR, tf: backend.tf, model, context: keepers[1], readThread: kept, findings: findings[1], options: OPTIONS }, file);
        const c = await processFile({ db: anew, sensor: SENSOR, tf: backend.tf, model, context: keepers[2], readThread: stopped, findings: findings[2], options: OPTIONS }, file);
        for (const outcome of [a, b, c]) assert.equal(outcome.status, 'done', JSON.stringify(outcome));
      }
      const expected = stored(here);
      assert.ok(expected.anomalies.every((rows) => rows.length > 0) && expected.findings.length > 0 && expected.state !== undefined);
      assert.deepEqual(stored(there), expected);
      assert.deepEqual(stored(anew), expected);
      assert.deepEqual(keepers[1]!.state.sizes(), keepers[0]!.state.sizes(), 'the state carried on is the same');
    } finally {
      await Promise.all([kept.close(), stopped.close()]);
      here.close();
      there.close();
      anew.close();
    }
  });

  test('a file that fails part-way on the thread gives the state back: the saved state is untouched and the next file scores as if it had never been met', async () => {
    const db = openDatabase(join(scratch.dir, 'thread-failed.sqlite'));
    const clean = openDatabase(join(scratch.dir, 'thread-clean.sqlite'));
    const thread = new ReadThread();
    try {
      const keeper = ContextKeeper.load(db, SENSOR, DEFAULT_CONTEXT_LIMITS);
      const score = (file: string) => processFile({ db, sensor: SENSOR, tf: backend.tf, model, context: keeper, readThread: thread, options: OPTIONS }, file);
      assert.equal((await score(files[0]!)).status, 'done');
      const saved = readContextState(db, SENSOR)?.parts;
      const cut = await dayInOneFile(0.6);
      const failed = await score(cut);
      assert.equal(failed.status, 'failed', JSON.stringify(failed));
      assert.match(failed.status === 'failed' ? failed.error : '', /truncated|ends/i);
      assert.deepEqual(readContextState(db, SENSOR)?.parts, saved, 'the saved state is untouched');
      assert.equal((await score(files[1]!)).status, 'done');
      await scoreAll(clean, ContextKeeper.load(clean, SENSOR, DEFAULT_CONTEXT_LIMITS), files.slice(0, 2));
      assert.deepEqual(anomaliesOf(db, files[1]!).map((r) => r.score), anomaliesOf(clean, files[1]!).map((r) => r.score));
    } finally {
      await thread.close();
      db.close();
      clean.close();
    }
  });

  test('a file the reader rejects fails on the read thread with the same error, file and line as here, and the thread reads the next file', async () => {
    const here = openDatabase(join(scratch.dir, 'rejected-here.sqlite'));
    const there = openDatabase(join(scratch.dir, 'rejected-on-a-thread.sqlite'));
    const thread = new ReadThread();
    try {
      const dns = join(scratch.dir, 'dns.log');
      await writeFile(dns, '#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#fields\tts\tuid\tquery\n#types\ttime\tstring\tstring\n1.0\tC1\texample.org\n');
      const corrupt = join(scratch.dir, 'conn.corrupt.log.gz');
      await writeFile(corrupt, Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03]), Buffer.alloc(4096, 0x5a)]));
      for (const file of [dns, corrupt]) {
        const a = await processFile({ db: here, sensor: SENSOR, tf: backend.tf, model, options: OPTIONS }, file);
        const b = await processFile({ db: there, sensor: SENSOR, tf: backend.tf, model, readThread: thread, options: OPTIONS }, file);
        assert.equal(a.status, 'failed', JSON.stringify(a));
        assert.deepEqual(b, a);
      }
      assert.match(JSON.stringify(listFiles(there)), /dns\.log:5: .*dns/, 'the error names the file, the line and the log type');
      assert.equal((await processFile({ db: there, sensor: SENSOR, tf: backend.tf, model, readThread: thread, options: OPTIONS }, files[0]!)).status, 'done');
    } finally {
      await thread.close();
      here.close();
      there.close();
    }
  });

  test('a read thread that stops while it holds the state fails the file with that reason, and the next file scores on a new thread from the saved state', async () => {
    const db = openDatabase(join(scratch.dir, 'thread-stopped.sqlite'));
    const clean = openDatabase(join(scratch.dir, 'thread-stopped-clean.sqlite'));
    const thread = new ReadThread();
    try {
      const keeper = ContextKeeper.load(db, SENSOR, DEFAULT_CONTEXT_LIMITS);
      assert.equal((await processFile({ db, sensor: SENSOR, tf: backend.tf, model, context: keeper, readThread: thread, options: OPTIONS }, files[0]!)).status, 'done');
      const saved = readContextState(db, SENSOR)?.parts;
      // The thread is stopped from inside the read, at its third block, while it holds the state.
      const day = await dayInOneFile();
      const stopping = new StopThreadAtBlock(3, thread);
      await assert.rejects(
        processFile({ db, sensor: SENSOR, tf: backend.tf, model, context: keeper, readThread: thread, findings: new FindingsStage(DEFAULT_FINDINGS), options: { ...OPTIONS, signal: stopping.signal } }, day),
        /the read thread (failed|exited)/,
      );
      assert.ok(stopping.stopped, 'the thread was stopped part-way through the file');
      assert.deepEqual(readContextState(db, SENSOR)?.parts, saved, 'nothing of the stopped file was saved');
      assert.equal(listFiles(db).some((row) => row.path === day), false, 'and it is not in the ledger: it is scored again');
      assert.equal((await processFile({ db, sensor: SENSOR, tf: backend.tf, model, context: keeper, readThread: thread, options: OPTIONS }, day)).status, 'done');
      await scoreAll(clean, ContextKeeper.load(clean, SENSOR, DEFAULT_CONTEXT_LIMITS), [files[0]!, day]);
      assert.deepEqual(anomaliesOf(db, day).map((r) => r.score), anomaliesOf(clean, day).map((r) => r.score));
      assert.deepEqual(readContextState(db, SENSOR)?.parts, readContextState(clean, SENSOR)?.parts);
    } finally {
      await thread.close();
      db.close();
      clean.close();
    }
  });
});

/**
 * Stops `thread` as the scorer asks whether to go on before block `block`: a thread dying
 * mid-file, at a block chosen by the test. The scorer reads only `aborted` of its signal.
 */
class StopThreadAtBlock {
  stopped = false;
  private asked = 0;
  readonly signal: AbortSignal;

  constructor(block: number, thread: ReadThread) {
    const stop = (): boolean => {
      if (++this.asked === block) {
        this.stopped = true;
        void thread.close();
      }
      return false;
    };
    this.signal = { get aborted() { return stop(); } } as unknown as AbortSignal;
  }
}

/** A day of archives as one multi-member gzip of some 40,000 rows; cut short at `share` of its bytes, thousands of its rows are read before the gzip stream ends. */
async function dayInOneFile(share = 1): Promise<string> {
  const day = Buffer.concat(await Promise.all((await archivesIn(join(RITA, '2024-04-21'))).map((file) => readFile(file))));
  const file = join(scratch.dir, `conn.03:00:00-04:00:00.share-${share}.log.gz`);
  await writeFile(file, day.subarray(0, Math.floor(day.length * share)));
  return file;
}

describe('one read per new file', () => {
  test('a new file is hashed in the read that scores it, here or on a read thread: the ledger holds the SHA-256 of its bytes, gzip or plain', async () => {
    const thread = new ReadThread();
    try {
      for (const readThread of [undefined, thread]) {
        const where = readThread === undefined ? 'here' : 'on-a-thread';
        const db = openDatabase(join(scratch.dir, `hash-while-reading-${where}.sqlite`));
        try {
          const gzipped = join(scratch.dir, `conn.gz-copy-${where}.log.gz`);
          await writeFile(gzipped, await readFile(files[0]!));
          const plain = join(scratch.dir, `conn.plain-${where}.log`);
          await writeFile(plain, gunzipSync(await readFile(files[1]!)));
          for (const file of [gzipped, plain]) {
            const outcome = await processFile({ db, sensor: SENSOR, tf: backend.tf, model, readThread, options: OPTIONS }, file);
            assert.equal(outcome.status, 'done', JSON.stringify(outcome));
            assert.equal(listFiles(db).find((row) => row.path === file)?.sha256, createHash('sha256').update(await readFile(file)).digest('hex'), file);
          }
        } finally {
          db.close();
        }
      }
    } finally {
      await thread.close();
    }
  });

  test('a copy of a scored file under another name is skipped before it is scored, and a file refused in its first chunk is recorded with the hash of all its bytes', async () => {
    const db = openDatabase(join(scratch.dir, 'copies.sqlite'));
    try {
      const first = await processFile({ db, sensor: SENSOR, tf: backend.tf, model, options: OPTIONS }, files[2]!);
      assert.equal(first.status, 'done');
      const copy = join(scratch.dir, 'conn.renamed-copy.log.gz');
      await writeFile(copy, await readFile(files[2]!));
      let started = false;
      const second = await processFile({ db, sensor: SENSOR, tf: backend.tf, model, options: { ...OPTIONS, onStart: () => (started = true) } }, copy);
      assert.equal(second.status, 'skipped');
      assert.equal(started, false, 'the copy was never read for scoring');

      // Refused at its first line, so the read stops in its first 1 MiB chunk of 3 MiB: the rest is hashed apart.
      const broken = join(scratch.dir, 'conn.not-a-log.log');
      await writeFile(broken, `not a conn log\n${'x'.repeat(63)}\n`.repeat(3 * 16_384));
      const failed = await processFile({ db, sensor: SENSOR, tf: backend.tf, model, options: OPTIONS }, broken);
      assert.equal(failed.status, 'failed', JSON.stringify(failed));
      assert.equal(listFiles(db).find((row) => row.path === broken)?.sha256, createHash('sha256').update(await readFile(broken)).digest('hex'));
    } finally {
      db.close();
    }
  });
});
