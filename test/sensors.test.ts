import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jsonLines, zeekAnomaly, type CliResult } from './support/cli.js';
import { shared } from './support/paths.js';
import { archivesIn, SERVICE_ENV, serviceDirs, trainModel, type ServiceDirs } from './support/service.js';

// Two sensors scoring into one store: the same six real archives (rita-missing-host, 2024-04-20)
// scored as edge-a and then as edge-b, through `score`, the service's code path.

const RITA = shared('rotated', 'rita-missing-host');
const SENSORS = ['edge-a', 'edge-b'] as const;

let dirs: ServiceDirs;
let archives: string[];

const cli = (args: readonly string[]): Promise<CliResult> =>
  zeekAnomaly([...args, '--config', dirs.config, '--data-dir', dirs.dataDir], { env: { ...SERVICE_ENV }, cwd: dirs.root });

async function json(args: readonly string[]): Promise<Record<string, unknown>[]> {
  const result = await cli([...args, '--format', 'json']);
  assert.equal(result.code, 0, result.stderr);
  return jsonLines(result.stdout);
}

before(async () => {
  dirs = await serviceDirs();
  await trainModel(dirs.dataDir, join(RITA, '2024-04-19'), dirs.root);
  archives = (await archivesIn(join(RITA, '2024-04-20'))).slice(0, 6);
  for (const sensor of SENSORS) {
    const scored = await cli(['score', '--sensor', sensor, '--json', ...archives]);
    assert.equal(scored.code, 0, scored.stderr);
    assert.deepEqual(
      jsonLines(scored.stdout).map((outcome) => outcome.status),
      archives.map(() => 'done'),
      `${sensor}: every archive is new to it, though the other sensor has the same content`,
    );
  }
});
after(() => dirs?.cleanup());

describe('two sensors in one store', () => {
  test("each sensor's ledger holds every archive once, as done, under its own name", async () => {
    for (const sensor of SENSORS) {
      const files = await json(['files', '--sensor', sensor]);
      assert.equal(files.length, archives.length, sensor);
      assert.ok(files.every((file) => file.sensor === sensor && file.status === 'done'));
      assert.deepEqual(files.map((file) => file.path).sort(), [...archives].sort());
    }
    assert.equal((await json(['files'])).length, 2 * archives.length, 'unfiltered, both sensors');
  });

  test("each sensor's anomalies and findings are complete and separate: the same content gives each the same rows, under its name", async () => {
    const anomaliesOf = async (sensor: string): Promise<Record<string, unknown>[]> => json(['anomalies', '--sensor', sensor, '--limit', '100000']);
    const [a, b] = await Promise.all(SENSORS.map(anomaliesOf));
    assert.ok(a!.length > 0);
    assert.ok(a!.every((row) => row.sensor === 'edge-a') && b!.every((row) => row.sensor === 'edge-b'));
    const essence = (rows: Record<string, unknown>[]): unknown[] => rows.map((row) => [row.uid, row.score]).sort();
    assert.deepEqual(essence(b!), essence(a!), "each sensor's context state started empty and saw the same files");

    const findingsOf = async (sensor: string): Promise<Record<string, unknown>[]> => json(['findings', '--sensor', sensor, '--limit', '1000']);
    const [fa, fb] = await Promise.all(SENSORS.map(findingsOf));
    assert.ok(fa!.length > 0, 'the archives raise findings');
    const entities = (rows: Record<string, unknown>[]): unknown[] => rows.map((row) => [row.type, row.src, row.dst, row.port, row.connections]).sort();
    assert.deepEqual(entities(fb!), entities(fa!));
    assert.ok(fa!.every((row) => row.sensor === 'edge-a') && fb!.every((row) => row.sensor === 'edge-b'));
    assert.equal((await json(['findings', '--limit', '1000'])).length, fa!.length + fb!.length);
  });

  test('scoring the archives again as either sensor stores nothing more', async () => {
    const again = await cli(['score', '--sensor', 'edge-b', '--json', ...archives]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(
      jsonLines(again.stdout).map((outcome) => outcome.status),
      archives.map(() => 'already-seen'),
    );
    assert.equal((await json(['files'])).length, 2 * archives.length);
  });

  test('a sensor name that is not one is refused as a flag, naming it and what a name may hold (exit 2)', async () => {
    const refused = await cli(['findings', '--sensor', 'edge a']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--sensor \(sensor\): "edge a" is not a sensor name; allowed: 1 to 64 letters, digits, dots, dashes or underscores/);
  });
});
