import * as assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { SqliteDb } from '../db/connection.js';
import { countAnomalies } from '../db/anomalies.js';
import type { AnomalyRow } from '../db/anomaly-columns.js';
import { countFiles } from '../db/files.js';
import { openSqlite } from '../db/sqlite/open-sqlite.js';
import { recordScoredFile, type ScoredFile } from '../db/record-file.js';
import { holdWriteLock } from './support/hold-write-lock.js';
import { tempDir } from './support/paths.js';

// The write lock and who waits for it: a 10M-row file stores 500k anomalies in one transaction,
// and neither a reader nor a second writer may fail with SQLITE_BUSY meanwhile.

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir('zeek-anomaly-db-lock-')));
after(() => cleanup());

let fileCount = 0;
function freshPath(): string {
  return join(dir, `case-${++fileCount}.sqlite`);
}

function scoredFile(path: string, sha: string, flagged: number): ScoredFile {
  return {
    sensor: 'sensor-a',
    path,
    size: 1,
    sha256: sha.repeat(64),
    rows: flagged * 20,
    badLines: 0,
    flagged,
    threshold: 0.5,
    thresholdMode: 'per-file',
    modelVersion: 'v1',
    firstTs: 0,
    lastTs: 1,
    startedAt: 'S',
    finishedAt: 'F',
  };
}

function anomaly(i: number): AnomalyRow {
  return {
    ts: 1713484800 + i,
    uid: `C${i}`,
    origH: `10.0.${(i >> 8) & 255}.${i & 255}`,
    origP: 40000 + (i % 20000),
    respH: '192.0.2.1',
    respP: 443,
    proto: 'tcp',
    service: 'ssl',
    duration: 1.5,
    origBytes: i,
    respBytes: null,
    connState: 'SF',
    history: 'ShADadFf',
    origPkts: 3,
    respPkts: 4,
    score: i / 1000,
    threshold: 0.5,
    modelVersion: 'v1',
    explanation: [{ feature: 'orig_bytes', share: 0.75 }],
    connScore: null,
    contextScore: null,
  };
}

function* anomalies(count: number, onRow: (i: number) => void = () => {}): Generator<AnomalyRow> {
  for (let i = 0; i < count; i++) {
    onRow(i);
    yield anomaly(i);
  }
}

/** A writer that gives up at once instead of waiting: a blocked write shows as SQLITE_BUSY. */
function impatient(db: SqliteDb): SqliteDb {
  db.raw.pragma('busy_timeout = 0');
  return db;
}

// SQL for the other process: one file and `count` anomalies of it, written by SQLite itself.
function largeInsertSql(count: number): string {
  return `
    INSERT INTO files (path, size, sha256, status, started_at, finished_at) VALUES ('/other/big.log', 1, '${'e'.repeat(64)}', 'done', 'S', 'F');
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
    INSERT INTO anomalies (file_id, ts, orig_h, orig_p, resp_h, resp_p, proto, score, threshold, model_version, explanation)
    SELECT (SELECT max(id) FROM files), 1713484800 + i, '10.0.0.' || (i % 250), 40000, '192.0.2.1', 443, 'tcp', i / 1000.0, 0.5, 'v1', '[]' FROM n;`;
}

describe('the write lock', () => {
  test('the flagged rows are made before the write lock is taken: while they are produced, another connection writes without waiting', () => {
    const file = freshPath();
    const db = openSqlite(file);
    const other = impatient(openSqlite(file));
    try {
      let otherWrites = 0;
      const recorded = recordScoredFile(
        db,
        scoredFile('/logs/a.log', 'a', 5000),
        // Half-way through making the rows, the other connection writes, with no busy timeout:
        // it would fail with SQLITE_BUSY if this one held the lock while the rows were made.
        anomalies(5000, (i) => {
          if (i === 2500) {
            other.raw.prepare(`INSERT INTO models (sensor, version, created_at, active, metrics) VALUES ('sensor-a', 'v1', 'T', 1, '{}')`).run();
            otherWrites++;
          }
        }),
      );
      assert.equal(otherWrites, 1);
      assert.equal(recorded.status, 'done');
      assert.equal(countAnomalies(db), 5000);
      assert.ok(recorded.lockSeconds > 0 && recorded.lockSeconds < 5, `lockSeconds ${recorded.lockSeconds}`);
    } finally {
      other.close();
      db.close();
    }
  });

  test('storing a file checkpoints the WAL after the commit, outside the lock time, and leaves the automatic checkpoint as it was', () => {
    const file = freshPath();
    const db = openSqlite(file);
    try {
      const before = statSync(file).size;
      assert.equal(db.raw.pragma('wal_autocheckpoint', { simple: true }), 1000);
      recordScoredFile(db, scoredFile('/logs/a.log', 'a', 5000), anomalies(5000));
      // Under 1,000 pages: SQLite's automatic checkpoint would not have run; this one did.
      assert.ok(statSync(file).size > before + 1_000_000, `the pages reached the database file (${before} → ${statSync(file).size} bytes)`);
      assert.equal(db.raw.pragma('wal_autocheckpoint', { simple: true }), 1000);
    } finally {
      db.close();
    }
  });

  test("a second writer waits for another process's large insert to commit, then writes; with no busy timeout it would have failed with SQLITE_BUSY", async () => {
    const file = freshPath();
    const db = openSqlite(file);
    try {
      assert.ok((db.raw.pragma('busy_timeout', { simple: true }) as number) >= 30_000);
      const held = holdWriteLock(file, largeInsertSql(100_000), 500);
      await held.locked;

      // The control, first: not waiting is failing.
      const control = openSqlite(file);
      try {
        impatient(control);
        assert.throws(() => recordScoredFile(control, scoredFile('/logs/control.log', 'c', 10), anomalies(10)), { code: 'SQLITE_BUSY' });
      } finally {
        control.close();
      }

      const started = performance.now();
      const recorded = recordScoredFile(db, scoredFile('/logs/b.log', 'b', 1000), anomalies(1000));
      const waited = performance.now() - started;
      assert.equal(await held.committed, 0);
      assert.equal(recorded.status, 'done');
      assert.ok(waited >= 200, `it waited for the other process's commit (${waited.toFixed(0)} ms)`);
      assert.ok(recorded.lockSeconds < waited / 1000, 'the wait is not counted as holding the lock');
      assert.deepEqual(countFiles(db), { done: 2, failed: 0, skipped: 0 });
      assert.equal(countAnomalies(db), 101_000);
    } finally {
      db.close();
    }
  });

  test("a reader (openDatabase readonly, as the CLI and notebooks open it) during another process's large insert reads at once, the data committed before it", async () => {
    const file = freshPath();
    const writer = openSqlite(file);
    recordScoredFile(writer, scoredFile('/logs/a.log', 'a', 50), anomalies(50));
    writer.close();

    const reader = openSqlite(file, { readonly: true });
    try {
      assert.ok((reader.raw.pragma('busy_timeout', { simple: true }) as number) >= 30_000, 'readers wait too');
      impatient(reader); // so that a reader that had to wait here would fail instead
      const held = holdWriteLock(file, largeInsertSql(100_000), 500);
      await held.locked;
      const started = performance.now();
      assert.equal(countAnomalies(reader), 50);
      assert.deepEqual(countFiles(reader), { done: 1, failed: 0, skipped: 0 });
      assert.ok(performance.now() - started < 400, 'read without waiting for the commit');
      assert.equal(await held.committed, 0);
      assert.equal(countAnomalies(reader), 100_050, 'and once it is committed, the next query sees it');
    } finally {
      reader.close();
    }
  });

  test('a reader opening the database while SQLite locks the whole file (as it does to recover a WAL, or to checkpoint it when the last connection closes) waits and then reads; with no busy timeout it fails with SQLITE_BUSY', async () => {
    const file = freshPath();
    const writer = openSqlite(file);
    recordScoredFile(writer, scoredFile('/logs/a.log', 'a', 50), anomalies(50));
    writer.close();

    const held = holdWriteLock(file, largeInsertSql(10_000), 500, { wholeFile: true });
    await held.locked;
    // The control: the same read with no busy timeout fails.
    const impatientReader = new BetterSqlite3(file, { readonly: true, timeout: 0 });
    try {
      assert.throws(() => impatientReader.pragma('user_version', { simple: true }), { code: 'SQLITE_BUSY' });
    } finally {
      impatientReader.close();
    }
    const started = performance.now();
    const reader = openSqlite(file, { readonly: true });
    try {
      const count = countAnomalies(reader);
      const waited = performance.now() - started;
      assert.equal(count, 10_050, 'it read, once the other process had committed and let go');
      assert.ok(waited >= 200, `it waited (${waited.toFixed(0)} ms)`);
    } finally {
      reader.close();
    }
    assert.equal(await held.committed, 0);
  });
});
