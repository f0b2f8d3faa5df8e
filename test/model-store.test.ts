// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LayersModel } from '@tensorflow/tfjs';
import { buildAutoencoder, scoreBatch } from '../model/autoencoder.js';
import { initBackend, type Tf } from '../model/backend.js';
import { ModelLoadError, ModelStore, VERSION_PATTERN } from '../model/store.js';
import { unstructuredRows } from '../model/synthetic-features.js';
import { tempDir } from './support/paths.js';

const WIDTH = 8;
const ROWS = 50;
const INPUT = unstructuredRows(ROWS, WIDTH, 3);

describe('the model store', () => {
  let tf: Tf;
  let model: LayersModel;
  let dataDir: string;
  let cleanup: () => Promise<void>;

  before(async () => {
    tf = (await initBackend({ prefer: 'wasm' })).tf;
    model = buildAutoencoder(tf, WIDTH, 42);
  });
  after(() => model.dispose());

  // Each test gets its own data directory.
  const fresh = async (): Promise<ModelStore> => {
    await cleanup?.();
    ({ dir: dataDir, cleanup } = await tempDir());
    return new ModelStore({ dataDir });
  };
  after(() => cleanup?.());

  const saveOne = (store: ModelStore, activate = true, preprocess: object = { width: WIDTH, columns: ['a'] }) =>
    store.save({ model, preprocess, metrics: { testLoss: 0.25 }, activate });

  test('save then load gives a model whose scores equal the original exactly, with the JSON it was saved with', async () => {
    const store = await fresh();
    const version = await saveOne(store);
    assert.match(version, VERSION_PATTERN);
    assert.match(version, /^v0001-\d{8}T\d{6}Z$/);
    assert.deepEqual((await readdir(join(store.root, version))).sort(), ['metrics.json', 'model.json', 'preprocess.json', 'weights.bin']);

    const loaded = await store.load(tf);
    try {
      assert.equal(loaded.version, version);
      assert.deepEqual(loaded.preprocess, { width: WIDTH, columns: ['a'] });
      const metrics = loaded.metrics as Record<string, unknown>;
      assert.equal(metrics.testLoss, 0.25);
      assert.equal(metrics.version, version);
      assert.equal(typeof metrics.createdAt, 'string');
      assert.deepEqual(scoreBatch(tf, loaded.model, INPUT, ROWS, WIDTH), scoreBatch(tf, model, INPUT, ROWS, WIDTH));
    } finally {
      loaded.model.dispose();
    }
  });

  test('two saves give two versions; list shows both, oldest first, the second active', async () => {
    const store = await fresh();
    assert.deepEqual(await store.list(), []);
    assert.equal(await store.activeVersion(), null);
    const first = await saveOne(store);
    const second = await saveOne(store);
    assert.match(second, /^v0002-/);
    const listed = await store.list();
    assert.deepEqual(
      listed.map((v) => [v.version, v.active, v.problem]),
      [
        [first, false, null],
        [second, true, null],
      ],
    );
    assert.equal((listed[1]!.metrics as { version: string }).version, second);
    assert.equal(listed[1]!.createdAt, (listed[1]!.metrics as { createdAt: string }).createdAt);
    assert.equal(await store.activeVersion(), second);
  });

  test('activating the first version makes it the active one, and load follows', async () => {
    const store = await fresh();
    const first = await saveOne(store);
    const second = await saveOne(store);
    await store.activate(first);
    assert.equal(await store.activeVersion(), first);
    assert.deepEqual(
      (await store.list()).map((v) => [v.version, v.active]),
      [
        [first, true],
        [second, false],
      ],
    );
    assert.equal((await readFile(join(store.root, 'ACTIVE'), 'utf8')).trim(), first);
    const loaded = await store.load(tf);
    loaded.model.dispose();
    assert.equal(loaded.version, first);
  });

  test('a save that does not activate leaves the active version alone', async () => {
    const store = await fresh();
    const first = await saveOne(store);
    const second = await saveOne(store, false);
    assert.equal(await store.activeVersion(), first);
    const loaded = await store.load(tf, second);
    loaded.model.dispose();
    assert.equal(loaded.version, second);
  });

  describe('a broken version folder is a ModelLoadError naming the file', () => {
    const cases: { name: string; file: string; message: RegExp; breakIt: (dir: string) => Promise<void>; preprocess?: object }[] = [
      {
        name: 'a truncated weights.bin',
        file: 'weights.bin',
        message: /weights\.bin: is 100 bytes but the weightsManifest in model\.json describes \d+ \(truncated\?\)/,
        breakIt: (dir) => truncate(join(dir, 'weights.bin'), 100),
      },
      {
        name: 'a model.json that is not JSON',
        file: 'model.json',
        message: /model\.json: is not valid JSON/,
        breakIt: (dir) => writeFile(join(dir, 'model.json'), '{"modelTopology": '),
      },
      {
        name: 'a model.json without a weights manifest',
        file: 'model.json',
        message: /model\.json: has no weightsManifest array/,
        breakIt: (dir) => writeFile(join(dir, 'model.json'), '{"modelTopology": {}}'),
      },
      {
        name: 'a missing preprocess.json',
        file: 'preprocess.json',
        message: /preprocess\.json: is missing/,
        breakIt: (dir) => rm(join(dir, 'preprocess.json')),
      },
      {
        name: 'a preprocess width that is not the model input width',
        file: 'preprocess.json',
        message: /preprocess\.json: width is 9 but the model in model\.json takes 8 inputs and gives 8 outputs/,
        breakIt: () => Promise.resolve(),
        preprocess: { width: WIDTH + 1 },
      },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        const store = await fresh();
        const version = await saveOne(store, true, c.preprocess);
        await c.breakIt(join(store.root, version));
        const error = await loadError(store.load(tf));
        assert.equal(basename(error.file), c.file);
        assert.equal(error.version, version);
        assert.match(error.message, c.message);
        assert.ok(error.message.includes(join(store.root, version, c.file)), `the message names the path: ${error.message}`);
        // A broken version still lists, so it can be seen and replaced.
        assert.deepEqual((await store.list()).map((v) => v.version), [version]);
      });
    }
  });

  test('an unknown version, no active version and a bad ACTIVE are each a ModelLoadError', async () => {
    const store = await fresh();
    const none = await loadError(store.load(tf));
    assert.match(none.message, /no active model: .*ACTIVE does not exist/);
    assert.equal(basename(none.file), 'ACTIVE');

    await saveOne(store, false);
    const unknown = await loadError(store.load(tf, 'v0007-20261120T231500Z'));
    assert.match(unknown.message, /unknown model version v0007-20261120T231500Z: .* does not exist \(versions: v0001-/);

    await writeFile(join(store.root, 'ACTIVE'), '../../etc\n');
    const bad = await loadError(store.load(tf));
    assert.match(bad.message, /ACTIVE holds "\.\.\/\.\.\/etc\\n", which is not a version name/);
  });

  test('a stray .tmp- folder is not listed, and old leftovers are removed', async () => {
    const store = await fresh();
    const version = await saveOne(store);
    const stray = join(store.root, '.tmp-0123abcd');
    await mkdir(stray);
    await writeFile(join(stray, 'model.json'), '{');
    await mkdir(join(store.root, 'not-a-version'));
    assert.deepEqual((await store.list()).map((v) => v.version), [version]);
    await store.removeLeftovers(0);
    assert.deepEqual((await readdir(store.root)).sort(), ['ACTIVE', 'not-a-version', version]);
  });

  test('a version name that is not vNNNN-… is refused before it touches the file system', async () => {
    const store = await fresh();
    await saveOne(store);
    for (const name of ['../x', '..', 'v0001-20261120T231500Z/../../x', 'v1-20261120T231500Z', '']) {
      await assert.rejects(store.activate(name), /not a model version name; expected one like v0001-20261120T231500Z/, name);
      const error = await loadError(store.load(tf, name === '' ? 'x' : name));
      assert.match(error.message, /is not a model version name/);
    }
    await assert.rejects(store.activate('v0009-20261120T231500Z'), /cannot activate v0009-20261120T231500Z: there is no such version in .* \(versions: v0001-/);
  });
});

async function loadError(promise: Promise<unknown>): Promise<ModelLoadError> {
  try {
    const loaded = (await promise) as { model?: LayersModel };
    loaded.model?.dispose();
  } catch (error) {
    if (error instanceof ModelLoadError) return error;
    throw error;
  }
  return assert.fail('the model loaded but should not have');
}
