import * as assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { expectedRows } from '../pipeline/score/expected-rows.js';
import { tempDir } from './support/paths.js';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir()));
after(() => cleanup());

// A 25 MB log: large enough that the estimate is above its floor of 65,536 rows.
const text = Buffer.alloc(25_000_000, 'a');

test('a gzip file is sized by the uncompressed length it records, a row per 100 bytes', async () => {
  const file = join(dir, 'conn.log.gz');
  await writeFile(file, gzipSync(text));
  assert.equal(await expectedRows(file), 250_000);
});

test('a plain file is sized by its length, a row per 100 bytes', async () => {
  const file = join(dir, 'conn.log');
  await writeFile(file, text);
  assert.equal(await expectedRows(file), 250_000);
});

test('a small, missing or truncated file gets the floor of 65,536 rows', async () => {
  const truncated = join(dir, 'truncated.log.gz');
  await writeFile(truncated, Buffer.from([0x1f, 0x8b, 8]));
  assert.equal(await expectedRows(truncated), 65_536);
  assert.equal(await expectedRows(join(dir, 'missing.log.gz')), 65_536);
});
