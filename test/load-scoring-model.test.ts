import * as assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildAutoencoder } from '../model/autoencoder.js';
import { initBackend, type Backend } from '../model/backend.js';
import { disposeScoringModel, loadScoringModel } from '../model/load-scoring-model.js';
import { ModelLoadError, ModelStore } from '../model/store.js';
import { CONTEXT_FEATURE_NAMES } from '../pipeline/context/context-features.js';
import { MatrixScaler } from '../preprocess/matrix-scaler.js';
import { Preprocessor } from '../preprocess/preprocessor.js';
import { presetNamed } from '../preprocess/presets.js';
import { shared, tempDir } from './support/paths.js';
import { readAll } from './support/read.js';

let backend: Backend;
let preprocessor: Preprocessor;

before(async () => {
  backend = await initBackend({ prefer: 'wasm' });
  const { records } = await readAll(shared('formats', 'tsv', 'rita-proxy.conn.log'));
  preprocessor = Preprocessor.fit(records, presetNamed('default'));
});

async function savedModel(mutate: { preprocess?: object; metrics?: object } = {}): Promise<{ store: ModelStore; version: string; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = await tempDir();
  const store = new ModelStore({ dataDir: dir });
  const version = await store.save({
    model: buildAutoencoder(backend.tf, preprocessor.width, 1),
    preprocess: mutate.preprocess ?? preprocessor.toJSON(),
    metrics: mutate.metrics ?? { threshold: { quantile: 0.95, value: 1.5 } },
    activate: true,
  });
  return { store, version, cleanup };
}

after(() => {
  backend.tf.disposeVariables();
});

test('a saved model loads with its preprocessing and its baseline threshold', async () => {
  const { store, version, cleanup } = await savedModel();
  try {
    const loaded = await loadScoringModel(backend.tf, store);
    assert.equal(loaded.version, version);
    assert.equal(loaded.preprocessor.width, preprocessor.width);
    assert.equal(loaded.baselineThreshold, 1.5);
    loaded.model.dispose();
  } finally {
    await cleanup();
  }
});

test('preprocessing state of another format version is refused, naming the file and the key', async () => {
  const { store, version, cleanup } = await savedModel({ preprocess: { ...preprocessor.toJSON(), formatVersion: 2 } });
  try {
    const tensorsBefore = backend.tf.memory().numTensors;
    const error = await loadScoringModel(backend.tf, store).then(
      () => assert.fail('loaded'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof ModelLoadError);
    assert.equal(error.file, join(store.root, version, 'preprocess.json'));
    assert.match(error.message, /preprocess\.json: 'formatVersion' is 2; this zeek-anomaly reads version 1 only/);
    assert.equal(backend.tf.memory().numTensors, tensorsBefore, 'the refused model released its weights');
  } finally {
    await cleanup();
  }
});

test('preprocessing state whose width differs from the network is refused', async () => {
  const narrow = Preprocessor.fit((await readAll(shared('formats', 'tsv', 'rita-proxy.conn.log'))).records, presetNamed('seed'));
  const { store, cleanup } = await savedModel({ preprocess: narrow.toJSON() });
  try {
    await assert.rejects(loadScoringModel(backend.tf, store), (error: unknown) => {
      assert.ok(error instanceof ModelLoadError);
      assert.match(error.message, /preprocess\.json|the network takes \d+ inputs but its preprocessing makes \d+/);
      return true;
    });
  } finally {
    await cleanup();
  }
});

test('a model without a baseline threshold in metrics.json is refused, naming the file', async () => {
  const { store, version, cleanup } = await savedModel({ metrics: { epochs: [] } });
  try {
    await assert.rejects(loadScoringModel(backend.tf, store), (error: unknown) => {
      assert.ok(error instanceof ModelLoadError);
      assert.equal(error.file, join(store.root, version, 'metrics.json'));
      assert.match(error.message, /no finite threshold\.value/);
      return true;
    });
    // The files are as saved: the check is the loader's, not a side effect.
    assert.match(await readFile(join(store.root, version, 'metrics.json'), 'utf8'), /epochs/);
    await writeFile(join(store.root, version, 'metrics.json'), JSON.stringify({ threshold: { value: 2 } }));
    const loaded = await loadScoringModel(backend.tf, store);
    assert.equal(loaded.baselineThreshold, 2);
    loaded.model.dispose();
  } finally {
    await cleanup();
  }
});

/** A version saved with a context model over `columns` (their values are made up: only shapes and names matter here). */
async function savedWithContext(columns: readonly string[], metrics: object): Promise<{ store: ModelStore; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = await tempDir();
  const store = new ModelStore({ dataDir: dir });
  const rows = 8;
  const x = Float32Array.from({ length: rows * columns.length }, (_, i) => i % 7);
  const scaler = MatrixScaler.fit(x, rows, columns.map((name) => ({ name, transform: 'log1p' as const })));
  await store.save({
    model: buildAutoencoder(backend.tf, preprocessor.width, 1),
    preprocess: preprocessor.toJSON(),
    metrics,
    context: { model: buildAutoencoder(backend.tf, columns.length, 2), scaler: scaler.toJSON() },
    activate: true,
  });
  return { store, cleanup };
}

const CONTEXT_METRICS = { threshold: { quantile: 0.95, value: 1.5 }, context: { scales: { conn: 1.5, context: 0.2 }, combinedThreshold: { value: 2.4 } } };

test('a model saved with a context model loads both, with the per-connection and the combined thresholds', async () => {
  const { store, cleanup } = await savedWithContext(CONTEXT_FEATURE_NAMES, CONTEXT_METRICS);
  try {
    const loaded = await loadScoringModel(backend.tf, store, { contextColumns: CONTEXT_FEATURE_NAMES });
    assert.equal(loaded.baselineThreshold, 1.5);
    assert.ok(loaded.context !== null);
    assert.deepEqual(loaded.context.scales, { conn: 1.5, context: 0.2 });
    assert.equal(loaded.context.combinedThreshold, 2.4);
    assert.deepEqual(loaded.context.scaler.columnNames, CONTEXT_FEATURE_NAMES);
    disposeScoringModel(loaded);
  } finally {
    await cleanup();
  }
});

test('a context model trained on other context features is refused, naming its scaler file and the first column that differs', async () => {
  const columns = [...CONTEXT_FEATURE_NAMES];
  columns[3] = 'src.conns_2h';
  const { store, cleanup } = await savedWithContext(columns, CONTEXT_METRICS);
  try {
    const tensorsBefore = backend.tf.memory().numTensors;
    await assert.rejects(loadScoringModel(backend.tf, store, { contextColumns: CONTEXT_FEATURE_NAMES }), (error: unknown) => {
      assert.ok(error instanceof ModelLoadError);
      assert.ok(error.file.endsWith('context-scaler.json'), error.file);
      assert.match(error.message, /column 4: "src.conns_2h", expected "src.conns_1h"\); retrain$/);
      return true;
    });
    assert.equal(backend.tf.memory().numTensors, tensorsBefore, 'both refused networks were disposed');
  } finally {
    await cleanup();
  }
});

test('a context model whose metrics lack its scales is refused, naming metrics.json', async () => {
  const { store, cleanup } = await savedWithContext(CONTEXT_FEATURE_NAMES, { threshold: { quantile: 0.95, value: 1.5 } });
  try {
    await assert.rejects(loadScoringModel(backend.tf, store), (error: unknown) => {
      assert.ok(error instanceof ModelLoadError);
      assert.ok(error.file.endsWith('metrics.json'), error.file);
      assert.match(error.message, /a model with context needs finite context\.scales\.conn/);
      return true;
    });
  } finally {
    await cleanup();
  }
});
