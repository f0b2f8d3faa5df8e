// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findConnLogs, type FoundLog } from '../pipeline/discover/log-files.js';
import { LogReadError } from '../pipeline/read/log-read-error.js';
import { readConnLog } from '../pipeline/read/read-conn-log.js';
import { plannedUniformSample } from '../pipeline/train/planned-sample.js';
import { trainingSample, type TrainingSample } from '../pipeline/train/training-sample.js';
import { fixture, tempDir } from './support/paths.js';

const HOUR = fixture('sample', '2024-04-19', 'conn.00:00:00-01:00:00.log.gz');
const ALL = { since: -Infinity, until: Infinity };

/** Offers every row of `files` as retrain does: a checkpoint per file, rolled back when the file fails. */
async function offerAll(sample: TrainingSample, files: readonly FoundLog[]): Promise<void> {
  for (const found of files) {
    sample.begin();
    try {
      for await (const batch of readConnLog(found.path)) for (const record of batch) sample.offer({ record, context: null });
      sample.commit();
    } catch (error) {
      sample.rollback();
      if (!(error instanceof LogReadError)) throw error;
    }
  }
}

const uidsOf = (sample: TrainingSample): (string | null)[] => sample.drawn().rows.map((row) => row.record.uid);

describe('the uniform sample planned in a first read', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let files: FoundLog[];
  before(async () => {
    ({ dir, cleanup } = await tempDir());
    // Three hours: the fixture, a copy cut off half-way (it fails to read), and the fixture again.
    const bytes = await readFile(HOUR);
    await copyFile(HOUR, join(dir, 'conn.00:00:00-01:00:00.log.gz'));
    await writeFile(join(dir, 'conn.01:00:00-02:00:00.log.gz'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    await copyFile(HOUR, join(dir, 'conn.02:00:00-03:00:00.log.gz'));
    files = (await findConnLogs([dir])).files;
    assert.equal(files.length, 3);
  });
  after(() => cleanup());

  test('holds the same rows, in the same order, as the one-read reservoir, a failed file between them and all', async () => {
    const planned = await plannedUniformSample(files, { maxRows: 500, seed: 7, ...ALL });
    assert.ok(planned !== null);
    await offerAll(planned, files);
    const reservoir = trainingSample('uniform', 500, 7);
    await offerAll(reservoir, files);
    assert.equal(planned.seen, reservoir.seen);
    assert.equal(planned.size, 500);
    assert.deepEqual(uidsOf(planned), uidsOf(reservoir));
  });

  test('another seed plans another sample', async () => {
    const a = await plannedUniformSample(files, { maxRows: 500, seed: 7, ...ALL });
    const b = await plannedUniformSample(files, { maxRows: 500, seed: 8, ...ALL });
    await offerAll(a!, files);
    await offerAll(b!, files);
    assert.notDeepEqual(uidsOf(a!), uidsOf(b!));
  });

  test('with room for every row, it keeps every row of the files that read, in order', async () => {
    const planned = await plannedUniformSample(files, { maxRows: 1_000_000, seed: 7, ...ALL });
    await offerAll(planned!, files);
    const rows: (string | null)[] = [];
    for await (const batch of readConnLog(HOUR)) for (const record of batch) rows.push(record.uid);
    assert.deepEqual(uidsOf(planned!), [...rows, ...rows]);
  });

  test('a stop during the first read gives no sample', async () => {
    const stop = new AbortController();
    stop.abort();
    assert.equal(await plannedUniformSample(files, { maxRows: 500, seed: 7, ...ALL, signal: stop.signal }), null);
  });
});
