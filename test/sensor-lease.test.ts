import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { claimSensorLease, sensorLeaseHolder, takeSensorLeaseFrom } from '../db/leases.js';
import { openDatabase } from '../db/open-database.js';
import type { Db } from '../db/connection.js';
import { SensorLease } from '../pipeline/ledger/sensor-lease.js';
import { tempDir } from './support/paths.js';

const SENSOR = 'edge-1';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir('zeek-anomaly-lease-')));
after(() => cleanup());

let stores = 0;
async function withStore<T>(fn: (db: Db) => Promise<T> | T): Promise<T> {
  const db = openDatabase(join(dir, `lease-${++stores}.sqlite`));
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

/** A process of this host that has run and exited: its pid names no running process. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

describe("a scorer's sensor lease", () => {
  test('a lease is taken from a named holder only while that holder has it', () =>
    withStore((db) => {
      const lease = (holder: string) => ({ sensor: SENSOR, holder, seconds: 600 });
      assert.equal(claimSensorLease(db, lease('scorer-1')), true);
      assert.equal(takeSensorLeaseFrom(db, lease('scorer-2'), 'scorer-x'), false, 'not held by scorer-x');
      assert.equal(sensorLeaseHolder(db, SENSOR), 'scorer-1');
      assert.equal(takeSensorLeaseFrom(db, lease('scorer-2'), 'scorer-1'), true);
      assert.equal(sensorLeaseHolder(db, SENSOR), 'scorer-2');
    }));

  test('a holder that was a process of this host, now gone, is not waited out: the lease is taken at once', () =>
    withStore(async (db) => {
      const dead = `${hostname()}:${await deadPid()}:x`;
      assert.equal(claimSensorLease(db, { sensor: SENSOR, holder: dead, seconds: 600 }), true);
      const waits: string[] = [];
      const lease = new SensorLease({ db, sensor: SENSOR, seconds: 600, onWait: (message) => waits.push(message) });
      try {
        assert.equal(await lease.acquire(new AbortController().signal), 'held');
        assert.deepEqual(waits, [], 'no wait');
        assert.equal(sensorLeaseHolder(db, SENSOR), lease.holder);
      } finally {
        lease.release();
      }
    }));

  test('a holder that still runs, here or on another host, is waited for', () =>
    withStore(async (db) => {
      for (const holder of [`${hostname()}:${process.ppid}:x`, `another-host:${await deadPid()}:x`]) {
        assert.equal(claimSensorLease(db, { sensor: SENSOR, holder, seconds: 600 }), true);
        const stop = new AbortController();
        const lease = new SensorLease({ db, sensor: SENSOR, seconds: 600, onWait: () => stop.abort() });
        assert.equal(await lease.acquire(stop.signal), 'stopped', `${holder}: waited, until told to stop`);
        assert.equal(sensorLeaseHolder(db, SENSOR), holder, 'and left it with its holder');
        db.run(`UPDATE sensor_leases SET holder = '' WHERE sensor = ?`, [SENSOR]);
      }
    }));

  test('a scorer waiting for a held lease stops waiting once its turn is no longer needed, and leaves the lease with its holder', () =>
    withStore(async (db) => {
      const holder = `${hostname()}:${process.ppid}:x`;
      assert.equal(claimSensorLease(db, { sensor: SENSOR, holder, seconds: 600 }), true);
      const lease = new SensorLease({ db, sensor: SENSOR, seconds: 600 });
      let asked = 0;
      // Needed at the first question, no longer at the second: the holder has finished the file meanwhile.
      const turn = await lease.acquire(new AbortController().signal, () => ++asked < 2);
      assert.equal(turn, 'not-needed');
      assert.equal(asked, 2, 'asked after each try that found the lease held');
      assert.equal(lease.held, false);
      assert.equal(sensorLeaseHolder(db, SENSOR), holder);
    }));

  test('a waiting scorer that cannot reach the store says so once, not at every try, and goes on waiting', () =>
    withStore(async (db) => {
      // A real failure at every claim: the table is gone.
      db.exec('DROP TABLE sensor_leases');
      const stop = new AbortController();
      let tries = 0;
      // The real store, its transactions counted: the wait is stopped at the third try.
      const counted = Object.create(db) as Db;
      counted.transaction = <T>(lock: string, fn: () => T): T => {
        if (++tries === 3) stop.abort();
        return db.transaction(lock, fn);
      };
      const waits: string[] = [];
      const lease = new SensorLease({ db: counted, sensor: SENSOR, seconds: 600, onWait: (message) => waits.push(message) });
      assert.equal(await lease.acquire(stop.signal), 'stopped');
      assert.equal(tries, 3);
      assert.equal(waits.length, 1, waits.join('\n'));
      assert.match(waits[0]!, /claiming sensor edge-1's lease .*no such table: sensor_leases/);
    }));
});
