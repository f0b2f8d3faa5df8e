import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { countAnomalies, explainAnomalyQuery, pruneAnomaliesBefore, queryAnomalies } from '../db/anomalies.js';
import { ANOMALY_COLUMN_NAMES, ANOMALY_COLUMNS, anomaliesTableColumns, schemaDrift, SQL_TYPES, type AnomalyColumn, type AnomalyRow } from '../db/anomaly-columns.js';
import type { Db, Engine, SqliteDb } from '../db/connection.js';
import { readContextState, writeContextState } from '../db/context-state.js';
import { countFiles, findByPathAndSha256, findDoneBySha256, findFileById, insertFile, listFiles } from '../db/files.js';
import { anomaliesOfFinding, insertFinding, queryFindings, saveTrack, trackOf } from '../db/findings.js';
import { adoptUnnamedRows, listSensors } from '../db/sensors.js';
import { claimSensorLease, LeaseLostError, listSensorLeases, releaseSensorLease, renewSensorLease } from '../db/leases.js';
import { startSensor } from '../pipeline/ledger/sensor-start.js';
import { listModels, setActiveModel, upsertModel } from '../db/models.js';
import { MIGRATIONS } from '../db/migrations.js';
import { openDatabase } from '../db/open-database.js';
import { SCHEMA_VERSION } from '../db/migrations.js';
import { insertAnomalies, recordFailedFile, recordScoredFile, recordSkippedFile, type ScoredFile } from '../db/record-file.js';
import { openSqlite } from '../db/sqlite/open-sqlite.js';
import { countStagedAnomalies } from '../db/sqlite/staged-anomalies.js';
import { holdWriteLock } from './support/hold-write-lock.js';
import { repoRoot, tempDir } from './support/paths.js';
import { startPostgres, type LocalPostgres } from '../scripts/dev/local-postgres.js';

/** The sensor the tests record as (the migration tests' older rows have none: ''). */
const SENSOR = 'sensor-a';

/** The ledger and query tests run on both engines; the rest are about SQLite's file, locks and upgrades. */
const ENGINES: readonly Engine[] = ['sqlite', 'postgres'];

let dir: string;
let cleanup: () => Promise<void>;
let postgres: LocalPostgres;
before(async () => {
  ({ dir, cleanup } = await tempDir('zeek-anomaly-db-'));
  postgres = await startPostgres();
});
after(async () => {
  postgres.stop();
  await cleanup();
});

let fileCount = 0;
/** A fresh database file path in the test's temp dir, in a folder that does not exist yet. */
function freshPath(): string {
  return join(dir, `case-${++fileCount}`, 'nested', 'zeek-anomaly.sqlite');
}

function scoredFile(overrides: Partial<ScoredFile> = {}): ScoredFile {
  return {
    sensor: SENSOR,
    path: '/opt/zeek/logs/2024-04-19/conn.00:00:00-01:00:00.log.gz',
    size: 12345,
    sha256: 'a'.repeat(64),
    rows: 1000,
    badLines: 2,
    flagged: 3,
    threshold: 0.5,
    thresholdMode: 'per-file',
    modelVersion: 'v0001-20240419T000000Z',
    firstTs: 1713484800,
    lastTs: 1713488399.5,
    startedAt: '2024-04-19T01:00:05.000Z',
    finishedAt: '2024-04-19T01:00:07.000Z',
    ...overrides,
  };
}

function anomaly(overrides: Partial<AnomalyRow> = {}): AnomalyRow {
  return {
    ts: 1713484800.123456,
    uid: 'CHhAvVGS1DHFjwGM9',
    origH: '10.0.0.5',
    origP: 51234,
    respH: '93.184.216.34',
    respP: 443,
    proto: 'tcp',
    service: 'ssl',
    duration: 12.5,
    origBytes: 1200,
    respBytes: 34000,
    connState: 'SF',
    history: 'ShADadFf',
    origPkts: 20,
    respPkts: 30,
    score: 1,
    threshold: 0.5,
    modelVersion: 'v0001-20240419T000000Z',
    explanation: [
      { feature: 'orig_bytes', share: 0.62 },
      { feature: 'duration', share: 0.21 },
    ],
    connScore: null,
    contextScore: null,
    ...overrides,
  };
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** A new, empty store of `engine`'s: a SQLite file, or a database on the test's PostgreSQL server. */
function storeFor(engine: Engine): string {
  return engine === 'sqlite' ? freshPath() : postgres.newDatabaseUrl();
}

function withStore<T>(engine: Engine, fn: (db: Db) => T): T {
  const db = openDatabase(storeFor(engine));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function withDatabase<T>(fn: (db: SqliteDb, file: string) => T, file = freshPath()): T {
  const db = openSqlite(file);
  try {
    return fn(db, file);
  } finally {
    db.close();
  }
}

/** A ledger row written past the code's checks, as a bug or another program might. */
const INSERT_RAW_FILE = `INSERT INTO files (sensor, path, size, sha256, status, started_at, finished_at) VALUES (?, ?, 1, ?, ?, 'S', 'F')`;

/** A trigger that refuses the anomaly with uid 'boom', as only the anomalies table could (a full disk, say). */
const REFUSE_BOOM: Record<Engine, { create: string; drop: string }> = {
  sqlite: {
    create: `CREATE TEMP TRIGGER refuse_boom BEFORE INSERT ON main.anomalies WHEN NEW.uid = 'boom' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`,
    drop: 'DROP TRIGGER temp.refuse_boom',
  },
  postgres: {
    create: `CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.uid = 'boom' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER refuse_boom BEFORE INSERT ON anomalies FOR EACH ROW EXECUTE FUNCTION refuse_boom()`,
    drop: 'DROP TRIGGER refuse_boom ON anomalies; DROP FUNCTION refuse_boom()',
  },
};

/** How each engine refuses a second 'done' row for one sensor and content. */
const UNIQUE_DONE_ROW: Record<Engine, { code: string; message: RegExp }> = {
  sqlite: { code: 'SQLITE_CONSTRAINT_UNIQUE', message: /UNIQUE constraint failed: files\.sensor, files\.sha256/ },
  postgres: { code: '23505', message: /duplicate key value violates unique constraint "files_done_by_sha256" \(Key \(sensor, sha256\)=\(sensor-a, 5{64}\) already exists\.\)/ },
};

describe('openDatabase', () => {
  test('a fresh file: creates its folder, applies the migrations (user_version 11), WAL, NORMAL, foreign keys, busy timeout', () => {
    const file = freshPath();
    assert.equal(existsSync(join(file, '..')), false);
    withDatabase((db) => {
      assert.equal(SCHEMA_VERSION, 11);
      assert.equal(db.raw.pragma('user_version', { simple: true }), 11);
      assert.equal(db.raw.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.raw.pragma('synchronous', { simple: true }), 1, 'NORMAL');
      assert.equal(db.raw.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(db.raw.pragma('busy_timeout', { simple: true }), 60_000);
      const tables = db.raw.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).pluck().all();
      assert.deepEqual(tables, ['anomalies', 'context_state', 'files', 'finding_anomalies', 'finding_events', 'finding_files', 'finding_tracks', 'findings', 'models', 'sensor_leases', 'suppressions']);
    }, file);
  });

  test('reopening applies nothing again and keeps the data', () => {
    const file = freshPath();
    withDatabase((db) => recordScoredFile(db, scoredFile(), [anomaly()]), file);
    withDatabase((db) => {
      assert.equal(db.raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.equal(countAnomalies(db), 1);
      assert.equal(listFiles(db).length, 1);
    }, file);
    const reader = openSqlite(file, { readonly: true });
    try {
      assert.equal(countAnomalies(reader), 1);
    } finally {
      reader.close();
    }
  });

  test('a database with a newer schema (user_version 99) is refused, read-write and read-only, and left as it was', () => {
    const file = freshPath();
    withDatabase((db) => db.raw.pragma('user_version = 99'), file);
    const message = `${file}: the database schema is version 99, newer than this zeek-anomaly knows (${SCHEMA_VERSION}); upgrade zeek-anomaly or use another --db`;
    assert.throws(() => openSqlite(file), { message });
    assert.throws(() => openSqlite(file, { readonly: true }), { message });
    const raw = new BetterSqlite3(file, { readonly: true });
    assert.equal(raw.pragma('user_version', { simple: true }), 99);
    raw.close();
  });

  test('a file that is not a SQLite database is refused, naming it, and is not written to', () => {
    const file = join(dir, 'not-a-database.sqlite');
    const text = '#separator \\x09\n#path\tconn\n'.repeat(100);
    writeFileSync(file, text);
    for (const readonly of [false, true]) {
      assert.throws(
        () => openDatabase(file, { readonly }),
        (error: Error) => error.message.startsWith(`${file} is not a SQLite database`) && /file is not a database/.test(error.message),
      );
    }
    assert.equal(readFileSync(file, 'utf8'), text);
    assert.equal(existsSync(`${file}-wal`), false);
  });

  test('a SQLite database that belongs to something else is refused, naming its tables', () => {
    const file = join(dir, 'other-app.sqlite');
    const other = new BetterSqlite3(file);
    other.exec('CREATE TABLE users (id INTEGER PRIMARY KEY)');
    other.close();
    assert.throws(() => openSqlite(file), { message: `${file} is a SQLite database, but not zeek-anomaly's (it has the tables users and no schema version); use another --db` });
  });

  test('opening a SQLite file that is not ours changes nothing in it: refused, naming the file, same bytes, no -wal or -shm, journal mode still delete', () => {
    const foreign = join(dir, 'foreign-app.sqlite');
    const other = new BetterSqlite3(foreign);
    other.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2);");
    other.close();
    const newer = join(dir, 'newer-rollback.sqlite');
    const future = new BetterSqlite3(newer);
    future.exec('CREATE TABLE files (id INTEGER PRIMARY KEY)');
    future.pragma('user_version = 99');
    future.close();

    const cases: [string, RegExp][] = [
      [foreign, /is a SQLite database, but not zeek-anomaly's \(it has the tables t and no schema version\)/],
      [newer, /the database schema is version 99, newer than this zeek-anomaly knows/],
    ];
    for (const [file, reason] of cases) {
      const before = sha256(file);
      for (const readonly of [false, true]) {
        assert.throws(
          () => openDatabase(file, { readonly }),
          (error: Error) => error.message.startsWith(file) && reason.test(error.message),
          `${file}, readonly ${readonly}`,
        );
        assert.equal(sha256(file), before, `${file} (readonly ${readonly}) has the same bytes`);
        assert.equal(existsSync(`${file}-wal`), false, `no ${file}-wal`);
        assert.equal(existsSync(`${file}-shm`), false, `no ${file}-shm`);
      }
      const raw = new BetterSqlite3(file, { readonly: true });
      try {
        assert.equal(raw.pragma('journal_mode', { simple: true }), 'delete');
      } finally {
        raw.close();
      }
    }
  });

  test('read-only: a missing file is named and not created; the connection cannot write', () => {
    const missing = join(dir, 'nowhere', 'zeek-anomaly.sqlite');
    assert.throws(() => openDatabase(missing, { readonly: true }), { message: `no database at ${missing}: score or watch some logs first` });
    assert.equal(existsSync(join(dir, 'nowhere')), false);

    const file = freshPath();
    withDatabase(() => undefined, file);
    const reader = openSqlite(file, { readonly: true });
    try {
      assert.throws(() => recordScoredFile(reader, scoredFile(), []), /readonly/);
    } finally {
      reader.close();
    }
  });

  test('read-only: an empty database (never migrated) is refused rather than failing on a missing table', () => {
    const file = join(dir, 'empty.sqlite');
    new BetterSqlite3(file).close();
    assert.throws(() => openSqlite(file, { readonly: true }), { message: `${file} is an empty database, not one zeek-anomaly has written to: score or watch some logs first, or use another --db` });
  });
});

for (const engine of ENGINES) {
  describe(`the anomalies' column list on ${engine}`, () => {
    test('the migrated table has every column of the list, of its type and nullability, and no other', () => {
      withStore(engine, (db) => {
        const actual = anomaliesTableColumns(db);
        assert.deepEqual(schemaDrift(engine, actual), []);
        assert.deepEqual(
          actual.map((c) => c.name),
          ['id', 'file_id', ...ANOMALY_COLUMN_NAMES],
        );
      });
    });

    test('a copy of the list that drifts from the migrations (a column renamed, retyped, made nullable or added) is caught, naming each difference', () => {
      withStore(engine, (db) => {
        const drifted: AnomalyColumn[] = ANOMALY_COLUMNS.map((c): AnomalyColumn => {
          if (c.column === 'history') return { ...c, column: 'zeek_history' };
          if (c.column === 'orig_bytes') return { ...c, kind: 'text' };
          if (c.column === 'proto') return { ...c, required: false };
          return c;
        });
        drifted.push({ column: 'sni', key: 'sni', kind: 'text', required: false });
        const type = (kind: 'text' | 'bigint'): string => SQL_TYPES[kind][engine];
        assert.deepEqual(schemaDrift(engine, anomaliesTableColumns(db), drifted), [
          `anomalies.proto is NOT NULL; the column list says nullable`,
          `anomalies.orig_bytes is ${type('bigint')}; the column list says ${type('text')}`,
          `anomalies has no column zeek_history (${type('text')}), which the column list defines`,
          `anomalies has no column sni (${type('text')}), which the column list defines`,
          'anomalies.history is in the database but not in the column list',
        ]);
      });
    });
  });

  describe(`the ledger on ${engine}`, () => {
    test('recordScoredFile refuses a NOT NULL violation in the 3rd anomaly (on SQLite while staging, before the lock), naming the row and the file, and stores nothing', () => {
      withStore(engine, (db) => {
        const file = scoredFile();
        const rows = [anomaly(), anomaly(), anomaly({ origH: null as unknown as string }), anomaly(), anomaly()];
        assert.throws(
          () => recordScoredFile(db, file, rows),
          (error: Error) => {
            assert.ok(error.message.startsWith(`${db.name}: anomaly 3 of ${file.path} (uid CHhAvVGS1DHFjwGM9, ts 1713484800.123456): `), error.message);
            assert.match(error.message, engine === 'sqlite' ? /NOT NULL constraint failed: staged_anomalies\.orig_h/ : /origH is null; the column takes no NULL/);
            return true;
          },
        );
        if (db.engine === 'sqlite') assert.equal(db.raw.inTransaction, false);
        assert.deepEqual(countFiles(db), { done: 0, failed: 0, skipped: 0 });
        assert.equal(countAnomalies(db), 0);
        if (db.engine === 'sqlite') assert.equal(countStagedAnomalies(db), 0, 'the two rows staged before it are gone too');

        // A NaN score (NULL to SQLite; a value to PostgreSQL, but not one an anomaly may have) is refused the same way.
        assert.throws(
          () => recordScoredFile(db, scoredFile(), [anomaly({ score: NaN })]),
          engine === 'sqlite' ? /NOT NULL constraint failed: staged_anomalies\.score/ : /score is null; the column takes no NULL \(nor NaN\)/,
        );
        assert.equal(countAnomalies(db), 0);

        // Nothing of the refused attempts is left staged to slip in with the next file.
        const recorded = recordScoredFile(db, scoredFile(), [anomaly(), anomaly()]);
        assert.equal(recorded.status, 'done');
        assert.equal(countAnomalies(db), 2);
        assert.equal(findFileById(db, recorded.fileId)?.status, 'done');
        if (db.engine === 'sqlite') assert.equal(countStagedAnomalies(db), 0, 'the stage is emptied after the commit');
      });
    });

    test('recordScoredFile is atomic under the lock: an insert that fails on the 3rd anomaly leaves neither the file nor any anomaly', () => {
      withStore(engine, (db) => {
        // A failure only the anomalies table can raise (a full disk, say), from a trigger.
        db.exec(REFUSE_BOOM[engine].create);
        const rows = [anomaly(), anomaly(), anomaly({ uid: 'boom' }), anomaly()];
        assert.throws(() => recordScoredFile(db, scoredFile(), rows), (error: Error) => {
          assert.match(error.message, engine === 'sqlite' ? /: inserting the anomalies of file \d+: refused by the test$/ : /: inserting anomalies 1 to 4 of \/opt\/zeek\/.*: refused by the test$/);
          return true;
        });
        if (db.engine === 'sqlite') assert.equal(db.raw.inTransaction, false);
        assert.deepEqual(countFiles(db), { done: 0, failed: 0, skipped: 0 });
        assert.equal(countAnomalies(db), 0);
        if (db.engine === 'sqlite') assert.equal(countStagedAnomalies(db), 0);
        db.exec(REFUSE_BOOM[engine].drop);
        assert.equal(recordScoredFile(db, scoredFile(), rows).status, 'done');
        assert.deepEqual(queryAnomalies(db, { order: 'ts' }).map((a) => a.uid).reverse(), ['CHhAvVGS1DHFjwGM9', 'CHhAvVGS1DHFjwGM9', 'boom', 'CHhAvVGS1DHFjwGM9']);
      });
    });

    test('a file row round-trips with every field; failed and skipped files; status, limit and counts', () => {
      withStore(engine, (db) => {
        const file = scoredFile();
        const doneId = recordScoredFile(db, file, []).fileId;
        assert.deepEqual(findFileById(db, doneId), { ...file, id: doneId, status: 'done', error: null, duplicateOf: null });

        const failedId = recordFailedFile(
          db,
          { sensor: SENSOR, path: '/logs/broken.log.gz', size: 10, sha256: 'b'.repeat(64), startedAt: 'S', finishedAt: 'F', modelVersion: 'v0001-20240419T000000Z' },
          'truncated-gzip: the gzip stream ends before its end marker',
        ).fileId;
        const failed = findFileById(db, failedId);
        assert.equal(failed?.status, 'failed');
        assert.equal(failed?.error, 'truncated-gzip: the gzip stream ends before its end marker');
        assert.equal(failed?.modelVersion, 'v0001-20240419T000000Z');
        assert.equal(failed?.rows, null);

        const copyId = recordSkippedFile(db, { sensor: SENSOR, path: '/elsewhere/copy.log.gz', size: file.size, sha256: file.sha256, startedAt: 'S', finishedAt: 'F' }, doneId).fileId;
        assert.equal(findFileById(db, copyId)?.duplicateOf, doneId);
        assert.throws(
          () => recordSkippedFile(db, { sensor: SENSOR, path: '/x.log', size: 1, sha256: 'c', startedAt: 'S', finishedAt: 'F' }, 999),
          (error: Error) => {
            const refusal = engine === 'sqlite' ? 'FOREIGN KEY constraint failed' : 'insert or update on table "files" violates foreign key constraint';
            assert.ok(error.message.startsWith(`${db.name}: recording file /x.log of sensor ${SENSOR} (status skipped, duplicate of file 999): ${refusal}`), error.message);
            return true;
          },
        );

        assert.deepEqual(listFiles(db).map((f) => f.id), [copyId, failedId, doneId], 'newest first');
        assert.deepEqual(listFiles(db, { limit: 2 }).map((f) => f.id), [copyId, failedId]);
        assert.deepEqual(listFiles(db, { status: 'failed' }).map((f) => f.id), [failedId]);
        assert.deepEqual(countFiles(db), { done: 1, failed: 1, skipped: 1 });
        assert.throws(() => listFiles(db, { limit: 0 }), { message: `${db.name}: limit is 0; expected a whole number of 1 or more` });
        assert.throws(() => listFiles(db, { status: 'lost' as 'done' }), /status is 'lost'; expected one of done, failed, skipped/);
      });
    });

    test('recording a scored file checks the ledger again inside its transaction: a path seen before, or content done under another path, stores nothing', () => {
      withStore(engine, (db) => {
        const sha = 'd'.repeat(64);
        const identity = { sensor: SENSOR, size: 1, sha256: sha, startedAt: 'S', finishedAt: 'F' };
        recordFailedFile(db, { ...identity, path: '/a.log' }, 'boom');
        assert.equal(findDoneBySha256(db, SENSOR, sha), undefined, 'a failed file is not an original');
        const failedId = findByPathAndSha256(db, SENSOR, '/a.log', sha)?.id;
        const again = recordScoredFile(db, scoredFile({ path: '/a.log', sha256: sha }), [anomaly()]);
        assert.deepEqual({ ...again, lockSeconds: 0 }, { status: 'already-seen', fileId: failedId, previous: 'failed', lockSeconds: 0 });
        assert.ok(again.lockSeconds >= 0 && again.lockSeconds < 5, `lockSeconds ${again.lockSeconds}`);
        const first = recordScoredFile(db, scoredFile({ path: '/b.log', sha256: sha }), []);
        assert.equal(first.status, 'done');
        const copy = recordScoredFile(db, scoredFile({ path: '/c.log', sha256: sha }), [anomaly()]);
        assert.equal(copy.status, 'skipped');
        assert.equal(findFileById(db, copy.fileId)?.duplicateOf, first.fileId);
        assert.equal(findDoneBySha256(db, SENSOR, sha)?.id, first.fileId);
        assert.equal(findDoneBySha256(db, SENSOR, 'e'.repeat(64)), undefined);
        assert.equal(countAnomalies(db), 0, 'neither the already-seen nor the duplicate stored anomalies');

        assert.equal(findByPathAndSha256(db, SENSOR, '/a.log', sha)?.id, failedId, 'the failed attempt stays the one on record');
        assert.equal(findByPathAndSha256(db, SENSOR, '/a.log', 'e'.repeat(64)), undefined);
      });
    });

    test('insertAnomalies without a transaction of the caller writes each row; an explanation with NaN is refused, naming the row', () => {
      withStore(engine, (db) => {
        const fileId = insertFile(db, { ...scoredFile(), status: 'done', error: null, duplicateOf: null });
        insertAnomalies(db, fileId, [anomaly()]);
        assert.equal(countAnomalies(db), 1);
        assert.throws(
          () => insertAnomalies(db, fileId, [anomaly({ explanation: [{ feature: 'duration', share: NaN }] })]),
          /anomaly 1 of file \d+ .*explanation item \{"feature":"duration","share":null\}/,
        );
      });
    });
    test("the database itself refuses a second 'done' row for one content: an INSERT that bypasses the code's check fails on the unique index", () => {
      withStore(engine, (db) => {
        const sha = '5'.repeat(64);
        recordScoredFile(db, scoredFile({ path: '/first.log', sha256: sha }), [anomaly()]);
        const insert = (...values: string[]): number => db.run(INSERT_RAW_FILE, values);
        const unique = UNIQUE_DONE_ROW[engine];
        assert.throws(() => insert(SENSOR, '/second.log', sha, 'done'), (error: Error & { code?: string }) => unique.code === error.code && unique.message.test(error.message));
        // The code's own statement is refused the same way, and says which file.
        assert.throws(
          () => insertFile(db, { ...scoredFile({ path: '/second.log', sha256: sha }), status: 'done', error: null, duplicateOf: null }),
          (error: Error) =>
            error.message.startsWith(`${db.name}: recording file /second.log of sensor ${SENSOR} (status done): `) &&
            unique.message.test(error.message) &&
            (error.cause as { code?: string }).code === unique.code,
        );
        // Only 'done' rows are unique per content: failed and skipped attempts at it, and other content, go in.
        insert(SENSOR, '/third.log', sha, 'failed');
        insert(SENSOR, '/fourth.log', sha, 'skipped');
        insert(SENSOR, '/other.log', '6'.repeat(64), 'done');
        // Unique per sensor: another sensor's copy of the content is its own.
        insert('sensor-b', '/second.log', sha, 'done');
        assert.deepEqual(countFiles(db, SENSOR), { done: 2, failed: 1, skipped: 1 });
        assert.deepEqual(countFiles(db), { done: 3, failed: 1, skipped: 1 });
        assert.equal(countAnomalies(db), 1);
      });
    });

    test('a saved context state is stored in pieces of at most 1 MiB and read back byte for byte, an empty part included', () => {
      withStore(engine, (db) => {
        const fileId = recordScoredFile(db, scoredFile(), []).fileId;
        const big = Buffer.from(Array.from({ length: 2.5 * 1024 * 1024 }, (_, i) => (i * 7) % 256));
        const parts = [Buffer.from('header'), big, Buffer.alloc(0)];
        db.transaction('test', () => writeContextState(db, SENSOR, fileId, parts));
        const pieces = db
          .all<{ part: number; piece: number; bytes: number }>('SELECT part, piece, length(bytes) AS bytes FROM context_state ORDER BY part, piece')
          .map((row) => [row.part, row.piece, row.bytes]);
        assert.deepEqual(pieces, [[0, 0, 6], [1, 0, 1024 * 1024], [1, 1, 1024 * 1024], [1, 2, 0.5 * 1024 * 1024], [2, 0, 0]]);
        assert.deepEqual(readContextState(db, SENSOR)?.parts.map((p) => Buffer.from(p)), parts);
        // Saving again replaces the state: no piece of the larger one is left behind.
        db.transaction('test', () => writeContextState(db, SENSOR, fileId, [Buffer.from('smaller')]));
        assert.deepEqual(readContextState(db, SENSOR)?.parts.map((p) => Buffer.from(p)), [Buffer.from('smaller')]);
      });
    });

    test('recording a failed or a skipped file a second time for the same path and content adds nothing and says already-seen, naming the first row', () => {
      withStore(engine, (db) => {
        const original = recordScoredFile(db, scoredFile({ path: '/original.log', sha256: '9'.repeat(64) }), []).fileId;
        const broken = { sensor: SENSOR, path: '/broken.log', size: 1, sha256: 'b'.repeat(64), startedAt: 'S', finishedAt: 'F' };
        const failed = recordFailedFile(db, broken, 'boom');
        assert.equal(failed.status, 'failed');
        assert.deepEqual(recordFailedFile(db, broken, 'boom again'), { status: 'already-seen', fileId: failed.fileId, previous: 'failed' });

        const copy = { sensor: SENSOR, path: '/copy.log', size: 1, sha256: '9'.repeat(64), startedAt: 'S', finishedAt: 'F' };
        const skipped = recordSkippedFile(db, copy, original);
        assert.equal(skipped.status, 'skipped');
        assert.deepEqual(recordSkippedFile(db, copy, original), { status: 'already-seen', fileId: skipped.fileId, previous: 'skipped' });
        assert.deepEqual(countFiles(db), { done: 1, failed: 1, skipped: 1 });
      });
    });
  });

  describe(`sensors on ${engine}`, () => {
    const OTHER = 'sensor-b';

    test('one content met by two sensors is done once for each; met again by either it is already-seen; files, counts and anomalies filter by sensor', () => {
      withStore(engine, (db) => {
        const sha = '5'.repeat(64);
        const a = recordScoredFile(db, scoredFile({ path: '/logs/a.log', sha256: sha }), [anomaly({ uid: 'from-a' })]);
        const b = recordScoredFile(db, scoredFile({ sensor: OTHER, path: '/logs/a.log', sha256: sha }), [anomaly({ uid: 'from-b' })]);
        assert.equal(a.status, 'done');
        assert.equal(b.status, 'done', "the other sensor's copy is its own, not a duplicate");
        assert.equal(recordScoredFile(db, scoredFile({ path: '/logs/a.log', sha256: sha }), [anomaly()]).status, 'already-seen');
        assert.equal(recordScoredFile(db, scoredFile({ sensor: OTHER, path: '/logs/copy.log', sha256: sha }), [anomaly()]).status, 'skipped');
        assert.equal(findDoneBySha256(db, OTHER, sha)?.id, b.fileId);
        assert.deepEqual(listFiles(db, { sensor: SENSOR }).map((f) => [f.sensor, f.status]), [[SENSOR, 'done']]);
        assert.deepEqual(listFiles(db, { sensor: OTHER }).map((f) => [f.sensor, f.status]), [[OTHER, 'skipped'], [OTHER, 'done']]);
        assert.equal(listFiles(db).length, 3);
        assert.deepEqual(countFiles(db, OTHER), { done: 1, failed: 0, skipped: 1 });
        assert.deepEqual(queryAnomalies(db, { sensor: OTHER }).map((row) => [row.uid, row.sensor]), [['from-b', OTHER]]);
        assert.deepEqual(queryAnomalies(db).map((row) => row.sensor).sort(), [SENSOR, OTHER]);
        assert.deepEqual(listSensors(db), [
          { sensor: SENSOR, files: 1 },
          { sensor: OTHER, files: 2 },
        ]);
      });
    });

    test("each sensor's context state, findings and tracks are its own: saving one's leaves the other's as it was", () => {
      withStore(engine, (db) => {
        const fileA = recordScoredFile(db, scoredFile({ sha256: '1'.repeat(64) }), [], { contextState: [Buffer.from('state of a')] }).fileId;
        recordScoredFile(db, scoredFile({ sensor: OTHER, sha256: '2'.repeat(64) }), [], { contextState: [Buffer.from('state of b')] });
        db.transaction('test', () => writeContextState(db, SENSOR, fileA, [Buffer.from('a again')]));
        assert.deepEqual(readContextState(db, SENSOR)?.parts.map((p) => Buffer.from(p).toString()), ['a again']);
        assert.deepEqual(readContextState(db, OTHER)?.parts.map((p) => Buffer.from(p).toString()), ['state of b']);

        const entity = { type: 'beacon', src: '10.0.0.1', dst: '10.0.0.2', port: 443, proto: 'tcp' };
        const track = { ...entity, firstTs: 1, lastTs: 2, connections: 3, bytesOut: 4, bytesIn: 5, evidence: { seen: 'by a' }, uids: { first: 'Ca1', last: 'Ca2', top: null } };
        saveTrack(db, SENSOR, track);
        assert.equal(trackOf(db, OTHER, entity), undefined, 'the same entity on another sensor has no track');
        saveTrack(db, OTHER, { ...track, evidence: { seen: 'by b' } });
        assert.deepEqual(trackOf(db, SENSOR, entity)?.evidence, { seen: 'by a' });
        assert.deepEqual(trackOf(db, SENSOR, entity)?.uids, { first: 'Ca1', last: 'Ca2', top: null }, 'a track keeps its uids');
        const fields = { ...entity, severity: 'low' as const, score: 20, firstTs: 1, lastTs: 2, connections: 3, bytesOut: 4, bytesIn: 5, summary: 's', evidence: {}, modelVersion: null, uids: { first: 'Cf', last: null, top: null } };
        insertFinding(db, OTHER, fields, 'now');
        assert.deepEqual(queryFindings(db, { sensor: OTHER })[0]?.uids, { first: 'Cf', last: null, top: null }, 'a finding keeps its uids');
        // A finding raised before migration 9 has no sample: it reads as one with every uid unknown.
        db.run('UPDATE findings SET uids = NULL');
        assert.deepEqual(queryFindings(db, { sensor: OTHER })[0]?.uids, { first: null, last: null, top: null });
        assert.deepEqual(queryFindings(db, { sensor: SENSOR }), []);
        assert.deepEqual(queryFindings(db, { sensor: OTHER }).map((f) => f.sensor), [OTHER]);
      });
    });

    test("a writer's start tells the operator what it took, and warns when the ledger knows other sensors but not its own", () => {
      withStore(engine, (db) => {
        const addFile = (...values: string[]): number =>
          db.run(`INSERT INTO files (sensor, path, size, sha256, status, started_at, finished_at) VALUES (?, ?, 1, ?, 'done', 'S', 'F')`, values);
        assert.deepEqual(startSensor(db, SENSOR), [], 'an empty database: nothing to say');
        addFile('', '/old.log', '1'.repeat(64));
        assert.deepEqual(startSensor(db, SENSOR), [
          `took the rows recorded before sensors were named as sensor ${SENSOR}'s: 1 files, 0 findings, 0 tracks, 0 pieces of context state, 0 models`,
        ]);
        assert.deepEqual(startSensor(db, SENSOR), [], 'its own files, nothing left to take');
        const [renamed, ...more] = startSensor(db, 'renamed-host');
        assert.match(renamed ?? '', new RegExp(`^the database has files from ${SENSOR} \\(1 files\\) but none from sensor renamed-host: .* set sensor back`));
        assert.deepEqual(more, []);
      });
    });
  });

    describe(`querying anomalies on ${engine}`, () => {
    const T0 = 1713484800; // 2024-04-19T00:00:00Z
    let db: Db;
    let fileA: number;
    let fileB: number;

    before(() => {
      db = openDatabase(storeFor(engine));
      fileA = recordScoredFile(db, scoredFile({ path: '/logs/a.log' }), [
        anomaly({ ts: T0 + 10, uid: 'a1', origH: '10.0.0.1', respH: '10.0.0.2', score: 5 }),
        anomaly({ ts: T0 + 20, uid: 'a2', origH: '10.0.0.2', respH: '10.0.0.1', score: 1 }),
        anomaly({ ts: T0 + 30, uid: 'a3', origH: '10.0.0.3', respH: '10.0.0.4', score: 9 }),
        // A connection from the host to itself must come back once, not twice.
        anomaly({ ts: T0 + 40, uid: 'a4', origH: '10.0.0.1', respH: '10.0.0.1', score: 3 }),
      ]).fileId;
      fileB = recordScoredFile(db, scoredFile({ path: '/logs/b.log', sha256: 'b'.repeat(64) }), [
        anomaly({ ts: T0 + 50, uid: 'b1', origH: '10.0.0.9', respH: '10.0.0.1', score: 7 }),
        anomaly({ ts: T0 + 60, uid: 'b2', origH: '10.0.0.9', respH: '10.0.0.8', score: 2, explanation: [{ feature: 'resp_p', share: 1 }] }),
      ]).fileId;
    });
    after(() => db.close());

    const uids = (query: Parameters<typeof queryAnomalies>[1]): (string | null)[] => queryAnomalies(db, query).map((a) => a.uid);
    test('all, newest first, with their ids, file path and parsed explanation', () => {
      const rows = queryAnomalies(db);
      assert.deepEqual(rows.map((a) => a.uid), ['b2', 'b1', 'a4', 'a3', 'a2', 'a1']);
      const b2 = rows[0]!;
      assert.equal(b2.fileId, fileB);
      assert.equal(b2.filePath, '/logs/b.log');
      assert.deepEqual(b2.explanation, [{ feature: 'resp_p', share: 1 }]);
      assert.equal(b2.sensor, SENSOR, "its file's sensor");
      const { id: _id, fileId: _fileId, filePath: _filePath, sensor: _sensor, ...stored } = rows[5]!;
      assert.deepEqual(stored, anomaly({ ts: T0 + 10, uid: 'a1', origH: '10.0.0.1', respH: '10.0.0.2', score: 5 }), 'every column round-trips');
    });

    test('filters: since (inclusive), until (exclusive), host on either side, min score, file, limit, order', () => {
      assert.deepEqual(uids({ since: T0 + 30 }), ['b2', 'b1', 'a4', 'a3']);
      assert.deepEqual(uids({ until: T0 + 30 }), ['a2', 'a1']);
      assert.deepEqual(uids({ since: T0 + 20, until: T0 + 50 }), ['a4', 'a3', 'a2']);
      assert.deepEqual(uids({ host: '10.0.0.1' }), ['b1', 'a4', 'a2', 'a1'], 'orig_h or resp_h, the self-connection once');
      assert.deepEqual(uids({ host: '10.0.0.1', since: T0 + 15, until: T0 + 45 }), ['a4', 'a2']);
      assert.deepEqual(uids({ host: '10.0.0.8' }), ['b2'], 'responder only');
      assert.deepEqual(uids({ host: '192.0.2.1' }), []);
      assert.deepEqual(uids({ minScore: 5 }), ['b1', 'a3', 'a1'], 'inclusive');
      assert.deepEqual(uids({ fileId: fileA }), ['a4', 'a3', 'a2', 'a1']);
      assert.deepEqual(uids({ limit: 2 }), ['b2', 'b1']);
      assert.deepEqual(uids({ order: 'score' }), ['a3', 'b1', 'a1', 'a4', 'b2', 'a2']);
      assert.deepEqual(uids({ order: 'score', host: '10.0.0.1', limit: 3 }), ['b1', 'a1', 'a4']);
      assert.deepEqual(uids({ order: 'score', minScore: 2, since: T0 + 40, fileId: fileB }), ['b1', 'b2']);
      assert.throws(() => queryAnomalies(db, { limit: -5 }), { message: `${db.name}: limit is -5; expected a whole number of 1 or more` });
      assert.throws(() => queryAnomalies(db, { since: NaN }), { message: `${db.name}: querying anomalies: since is NaN; expected a number` });
    });

    test('after: pages of two, each starting after the last row of the one before, give every row once in order, ties included', () => {
      for (const order of ['ts', 'score'] as const) {
        for (const host of [undefined, '10.0.0.1']) {
          const all = queryAnomalies(db, { order, host });
          const paged: string[] = [];
          let after: { value: number; id: number } | undefined;
          for (;;) {
            const page = queryAnomalies(db, { order, host, after, limit: 2 });
            paged.push(...page.map((row) => row.uid!));
            const last = page.at(-1);
            if (page.length < 2 || last === undefined) break;
            after = { value: order === 'score' ? last.score : last.ts, id: last.id };
          }
          assert.deepEqual(paged, all.map((row) => row.uid), `${order}, host ${host ?? 'any'}`);
        }
      }
      assert.throws(() => queryAnomalies(db, { after: { value: Number.NaN, id: 1 } }), /after is .*expected \{ value: a finite number, id: a whole number \}/);

      // Rows alike in time and score are told apart by id: a page boundary between them loses none and repeats none.
      withStore(engine, (tied) => {
        recordScoredFile(tied, scoredFile(), Array.from({ length: 5 }, (_, i) => anomaly({ ts: T0, uid: `t${i}`, score: 4 })));
        for (const order of ['ts', 'score'] as const) {
          const first = queryAnomalies(tied, { order, limit: 2 });
          const last = first.at(-1)!;
          const rest = queryAnomalies(tied, { order, after: { value: order === 'ts' ? last.ts : last.score, id: last.id } });
          assert.deepEqual([...first, ...rest].map((row) => row.uid), ['t4', 't3', 't2', 't1', 't0'], order);
        }
      });
    });

    if (engine === 'sqlite') {
      test('EXPLAIN QUERY PLAN: time and host queries search an index, never scan the table', () => {
        const cases: [Parameters<typeof explainAnomalyQuery>[1], RegExp[]][] = [
          [{ since: T0, until: T0 + 100, limit: 10 }, [/SEARCH a USING INDEX anomalies_by_ts \(ts>\? AND ts<\?\)/]],
          [{ since: T0 }, [/SEARCH a USING INDEX anomalies_by_ts/]],
          [{ limit: 10 }, [/SCAN a USING INDEX anomalies_by_ts/]],
          [{ host: '10.0.0.1', limit: 10 }, [/SEARCH a USING INDEX anomalies_by_orig_h \(orig_h=\?\)/, /SEARCH a USING INDEX anomalies_by_resp_h \(resp_h=\?\)/, /MERGE \(UNION ALL\)/]],
          [{ host: '10.0.0.1', since: T0, until: T0 + 100 }, [/anomalies_by_orig_h \(orig_h=\? AND ts>\? AND ts<\?\)/, /anomalies_by_resp_h \(resp_h=\? AND ts>\? AND ts<\?\)/]],
          [{ order: 'score', minScore: 3 }, [/SEARCH a USING INDEX anomalies_by_score \(score>\?\)/]],
          [{ fileId: 1 }, [/anomalies_by_file \(file_id=\?\)/]],
          // The dashboard's next page: a range on the sort column's index, however deep.
          [{ after: { value: T0 + 50, id: 7 }, limit: 10 }, [/SEARCH a USING INDEX anomalies_by_ts \(ts<\?\)/]],
          [{ order: 'score', after: { value: 3, id: 7 }, limit: 10 }, [/SEARCH a USING INDEX anomalies_by_score \(score<\?\)/]],
        ];
        for (const [query, expected] of cases) {
          const plan = explainAnomalyQuery(db, query);
          const text = plan.join('\n');
          for (const pattern of expected) assert.match(text, pattern, `${JSON.stringify(query)}:\n${text}`);
          // A bare "SCAN a" (no index) would read every anomaly; the ts order with no filter walks the index instead.
          assert.ok(!plan.some((step) => /^SCAN a$|^SCAN anomalies$/.test(step)), `${JSON.stringify(query)} scans the table:\n${text}`);
          // Time and host queries walk their index in order and stop at the limit. (One file's
          // anomalies are few enough to sort: anomalies_by_file has no ts.)
          if (query?.fileId === undefined && query?.order !== 'score') {
            assert.ok(!plan.some((step) => step.includes('TEMP B-TREE')), `${JSON.stringify(query)} sorts instead of walking an index:\n${text}`);
          }
        }
      });
    }
  });

  describe(`sensor leases on ${engine}`, () => {
    const lease = (holder: string, seconds = 30) => ({ sensor: SENSOR, holder, seconds });

    test('one scorer holds a sensor at a time: a second is refused until the first lets go, and a release by a non-holder changes nothing', () => {
      withStore(engine, (db) => {
        assert.equal(claimSensorLease(db, lease('scorer-1')), true);
        assert.equal(claimSensorLease(db, lease('scorer-2')), false, 'held by scorer-1');
        assert.equal(claimSensorLease(db, lease('scorer-1')), true, 'the holder claims again (renews)');
        assert.equal(claimSensorLease(db, { ...lease('scorer-2'), sensor: 'sensor-b' }), true, "another sensor's lease is its own");
        releaseSensorLease(db, lease('scorer-2'));
        assert.deepEqual(listSensorLeases(db).map((row) => [row.sensor, row.holder]), [[SENSOR, 'scorer-1'], ['sensor-b', 'scorer-2']]);
        assert.equal(renewSensorLease(db, lease('scorer-1'), '/logs/a.log'), true);
        assert.equal(listSensorLeases(db)[0]?.file, '/logs/a.log', 'the file in hand is shown');
        releaseSensorLease(db, lease('scorer-1'));
        assert.equal(claimSensorLease(db, lease('scorer-2')), true, 'released: the next takes it at once');
      });
    });

    test("an expired lease is taken over; the old holder's renewal then fails and its file's write stores nothing", () => {
      withStore(engine, (db) => {
        // A lease that ran out a second ago: its holder stopped renewing (killed, or paused).
        assert.equal(claimSensorLease(db, lease('scorer-1', -1)), true);
        assert.deepEqual(listSensorLeases(db).map((row) => [row.holder, row.expired]), [['scorer-1', true]], 'shown as expired until taken');
        assert.equal(claimSensorLease(db, lease('scorer-2')), true, 'expired: taken over');
        assert.deepEqual(listSensorLeases(db).map((row) => [row.holder, row.expired]), [['scorer-2', false]]);
        assert.equal(renewSensorLease(db, lease('scorer-1'), null), false, 'the old holder learns it lost the lease');
        const written = () => recordScoredFile(db, scoredFile(), [anomaly()], { lease: lease('scorer-1'), contextState: [Buffer.from('old')] });
        assert.throws(written, (error: Error) => error instanceof LeaseLostError && /lease is held by scorer-2, no longer by scorer-1/.test(error.message));
        assert.throws(() => recordFailedFile(db, { ...scoredFile(), path: '/x.log' }, 'boom', lease('scorer-1')), LeaseLostError);
        assert.deepEqual(countFiles(db), { done: 0, failed: 0, skipped: 0 });
        assert.equal(countAnomalies(db), 0);
        assert.equal(readContextState(db, SENSOR), undefined, 'nor its context state');
        assert.equal(recordScoredFile(db, scoredFile(), [anomaly()], { lease: lease('scorer-2') }).status, 'done', 'the holder writes');
      });
    });
  });

  describe(`pruning on ${engine}`, () => {
    test('pruneAnomaliesBefore deletes only the rows older than the cut, and keeps the files ledger', () => {
      withStore(engine, (db) => {
        recordScoredFile(db, scoredFile(), [anomaly({ ts: 100 }), anomaly({ ts: 199.999 }), anomaly({ ts: 200 }), anomaly({ ts: 300 })]);
        assert.equal(pruneAnomaliesBefore(db, 200), 2);
        assert.deepEqual(queryAnomalies(db).map((a) => a.ts), [300, 200]);
        assert.equal(pruneAnomaliesBefore(db, 200), 0);
        assert.equal(listFiles(db).length, 1);
      });
    });
  });

  describe(`models on ${engine}`, () => {
    test('upsertModel and setActiveModel leave exactly one active per sensor; an unknown version changes nothing', () => {
      withStore(engine, (db) => {
        const active = (sensor = SENSOR): string[] => listModels(db, sensor).filter((m) => m.active).map((m) => m.version);
        const model = (version: string, isActive: boolean) => ({ version, createdAt: `2024-04-1${version.at(-1)}T00:00:00Z`, active: isActive, preset: 'default', metrics: { testLoss: 0.1, rows: { used: 5 } } });
        upsertModel(db, SENSOR, model('v1', true));
        upsertModel(db, SENSOR, model('v2', false));
        assert.deepEqual(active(), ['v1']);
        upsertModel(db, SENSOR, model('v3', true));
        assert.deepEqual(active(), ['v3'], 'a new active model deactivates the others');
        setActiveModel(db, SENSOR, 'v2');
        assert.deepEqual(active(), ['v2']);
        setActiveModel(db, SENSOR, 'v2');
        assert.deepEqual(active(), ['v2']);
        assert.throws(() => setActiveModel(db, SENSOR, 'v9'), { message: `${db.name}: no model version 'v9' of sensor ${SENSOR} in the models table` });
        assert.deepEqual(active(), ['v2']);
        // Another sensor's store has versions of the same names: its own rows, its own active one.
        upsertModel(db, 'sensor-b', model('v1', true));
        assert.deepEqual(active('sensor-b'), ['v1']);
        assert.deepEqual(active(), ['v2'], "the other sensor's active model leaves this one's as it was");
        assert.throws(() => setActiveModel(db, 'sensor-b', 'v3'), { message: `${db.name}: no model version 'v3' of sensor sensor-b in the models table` });
        upsertModel(db, SENSOR, { ...model('v1', false), preset: null, metrics: { testLoss: 0.05 } });
        assert.deepEqual(
          listModels(db, SENSOR).map((m) => [m.version, m.active, m.preset, m.metrics]),
          [
            ['v1', false, null, { testLoss: 0.05 }],
            ['v2', true, 'default', { testLoss: 0.1, rows: { used: 5 } }],
            ['v3', false, 'default', { testLoss: 0.1, rows: { used: 5 } }],
          ],
        );
      });
    });
  });
}

describe('a PostgreSQL connection that is lost', () => {
  test('between transactions, the next statements run on a new connection', () => {
    const url = postgres.newDatabaseUrl();
    const db = openDatabase(url);
    const admin = openDatabase(url);
    try {
      const pid = db.get<{ pid: number }>('SELECT pg_backend_pid() AS pid')!.pid;
      assert.equal(admin.get<{ ok: boolean }>('SELECT pg_terminate_backend(?) AS ok', [pid])?.ok, true);
      // The worker hears of the loss either before the next statement (it connects first) or from
      // its failure (that one statement fails, naming why): never more than one.
      try {
        countFiles(db);
      } catch (error) {
        assert.match((error as Error).message, /terminat/i);
      }
      assert.deepEqual(countFiles(db), { done: 0, failed: 0, skipped: 0 }, 'connected again');
      assert.notEqual(db.get<{ pid: number }>('SELECT pg_backend_pid() AS pid')!.pid, pid);
    } finally {
      db.close();
      admin.close();
    }
  });

  test('inside a transaction it rolls the whole file back: nothing goes on in autocommit on a new connection', () => {
    const url = postgres.newDatabaseUrl();
    const db = openDatabase(url);
    const admin = openDatabase(url);
    try {
      const pid = db.get<{ pid: number }>('SELECT pg_backend_pid() AS pid')!.pid;
      const rows = [anomaly(), anomaly(), anomaly()];
      let terminated = false;
      // The connection dies while the file's anomalies are being sent.
      const dying = (function* () {
        for (const row of rows) {
          if (!terminated && row === rows[1]) {
            admin.get('SELECT pg_terminate_backend(?)', [pid]);
            terminated = true;
          }
          yield row;
        }
      })();
      assert.throws(() => recordScoredFile(db, scoredFile(), dying, { contextState: [Buffer.from('state')] }));
      assert.equal(terminated, true);
      assert.deepEqual(countFiles(db), { done: 0, failed: 0, skipped: 0 });
      assert.equal(countAnomalies(db), 0);
      assert.equal(readContextState(db, SENSOR), undefined);
      assert.equal(recordScoredFile(db, scoredFile(), [anomaly()]).status, 'done', 'and the file is stored once it is tried again');
    } finally {
      db.close();
      admin.close();
    }
  });
});

describe('exactly once, in the schema: the SQLite migrations', () => {
  test("migration 2, on a version-1 database with three 'done' rows for one content, keeps the first, turns the later ones into skipped duplicates of it and deletes their anomalies", () => {
    const file = join(dir, 'version-1-duplicates.sqlite');
    const v1 = databaseAtVersion(file, 1);
    const [X, Y] = ['7'.repeat(64), '8'.repeat(64)];
    const addFile = v1.prepare(`
      INSERT INTO files (id, path, size, sha256, status, rows, bad_lines, flagged, threshold, threshold_mode, error, duplicate_of,
                         model_version, first_ts, last_ts, started_at, finished_at)
      VALUES (@id, @path, 100, @sha, @status, @rows, 0, @flagged, 0.5, @mode, @error, @duplicateOf, @model, 1.5, 2.5, 'S', 'F')`);
    const done = (id: number, path: string, sha: string, flagged: number) =>
      addFile.run({ id, path, sha, status: 'done', rows: 1000, flagged, mode: 'per-file', error: null, duplicateOf: null, model: 'v1' });
    done(1, '/a.log', X, 2);
    done(2, '/b.log', Y, 1);
    done(3, '/c.log', X, 2); // the old bug: the same content done again
    addFile.run({ id: 4, path: '/d.log', sha: X, status: 'skipped', rows: null, flagged: null, mode: null, error: null, duplicateOf: 3, model: null });
    addFile.run({ id: 5, path: '/e.log', sha: X, status: 'failed', rows: null, flagged: null, mode: null, error: 'boom', duplicateOf: null, model: 'v1' });
    done(6, '/f.log', X, 1); // and a third time
    const addAnomaly = v1.prepare(`
      INSERT INTO anomalies (file_id, ts, orig_h, orig_p, resp_h, resp_p, proto, score, threshold, model_version, explanation)
      VALUES (?, ?, '10.0.0.1', 1, '10.0.0.2', 2, 'tcp', 1, 0.5, 'v1', '[]')`);
    for (const [fileId, ts] of [[1, 10], [1, 11], [2, 20], [3, 10], [3, 11], [6, 10]] as const) addAnomaly.run(fileId, ts);
    const rowsBefore = v1.prepare('SELECT * FROM files ORDER BY id').all() as Record<string, unknown>[];
    v1.close();

    withDatabase((db) => {
      assert.equal(db.raw.pragma('user_version', { simple: true }), SCHEMA_VERSION, 'migrated to the latest version');
      const withSensor = db.raw.prepare('SELECT * FROM files ORDER BY id').all() as Record<string, unknown>[];
      assert.ok(withSensor.every((row) => row.sensor === ''), "rows from before migration 7 are no sensor's yet");
      const rows = withSensor.map(({ sensor: _, ...row }) => row);
      const demoted = (before: Record<string, unknown>) => ({
        ...before,
        status: 'skipped',
        duplicate_of: 1,
        rows: null,
        bad_lines: null,
        flagged: null,
        threshold: null,
        threshold_mode: null,
        model_version: null,
        first_ts: null,
        last_ts: null,
      });
      assert.deepEqual(rows, [
        rowsBefore[0], // the first 'done' of X stays as it was
        rowsBefore[1], // other content is untouched
        demoted(rowsBefore[2]!),
        { ...rowsBefore[3], duplicate_of: 1 }, // a skipped copy of the demoted row now names the first
        rowsBefore[4], // a failed attempt stays
        demoted(rowsBefore[5]!),
      ]);
      assert.deepEqual(db.raw.prepare('SELECT file_id, ts FROM anomalies ORDER BY id').raw().all(), [[1, 10], [1, 11], [2, 20]]);
      assert.equal(findDoneBySha256(db, '', X)?.id, 1);
      // A rescan of a demoted path is still recognised: it is in the ledger, now as skipped.
      assert.equal(findByPathAndSha256(db, '', '/c.log', X)?.status, 'skipped');
      assert.throws(() => db.raw.prepare(INSERT_RAW_FILE).run('', '/g.log', X, 'done'), { code: 'SQLITE_CONSTRAINT_UNIQUE' });
    }, file);
  });

  test("migration 5, on a version-4 database with a finding's links, gives each link its anomaly's score, and the finding's page reads them highest first", () => {
    const file = join(dir, 'version-4-links.sqlite');
    const v4 = databaseAtVersion(file, 4);
    v4.exec(`INSERT INTO files (id, path, size, sha256, status, started_at, finished_at) VALUES (1, '/a.log', 1, 'x', 'done', 'S', 'F')`);
    const addAnomaly = v4.prepare(`INSERT INTO anomalies (id, file_id, ts, orig_h, orig_p, resp_h, resp_p, proto, score, threshold, model_version, explanation)
      VALUES (?, 1, 1, '10.0.0.1', 1, '10.0.0.2', 2, 'tcp', ?, 0.5, 'v1', '[]')`);
    for (const [id, score] of [[1, 3], [2, 9], [3, 5]] as const) addAnomaly.run(id, score);
    v4.exec(`INSERT INTO findings (id, type, severity, score, first_ts, last_ts, connections, bytes_out, bytes_in, summary, evidence, created_at, updated_at)
      VALUES (1, 'anomaly-cluster', 'low', 30, 1, 1, 3, 0, 0, 's', '{}', 'C', 'U')`);
    v4.exec(`INSERT INTO finding_anomalies (finding_id, anomaly_id) VALUES (1, 1), (1, 2), (1, 3)`);
    v4.close();

    withDatabase((db) => {
      assert.equal(db.raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.deepEqual(db.raw.prepare('SELECT anomaly_id, score FROM finding_anomalies ORDER BY anomaly_id').raw().all(), [[1, 3], [2, 9], [3, 5]]);
      assert.deepEqual(anomaliesOfFinding(db, 1).map((a) => a.id), [2, 3, 1]);
    }, file);
  });

  test('migration 6, on a version-5 database with a saved context state, keeps each part byte for byte as a single piece', () => {
    const file = join(dir, 'version-5-state.sqlite');
    const v5 = databaseAtVersion(file, 5);
    v5.exec(`INSERT INTO files (id, path, size, sha256, status, started_at, finished_at) VALUES (7, '/a.log', 1, 'x', 'done', 'S', 'F')`);
    const parts = [Buffer.from('ZACTXST3 header'), Buffer.alloc(0), Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251))];
    const addPart = v5.prepare(`INSERT INTO context_state (part, file_id, saved_at, bytes) VALUES (?, 7, 'T', ?)`);
    parts.forEach((bytes, part) => addPart.run(part, bytes));
    v5.close();

    withDatabase((db) => {
      assert.equal(db.raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      const saved = readContextState(db, '');
      assert.equal(saved?.fileId, 7);
      assert.deepEqual(saved.parts.map((p) => Buffer.from(p)), parts);
      assert.deepEqual(db.raw.prepare('SELECT part, piece FROM context_state ORDER BY part').raw().all(), [[0, 0], [1, 0], [2, 0]]);
    }, file);
  });

  test('the check for a failed or skipped file is made under the write lock: a row another process adds while this one waits for the lock is seen, and nothing is added', async () => {
    for (const kind of ['failed', 'skipped'] as const) {
      const file = freshPath();
      const db = openSqlite(file);
      try {
        const original = recordScoredFile(db, scoredFile({ path: '/original.log', sha256: '9'.repeat(64) }), []).fileId;
        const sha = kind === 'failed' ? 'f'.repeat(64) : '9'.repeat(64);
        // The other process records /x.log first, and holds the lock a while before committing.
        const other = holdWriteLock(
          file,
          kind === 'failed'
            ? `INSERT INTO files (sensor, path, size, sha256, status, error, started_at, finished_at) VALUES ('${SENSOR}', '/x.log', 1, '${sha}', 'failed', 'boom', 'S', 'F')`
            : `INSERT INTO files (sensor, path, size, sha256, status, duplicate_of, started_at, finished_at) VALUES ('${SENSOR}', '/x.log', 1, '${sha}', 'skipped', ${original}, 'S', 'F')`,
          400,
        );
        await other.locked;
        // This process had checked the ledger before (processFile does) and found nothing.
        const identity = { sensor: SENSOR, path: '/x.log', size: 1, sha256: sha, startedAt: 'S', finishedAt: 'F' };
        const started = performance.now();
        const recorded = kind === 'failed' ? recordFailedFile(db, identity, 'boom') : recordSkippedFile(db, identity, original);
        const waited = performance.now() - started;
        assert.equal(await other.committed, 0);
        assert.ok(waited >= 200, `${kind}: it waited for the other process's lock (${waited.toFixed(0)} ms)`);
        const rows = db.raw.prepare(`SELECT id, status FROM files WHERE path = '/x.log'`).all() as { id: number; status: string }[];
        assert.equal(rows.length, 1, `${kind}: one row for /x.log, not two`);
        assert.deepEqual(recorded, { status: 'already-seen', fileId: rows[0]!.id, previous: kind });
      } finally {
        db.close();
      }
    }
  });
});

describe('sensors: migration 7 on SQLite', () => {
  const OTHER = 'sensor-b';

  test("migration 7, on a version-6 database: its files, findings, tracks, context state and models are no one's ('') until the first writer takes them, and then its rescan finds every file already seen", () => {
    const file = join(dir, 'version-6.sqlite');
    const v6 = databaseAtVersion(file, 6);
    const sha = '6'.repeat(64);
    v6.exec(`INSERT INTO files (id, path, size, sha256, status, started_at, finished_at) VALUES (1, '/a.log', 1, '${sha}', 'done', 'S', 'F')`);
    v6.exec(`INSERT INTO findings (id, type, severity, score, first_ts, last_ts, connections, bytes_out, bytes_in, summary, evidence, created_at, updated_at)
      VALUES (1, 'flood', 'low', 30, 1, 1, 3, 0, 0, 's', '{}', 'C', 'U')`);
    v6.exec(`INSERT INTO finding_tracks (entity, type, first_ts, last_ts, connections, bytes_out, bytes_in, evidence) VALUES ('k', 'beacon', 1, 2, 3, 4, 5, '{}')`);
    v6.exec(`INSERT INTO context_state (part, piece, file_id, saved_at, bytes) VALUES (0, 0, 1, 'T', x'0102')`);
    v6.exec(`INSERT INTO models (version, created_at, active, preset, metrics) VALUES ('v0001-20240419T000000Z', 'C', 1, 'default', '{}')`);
    v6.close();

    withDatabase((db) => {
      const unnamed = (table: string): unknown => db.raw.prepare(`SELECT count(*) FROM ${table} WHERE sensor = ''`).pluck().get();
      for (const table of ['files', 'findings', 'finding_tracks', 'context_state', 'models']) assert.equal(unnamed(table), 1, table);
      assert.deepEqual(adoptUnnamedRows(db, SENSOR), { files: 1, findings: 1, tracks: 1, contextPieces: 1, models: 1 });
      for (const table of ['files', 'findings', 'finding_tracks', 'context_state', 'models']) assert.equal(unnamed(table), 0, table);
      assert.deepEqual(listModels(db, SENSOR).map((m) => [m.version, m.active]), [['v0001-20240419T000000Z', true]]);
      assert.deepEqual(adoptUnnamedRows(db, OTHER), { files: 0, findings: 0, tracks: 0, contextPieces: 0, models: 0 }, 'the second writer finds nothing left to take');
      assert.equal(recordScoredFile(db, scoredFile({ path: '/a.log', sha256: sha }), [anomaly()]).status, 'already-seen');
      assert.deepEqual([...(readContextState(db, SENSOR)?.parts[0] ?? [])], [1, 2]);
      assert.deepEqual(queryFindings(db, { sensor: SENSOR }).map((f) => f.id), [1]);
    }, file);
  });
});

describe('WAL: readers never block the writer', () => {
  function seeded(file: string): void {
    withDatabase((db) => {
      recordScoredFile(db, scoredFile({ sha256: '0'.repeat(64) }), Array.from({ length: 50 }, (_, i) => anomaly({ ts: 1000 + i })));
    }, file);
  }

  /** The writer gives up at once instead of waiting: a blocked write shows as an error, not a slow test. */
  function impatientWriter(file: string): SqliteDb {
    const db = openSqlite(file);
    db.raw.pragma('busy_timeout = 0');
    return db;
  }

  test('a reader holding a SELECT open (iterate) on one connection does not block a write transaction on another', () => {
    const file = freshPath();
    seeded(file);
    const reader = openSqlite(file, { readonly: true });
    const writer = impatientWriter(file);
    try {
      const rows = reader.raw.prepare('SELECT ts FROM anomalies ORDER BY ts').pluck().iterate() as IterableIterator<number>;
      assert.equal(rows.next().value, 1000);
      const started = performance.now();
      recordScoredFile(writer, scoredFile({ sha256: '1'.repeat(64) }), [anomaly({ ts: 5000 })]);
      assert.ok(performance.now() - started < 1000, 'the write did not wait');
      let seen = 1;
      for (const _ of rows) seen++;
      assert.equal(seen, 50, 'the reader kept its snapshot: it does not see the row written while it read');
      assert.equal(countAnomalies(reader), 51, 'and its next query sees it');
    } finally {
      reader.close();
      writer.close();
    }
  });

  test('control: in rollback-journal mode the same open SELECT does block the write (so the test above can fail)', () => {
    const file = join(dir, 'rollback.sqlite');
    const setup = new BetterSqlite3(file);
    setup.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3);');
    assert.equal(setup.pragma('journal_mode', { simple: true }), 'delete');
    setup.close();
    const reader = new BetterSqlite3(file, { readonly: true });
    const writer = new BetterSqlite3(file, { timeout: 0 });
    try {
      const rows = reader.prepare('SELECT x FROM t').pluck().iterate();
      rows.next();
      assert.throws(() => writer.prepare('INSERT INTO t VALUES (4)').run(), { code: 'SQLITE_BUSY' });
      rows.return?.();
      writer.prepare('INSERT INTO t VALUES (4)').run();
    } finally {
      reader.close();
      writer.close();
    }
  });

  test('a reader in another process, mid-SELECT, does not block this process writing', async () => {
    const file = freshPath();
    seeded(file);
    const openDatabaseUrl = pathToFileURL(join(repoRoot, 'dist', 'db', 'open-database.js')).href;
    // The child opens the database as `anomalies` does, starts reading, says so, and holds the
    // statement open until its stdin closes; then it reports how many rows its snapshot held.
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { openDatabase } from ${JSON.stringify(openDatabaseUrl)};
         const db = openDatabase(${JSON.stringify(file)}, { readonly: true });
         const rows = db.raw.prepare('SELECT id FROM anomalies').pluck().iterate();
         rows.next();
         let n = 1;
         console.log('reading');
         process.stdin.resume();
         process.stdin.on('end', () => { for (const _ of rows) n++; console.log('rows ' + n); db.close(); });`,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const exited = once(child, 'exit');
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    try {
      assert.equal((await lines.next()).value, 'reading');
      const writer = impatientWriter(file);
      try {
        recordScoredFile(writer, scoredFile({ sha256: '2'.repeat(64) }), [anomaly({ ts: 6000 }), anomaly({ ts: 6001 })]);
        assert.equal(countAnomalies(writer), 52);
      } finally {
        writer.close();
      }
      child.stdin.end();
      assert.equal((await lines.next()).value, 'rows 50');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0);
    } finally {
      child.kill();
    }
  });
});

/** A new database at `file` as an older zeek-anomaly left it: the first `version` migrations applied. */
function databaseAtVersion(file: string, version: number): Database {
  const db = new BetterSqlite3(file);
  db.pragma('foreign_keys = ON');
  for (const migration of MIGRATIONS.slice(0, version)) db.exec(migration.sqlite);
  db.pragma(`user_version = ${version}`);
  return db;
}
