import * as assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { value } from '../db/connection.js';
import { countTracks, queryFindings } from '../db/findings.js';
import { openDatabase } from '../db/open-database.js';
import { DEFAULT_FINDINGS } from '../pipeline/findings/findings-settings.js';
import { FindingsStage } from '../pipeline/findings/findings-stage.js';
import { replayFindings } from '../pipeline/train/replay-findings.js';
import { jsonLines, zeekAnomaly } from './support/cli.js';
import { shared, tempDir } from './support/paths.js';
import { archivesIn } from './support/service.js';

const RITA = shared('rotated', 'rita-missing-host');
const BEACON = { src: '73.54.23.243', dst: '64.225.56.201' };

let scratch: { dir: string; cleanup: () => Promise<void> };
let db: string;

before(async () => {
  scratch = await tempDir('zeek-anomaly-findings-cli-');
  db = join(scratch.dir, 'rita.sqlite');
  const handle = openDatabase(db);
  try {
    const days = await Promise.all(['2024-04-19', '2024-04-20', '2024-04-21'].map((day) => archivesIn(join(RITA, day))));
    await replayFindings(handle, days.flat(), new FindingsStage(DEFAULT_FINDINGS));
  } finally {
    handle.close();
  }
});
after(async () => {
  await scratch.cleanup();
});

async function configWith(name: string, findings: object): Promise<string> {
  const file = join(scratch.dir, name);
  await writeFile(file, JSON.stringify({ findings }));
  return file;
}

describe('zeek-anomaly findings', () => {
  test('--format json writes one object per finding, highest score first, with the keys a SIEM reads, and nothing else on stdout', async () => {
    const result = await zeekAnomaly(['findings', '--db', db, '--format', 'json', '--limit', '500'], { cwd: scratch.dir });
    assert.equal(result.code, 0, result.stderr);
    const rows = jsonLines(result.stdout);
    assert.ok(rows.length > 10);
    for (const key of ['id', 'type', 'severity', 'score', 'src', 'dst', 'port', 'firstTs', 'lastTs', 'connections', 'evidence']) {
      assert.ok(rows.every((row) => key in row), `every row has ${key}`);
    }
    const scores = rows.map((row) => row.score as number);
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a));
    assert.ok(rows.some((row) => row.type === 'beacon' && row.src === BEACON.src && row.dst === BEACON.dst));
  });

  test('--type, --host and --min-severity narrow the list; --format csv has a header and one line per finding', async () => {
    const result = await zeekAnomaly(['findings', '--db', db, '--format', 'csv', '--type', 'beacon', '--host', BEACON.src, '--min-severity', 'low'], { cwd: scratch.dir });
    assert.equal(result.code, 0, result.stderr);
    const records = parse<Record<string, string>>(result.stdout, { columns: true });
    assert.equal(records.length, 1);
    assert.equal(records[0]!.type, 'beacon');
    assert.equal(records[0]!.dst, BEACON.dst);
    assert.ok(['low', 'medium', 'high', 'critical'].includes(records[0]!.severity!));
    assert.equal(typeof (JSON.parse(records[0]!.evidence!) as Record<string, unknown>).beaconScore, 'number');
  });

  test('an allow-list entry hides matching findings already stored, says how many on stderr, and --all or removing it shows them again', async () => {
    const before = jsonLines((await zeekAnomaly(['findings', '--db', db, '--format', 'json', '--limit', '500'], { cwd: scratch.dir })).stdout);
    const scanners = before.filter((row) => row.dst === BEACON.dst && row.port === 30003);
    assert.ok(scanners.length > 0, 'there are findings on port 30003 to hide');
    const config = await configWith('allow.json', { allow: [{ comment: 'the honeypot port: scanners are expected there', dst: '64.225.56.0/24', port: 30003 }] });

    const hidden = await zeekAnomaly(['findings', '--db', db, '--config', config, '--format', 'json', '--limit', '500'], { cwd: scratch.dir });
    assert.equal(hidden.code, 0, hidden.stderr);
    const after = jsonLines(hidden.stdout);
    assert.equal(after.length, before.length - scanners.length);
    assert.ok(after.every((row) => row.port !== 30003));
    assert.match(hidden.stderr, new RegExp(`^${scanners.length} finding\\(s\\) hidden by the allow-list`, 'm'));

    const all = jsonLines((await zeekAnomaly(['findings', '--db', db, '--config', config, '--format', 'json', '--limit', '500', '--all'], { cwd: scratch.dir })).stdout);
    assert.equal(all.length, before.length);
    const removed = await configWith('none.json', { allow: [] });
    assert.equal(jsonLines((await zeekAnomaly(['findings', '--db', db, '--config', removed, '--format', 'json', '--limit', '500'], { cwd: scratch.dir })).stdout).length, before.length);
  });

  test('an allow-list entry stops new findings (and tracks) being raised for what it matches', async () => {
    const handle = openDatabase(join(scratch.dir, 'allowed.sqlite'));
    try {
      const stage = new FindingsStage({ ...DEFAULT_FINDINGS, allow: [{ comment: 'our monitoring', src: BEACON.src }] });
      await replayFindings(handle, await archivesIn(join(RITA, '2024-04-19')), stage);
      const findings = queryFindings(handle);
      assert.ok(findings.length > 0);
      assert.ok(findings.every((f) => f.src !== BEACON.src));
      assert.equal(value(handle, `SELECT count(*) FROM finding_tracks WHERE entity LIKE ?`, [`%"${BEACON.src}"%`]), 0);
      assert.ok(countTracks(handle) > 0, 'other tracks were kept');
    } finally {
      handle.close();
    }
  });

  test('an allow-list entry in the config file that matches everything, or names a bad address, is refused naming it (exit 1)', async () => {
    const everything = await configWith('everything.json', { allow: [{ comment: 'all of it' }] });
    const refused = await zeekAnomaly(['findings', '--db', db, '--config', everything], { cwd: scratch.dir });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /key 'findings\.allow\.0': .* matches everything: give a type, host, src, dst, port or proto/);
    const bad = await configWith('bad.json', { allow: [{ comment: 'typo', host: '10.1.0.300' }] });
    const badResult = await zeekAnomaly(['findings', '--db', db, '--config', bad], { cwd: scratch.dir });
    assert.equal(badResult.code, 1);
    assert.match(badResult.stderr, /key 'findings\.allow\.0\.host': "10\.1\.0\.300" is neither an address nor a network/);
  });

  test('findings show prints one finding with its evidence and its files, and a missing id exits 1 naming it', async () => {
    const [beacon] = jsonLines((await zeekAnomaly(['findings', '--db', db, '--format', 'json', '--type', 'beacon', '--host', BEACON.src], { cwd: scratch.dir })).stdout);
    assert.ok(beacon !== undefined);
    const shown = await zeekAnomaly(['findings', 'show', String(beacon.id), '--db', db], { cwd: scratch.dir });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`^finding ${String(beacon.id)}: beacon, \\w+ \\(score [\\d.]+\\)$`, 'm'));
    assert.match(shown.stdout, /"beaconScore"/);
    assert.match(shown.stdout, /^files: +\d+ /m);
    const missing = await zeekAnomaly(['findings', 'show', '999999', '--db', db], { cwd: scratch.dir });
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /no finding 999999 in /);
  });
});
