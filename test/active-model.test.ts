import * as assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openDatabase } from '../db/open-database.js';
import { buildAutoencoder } from '../model/autoencoder.js';
import { initBackend, type Backend } from '../model/backend.js';
import { ModelStore } from '../model/store.js';
import { ActiveModel } from '../pipeline/service/active-model.js';
import { resolveConfig } from '../pipeline/service/config.js';
import type { Logger } from '../pipeline/service/logger.js';
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
after(() => {
  backend.tf.disposeVariables();
});

/** A logger that keeps what it is told. */
function recordingLog(): Logger & { errors: Record<string, unknown>[] } {
  const errors: Record<string, unknown>[] = [];
  return { errors, info: () => {}, error: (event, fields) => errors.push({ event, ...fields }) };
}

test('a new version that will not load, or a damaged ACTIVE pointer, leaves the loaded model scoring, said once each', async () => {
  const { dir, cleanup } = await tempDir();
  const db = openDatabase(join(dir, 'db.sqlite'));
  try {
    const store = new ModelStore({ dataDir: dir });
    const save = (preprocess: object) =>
      store.save({ model: buildAutoencoder(backend.tf, preprocessor.width, 1), preprocess, metrics: { threshold: { quantile: 0.95, value: 1 } }, activate: true });
    const good = await save(preprocessor.toJSON());
    const log = recordingLog();
    const config = resolveConfig({ env: {}, flags: { dataDir: dir, logDir: dir } });
    const active = new ActiveModel({ backend, store, db, config, log });
    const signal = new AbortController().signal;
    assert.equal((await active.forNextFile(signal))?.version, good);

    const broken = await save({ ...preprocessor.toJSON(), formatVersion: 2 });
    assert.equal((await active.forNextFile(signal))?.version, good, 'the loaded model goes on');
    assert.equal((await active.forNextFile(signal))?.version, good);
    assert.equal(log.errors.length, 1, JSON.stringify(log.errors));
    assert.equal(log.errors[0]!.version, broken);
    assert.equal(log.errors[0]!.using, good);
    assert.match(String(log.errors[0]!.error), /preprocess\.json/);

    await writeFile(join(store.root, 'ACTIVE'), 'not a version\n');
    assert.equal((await active.forNextFile(signal))?.version, good);
    assert.equal((await active.forNextFile(signal))?.version, good);
    assert.equal(log.errors.length, 2, JSON.stringify(log.errors));
    assert.match(String(log.errors[1]!.error), /ACTIVE holds "not a version\\n"/);
    active.dispose();
  } finally {
    db.close();
    await cleanup();
  }
});
