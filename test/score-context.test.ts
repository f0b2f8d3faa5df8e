import * as assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Database } from 'better-sqlite3';
import { queryAnomalies, type StoredAnomalyRow } from '../db/anomalies.js';
import { readContextState } from '../db/context-state.js';
import { openDatabase } from '../db/open-database.js';
import { DEFAULT_TRAIN_OPTIONS } from '../model/autoencoder.js';
import { initBackend, type Backend } from '../model/backend.js';
import { disposeScoringModel, loadScoringModel, type ScoringModel } from '../model/load-scoring-model.js';
import { ModelStore } from '../model/store.js';
import { CONTEXT_FEATURE_NAMES } from '../pipeline/context/context-features.js';
import { DEFAULT_CONTEXT_LIMITS } from '../pipeline/context/context-state.js';
import { ContextKeeper } from '../pipeline/score/context-keeper.js';
import { processFile, type FileOutcome } from '../pipeline/score/process-file.js';
import { retrain } from '../pipeline/train/retrain.js';
import { presetNamed } from '../preprocess/presets.js';
import { shared, tempDir } from './support/paths.js';
import { archivesIn } from './support/service.js';

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
async function scoreAll(db: Database, keeper: ContextKeeper, names: readonly string[]): Promise<FileOutcome[]> {
  const outcomes: FileOutcome[] = [];
  for (const file of names) outcomes.push(await processFile({ db, tf: backend.tf, model, context: keeper, options: OPTIONS }, file));
  return outcomes;
}

function anomaliesOf(db: Database, file: string): StoredAnomalyRow[] {
  return queryAnomalies(db, { limit: 100_000, order: 'ts' })
    .filter((row) => row.filePath === file)
    .sort((a, b) => a.ts - b.ts || (a.uid ?? '').localeCompare(b.uid ?? ''));
}

describe('scoring with a context model', () => {
  test('every flagged row keeps both errors, its score is their sum over their baselines, and context features are explained in words', async () => {
    assert.ok(model.context !== null, 'retrain trained a context model');
    const db = openDatabase(join(scratch.dir, 'one.sqlite'));
    try {
      const keeper = ContextKeeper.load(db, DEFAULT_CONTEXT_LIMITS);
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
      assert.equal(readContextState(db)?.fileId, outcome.status === 'done' ? outcome.fileId : -1, 'the state was saved with the file');
    } finally {
      db.close();
    }
  });

  test('a restart between files (the state read back from the database) scores the next files bit for bit as one uninterrupted run', async () => {
    const straight = openDatabase(join(scratch.dir, 'straight.sqlite'));
    const restarted = openDatabase(join(scratch.dir, 'restarted.sqlite'));
    try {
      await scoreAll(straight, ContextKeeper.load(straight, DEFAULT_CONTEXT_LIMITS), files);
      await scoreAll(restarted, ContextKeeper.load(restarted, DEFAULT_CONTEXT_LIMITS), files.slice(0, 2));
      // A new process: nothing carried over but what the database holds.
      await scoreAll(restarted, ContextKeeper.load(restarted, DEFAULT_CONTEXT_LIMITS), files.slice(2));
      for (const file of files) {
        const a = anomaliesOf(straight, file).map(({ uid, score, connScore, contextScore, explanation }) => ({ uid, score, connScore, contextScore, explanation }));
        const b = anomaliesOf(restarted, file).map(({ uid, score, connScore, contextScore, explanation }) => ({ uid, score, connScore, contextScore, explanation }));
        assert.ok(a.length > 0);
        assert.deepEqual(b, a, file);
      }
      assert.deepEqual(readContextState(restarted)?.parts, readContextState(straight)?.parts, 'the same state after the same files');
    } finally {
      straight.close();
      restarted.close();
    }
  });

  test('a file that fails leaves the saved state as it was, and the next file scores as if it had never been met', async () => {
    const db = openDatabase(join(scratch.dir, 'failed.sqlite'));
    const clean = openDatabase(join(scratch.dir, 'clean.sqlite'));
    try {
      const keeper = ContextKeeper.load(db, DEFAULT_CONTEXT_LIMITS);
      await scoreAll(db, keeper, files.slice(0, 1));
      const saved = readContextState(db)?.parts;
      // A day of archives as one multi-member gzip, cut short at 60%: thousands of its rows are
      // read (and counted, block by block) before the gzip stream ends.
      const day = Buffer.concat(await Promise.all((await archivesIn(join(RITA, '2024-04-21'))).map((file) => readFile(file))));
      const cut = join(scratch.dir, 'conn.03:00:00-04:00:00.log.gz');
      await writeFile(cut, day.subarray(0, Math.floor(day.length * 0.6)));
      const [failed] = await scoreAll(db, keeper, [cut]);
      assert.equal(failed?.status, 'failed', JSON.stringify(failed));
      assert.match(failed.status === 'failed' ? failed.error : '', /truncated|ends/i);
      assert.deepEqual(readContextState(db)?.parts, saved, 'the saved state is untouched');
      await scoreAll(db, keeper, files.slice(1, 2));
      await scoreAll(clean, ContextKeeper.load(clean, DEFAULT_CONTEXT_LIMITS), files.slice(0, 2));
      assert.deepEqual(
        anomaliesOf(db, files[1]!).map((r) => r.score),
        anomaliesOf(clean, files[1]!).map((r) => r.score),
      );
    } finally {
      db.close();
      clean.close();
    }
  });
});
