import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Engine } from '../db/connection.js';
import { jsonLines, zeekAnomaly, type CliResult } from './support/cli.js';
import { shared } from './support/paths.js';
import { startPostgres, type LocalPostgres } from '../scripts/dev/local-postgres.js';
import { archivesIn, SERVICE_ENV, serviceDirs, trainModel, type ServiceDirs } from './support/service.js';

// Two sensors scoring into one store: the same six real archives (rita-missing-host, 2024-04-20)
// scored as edge-a and then as edge-b, through `score`, the service's code path: into a SQLite
// file, and into a PostgreSQL database, where both must come out the same.

const RITA = shared('rotated', 'rita-missing-host');
const SENSORS = ['edge-a', 'edge-b'] as const;

const ENGINES: readonly Engine[] = ['sqlite', 'postgres'];

let dirs: ServiceDirs;
let archives: string[];
let postgres: LocalPostgres;
/** Each engine's store: the SQLite file in the data directory, or a database on the test's server. */
const stores = new Map<Engine, string>();

const cli = (args: readonly string[], engine: Engine): Promise<CliResult> =>
  zeekAnomaly([...args, '--config', dirs.config, '--data-dir', dirs.dataDir, '--db', stores.get(engine)!], { env: { ...SERVICE_ENV }, cwd: dirs.root });

async function json(args: readonly string[], engine: Engine): Promise<Record<string, unknown>[]> {
  const result = await cli([...args, '--format', 'json'], engine);
  assert.equal(result.code, 0, result.stderr);
  return jsonLines(result.stdout);
}

before(async () => {
  dirs = await serviceDirs();
  postgres = await startPostgres();
  stores.set('sqlite', join(dirs.dataDir, 'zeek-anomaly.sqlite'));
  stores.set('postgres', postgres.newDatabaseUrl());
  await trainModel(dirs.dataDir, join(RITA, '2024-04-19'), dirs.root);
  archives = (await archivesIn(join(RITA, '2024-04-20'))).slice(0, 6);
  for (const engine of ENGINES) {
    for (const sensor of SENSORS) {
      const scored = await cli(['score', '--sensor', sensor, '--json', ...archives], engine);
      assert.equal(scored.code, 0, scored.stderr);
      assert.deepEqual(
        jsonLines(scored.stdout).map((outcome) => outcome.status),
        archives.map(() => 'done'),
        `${engine}, ${sensor}: every archive is new to it, though the other sensor has the same content`,
      );
    }
  }
});
after(async () => {
  postgres?.stop();
  await dirs?.cleanup();
});

for (const engine of ENGINES) {
  describe(`two sensors in one store on ${engine}`, () => {
    test("each sensor's ledger holds every archive once, as done, under its own name", async () => {
      for (const sensor of SENSORS) {
        const files = await json(['files', '--sensor', sensor], engine);
        assert.equal(files.length, archives.length, sensor);
        assert.ok(files.every((file) => file.sensor === sensor && file.status === 'done'));
        assert.deepEqual(files.map((file) => file.path).sort(), [...archives].sort());
      }
      assert.equal((await json(['files'], engine)).length, 2 * archives.length, 'unfiltered, both sensors');
    });

    test("each sensor's anomalies and findings are complete and separate: the same content gives each the same rows, under its name", async () => {
      const [a, b] = await Promise.all(SENSORS.map((sensor) => anomaliesOf(sensor, engine)));
      assert.ok(a!.length > 0);
      assert.ok(a!.every((row) => row.sensor === 'edge-a') && b!.every((row) => row.sensor === 'edge-b'));
      assert.deepEqual(essence(b!), essence(a!), "each sensor's context state started empty and saw the same files");

      const [fa, fb] = await Promise.all(SENSORS.map((sensor) => findingsOf(sensor, engine)));
      assert.ok(fa!.length > 0, 'the archives raise findings');
      assert.deepEqual(entities(fb!), entities(fa!));
      assert.ok(fa!.every((row) => row.sensor === 'edge-a') && fb!.every((row) => row.sensor === 'edge-b'));
      assert.equal((await json(['findings', '--limit', '1000'], engine)).length, fa!.length + fb!.length);
    });

    test('scoring the archives again as either sensor stores nothing more', async () => {
      const again = await cli(['score', '--sensor', 'edge-b', '--json', ...archives], engine);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(
        jsonLines(again.stdout).map((outcome) => outcome.status),
        archives.map(() => 'already-seen'),
      );
      assert.equal((await json(['files'], engine)).length, 2 * archives.length);
    });
  });
}

describe('the two engines', () => {
  test('store the same anomalies, scores and findings for the same archives', async () => {
    for (const sensor of SENSORS) {
      const [inSqlite, inPostgres] = await Promise.all(ENGINES.map((engine) => anomaliesOf(sensor, engine)));
      assert.deepEqual(essence(inPostgres!), essence(inSqlite!), sensor);
      const [findingsInSqlite, findingsInPostgres] = await Promise.all(ENGINES.map((engine) => findingsOf(sensor, engine)));
      assert.deepEqual(entities(findingsInPostgres!), entities(findingsInSqlite!), sensor);
    }
  });
});

describe('sensor names', () => {
  test('a sensor name that is not one is refused as a flag, naming it and what a name may hold (exit 2)', async () => {
    const refused = await cli(['findings', '--sensor', 'edge a'], 'sqlite');
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--sensor \(sensor\): "edge a" is not a sensor name; allowed: 1 to 64 letters, digits, dots, dashes or underscores/);
  });
});

function anomaliesOf(sensor: string, engine: Engine): Promise<Record<string, unknown>[]> {
  return json(['anomalies', '--sensor', sensor, '--limit', '100000'], engine);
}

function findingsOf(sensor: string, engine: Engine): Promise<Record<string, unknown>[]> {
  return json(['findings', '--sensor', sensor, '--limit', '1000'], engine);
}

/** An anomaly as two stores of the same files must agree on: the connection and its score. */
function essence(rows: Record<string, unknown>[]): unknown[] {
  return rows.map((row) => [row.uid, row.score]).sort();
}

function entities(rows: Record<string, unknown>[]): unknown[] {
  return rows.map((row) => [row.type, row.src, row.dst, row.port, row.connections]).sort();
}
