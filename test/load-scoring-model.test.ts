import * as assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildAutoencoder } from '../model/autoencoder.js';
import { initBackend, type Backend } from '../model/backend.js';
import { loadScoringModel } from '../model/load-scoring-model.js';
import { ModelLoadError, ModelStore } from '../model/store.js';
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
