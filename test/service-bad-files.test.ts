// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { repoRoot, shared } from './support/paths.js';
import { killLeftoverServices, placeArchive, readLedger, serviceDirs, ServiceProcess, type RunAs, type LedgerRow } from './support/service.js';

const DAY = '2024-04-19';
const RITA_DAY = shared('rotated', 'rita-missing-host', DAY);
const pad = (n: number): string => String(n).padStart(2, '0');
const hourName = (hour: number): string => `conn.${pad(hour)}:00:00-${pad(hour + 1)}:00:00.log.gz`;

// root reads a file whatever its mode: to meet EACCES as a service user would, the service runs as
// nobody when the tests run as root.
const NOBODY: RunAs = { uid: 65534, gid: 65534 };
const runAs: RunAs = process.getuid?.() === 0 ? NOBODY : {};

after(killLeftoverServices);

describe('the watch service, when queued archives go bad', () => {
  test('an archive that vanishes, becomes unreadable, or is replaced by a directory or a FIFO is one failed row with the OS error, and the service scores the rest and runs on', { timeout: 120_000 }, async () => {
    // No model yet: the service lists the archives (queueing them all), then trains one for seconds
    // before it scores any. The archives are spoiled in that window, after they were queued.
    const dirs = await serviceDirs({ config: { bootstrap: { minRows: 1000, maxRows: 20_000 }, retrain: { epochs: 2 } } });
    try {
      const archives = [];
      for (let hour = 0; hour < 6; hour++) archives.push(await placeArchive(dirs.logDir, DAY, hourName(hour), join(RITA_DAY, hourName(hour))));
      const [first, second, vanished, unreadable, directory, fifo] = archives as [string, string, string, string, string, string];
      if (runAs.uid !== undefined) for (const dir of [dirs.root, dirs.dataDir, dirs.logDir, join(dirs.logDir, DAY)]) await chmod(dir, 0o777);

      if (runAs.uid !== undefined) assertRunnableAs(runAs);
      const service = ServiceProcess.watch(dirs.flags, repoRoot, runAs);
      await service.waitFor("the bootstrap's start", (line) => line.event === 'bootstrap' && line.trained === undefined);
      await rm(vanished);
      await chmod(unreadable, 0o000);
      await rm(directory);
      await mkdir(directory);
      await rm(fifo);
      execFileSync('mkfifo', [fifo]);
      assert.equal(service.fileLines().length, 0, `no file may be scored before the archives were spoiled\n${service.transcript()}`);

      const lines = new Map<string, string>();
      for (const path of archives) lines.set(path, String((await service.waitForFile(path)).status));
      assert.deepEqual(
        archives.map((path) => lines.get(path)),
        ['done', 'done', 'failed', 'failed', 'failed', 'failed'],
        service.transcript(),
      );

      // Still running: a new archive is scored.
      const later = await placeArchive(dirs.logDir, DAY, hourName(6), join(RITA_DAY, hourName(6)));
      assert.equal((await service.waitForFile(later, { why: 'an archive rotated after the failures' })).status, 'done');
      assert.deepEqual(await service.stop('SIGTERM'), { code: 0, signal: null }, service.transcript());

      const ledger = readLedger(dirs.db);
      const failedRow = (path: string): LedgerRow => {
        const rows = ledger.files.filter((row) => row.path === path);
        assert.equal(rows.length, 1, `${path}: one ledger row, got ${JSON.stringify(rows)}`);
        assert.equal(rows[0]!.status, 'failed');
        assert.ok(rows[0]!.error?.includes(path), `the error names the path: ${rows[0]!.error}`);
        return rows[0]!;
      };
      assert.match(failedRow(vanished).error!, /ENOENT: no such file or directory/);
      assert.match(failedRow(unreadable).error!, /EACCES: permission denied/);
      assert.match(failedRow(directory).error!, /not a regular file \(a directory\)/);
      assert.match(failedRow(fifo).error!, /not a regular file \(a FIFO\)/);
      for (const path of [first, second, later]) assert.equal(ledger.files.find((row) => row.path === path)?.status, 'done', path);

      // The next start meets the same bad paths again (those still there) and records nothing more.
      const again = ServiceProcess.watch([...dirs.flags, '--once'], repoRoot, runAs);
      assert.deepEqual(await again.waitForExit(), { code: 0, signal: null }, again.transcript());
      assert.deepEqual(readLedger(dirs.db).files, ledger.files, 'the ledger after a restart');
    } finally {
      await dirs.cleanup();
    }
  });
});

/** Fails, saying what to fix, when this Node or the repository cannot be run by `as` (a Node kept under /root, say). */
function assertRunnableAs(as: RunAs): void {
  const probe = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(join(repoRoot, 'dist', 'scripts', 'cli.js'))})`], { ...as, encoding: 'utf8' });
  assert.equal(
    probe.status,
    0,
    `the service must run as uid ${as.uid} for this test, but ${process.execPath} or ${repoRoot} cannot be run or read by it (${probe.error?.message ?? probe.stderr}): keep Node and the repository where that user can reach them`,
  );
}
