// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, describe, test } from 'node:test';
import { repoRoot, shared } from './support/paths.js';
import { archivesIn, killLeftoverServices, placeArchive, readLedger, serviceDirs, ServiceProcess } from './support/service.js';

const RITA = shared('rotated', 'rita-missing-host');

after(killLeftoverServices);

/** Copies the rita archives of `days` into the log directory; returns how many. */
async function placeRitaDays(logDir: string, days: string[]): Promise<number> {
  let placed = 0;
  for (const day of days) {
    for (const file of await archivesIn(join(RITA, day))) {
      await placeArchive(logDir, day, file.slice(file.lastIndexOf('/') + 1), file);
      placed++;
    }
  }
  return placed;
}

/** The model versions saved in a data dir, and whether one is active. */
async function savedModels(dataDir: string): Promise<{ versions: string[]; active: boolean }> {
  const models = join(dataDir, 'models');
  if (!existsSync(models)) return { versions: [], active: false };
  const versions = (await readdir(models)).filter((name) => name.startsWith('v'));
  return { versions, active: existsSync(join(models, 'ACTIVE')) };
}

describe('the watch service, starting and stopping around a retrain', () => {
  test('with fewer rows than bootstrap.minRows, the bootstrap saves no model, scores nothing and waits for more archives', { timeout: 60_000 }, async () => {
    const dirs = await serviceDirs({ config: { bootstrap: { minRows: 1_000_000, maxRows: 1_000_000 }, retrain: { epochs: 2 } } });
    try {
      await placeRitaDays(dirs.logDir, ['2024-04-19']);
      const service = ServiceProcess.watch([...dirs.flags, '--once'], repoRoot);
      assert.deepEqual(await service.waitForExit(), { code: 0, signal: null }, service.transcript());
      const verdict = service.lines.find((line) => line.event === 'bootstrap' && line.trained === false);
      assert.ok(verdict, `a bootstrap line saying nothing was trained\n${service.transcript()}`);
      assert.match(String(verdict.reason), /usable rows in 24 files \(at least 1000000 are needed\)/);
      assert.deepEqual(await savedModels(dirs.dataDir), { versions: [], active: false });
      assert.equal(service.fileLines().length, 0, 'no file was scored');
      assert.equal(readLedger(dirs.db).files.length, 0, 'the ledger is empty');
    } finally {
      await dirs.cleanup();
    }
  });

  test('SIGTERM during a bootstrap retrain exits 0 within 5 s, with no model saved or active', { timeout: 120_000 }, async () => {
    // Three days (105,918 rows) and up to 50 epochs: training lasts far longer than the stop takes.
    const dirs = await serviceDirs({ config: { bootstrap: { minRows: 1000, maxRows: 200_000 }, retrain: { epochs: 50 } } });
    try {
      await placeRitaDays(dirs.logDir, ['2024-04-19', '2024-04-20', '2024-04-21']);
      const service = ServiceProcess.watch(dirs.flags, repoRoot);
      const firstEpoch = await service.waitFor('the first epoch of the bootstrap', (line) => line.event === 'bootstrap' && line.phase === 'epoch');
      assert.equal(firstEpoch.epoch, 1);

      const stopAt = performance.now();
      const exit = await service.stop('SIGTERM', 10_000);
      const seconds = (performance.now() - stopAt) / 1000;
      assert.deepEqual(exit, { code: 0, signal: null }, service.transcript());
      assert.ok(seconds < 5, `exited ${seconds.toFixed(1)} s after SIGTERM (at most 5)\n${service.transcript()}`);

      assert.ok(!service.lines.some((line) => line.event === 'bootstrap' && line.trained === true), `no bootstrap finished\n${service.transcript()}`);
      assert.deepEqual(await savedModels(dirs.dataDir), { versions: [], active: false }, 'nothing half-made is saved or active');
      assert.equal(service.lines.at(-1)?.event, 'stopped', service.transcript());
    } finally {
      await dirs.cleanup();
    }
  });
});
