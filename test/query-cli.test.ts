import * as assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import type { AnomalyRow } from '../db/anomaly-columns.js';
import { openDatabase } from '../db/open-database.js';
import { recordFailedFile, recordScoredFile, recordSkippedFile } from '../db/record-file.js';
import { anomaliesCommand, type AnomaliesCommandOptions } from '../scripts/commands/anomalies.js';
import { filesCommand, type FilesCommandOptions } from '../scripts/commands/files.js';
import { formatCsv } from '../db/export-format.js';
import { formatJsonLines, formatTable } from '../scripts/format-table.js';
import { jsonLines, zeekAnomaly } from './support/cli.js';
import { repoRoot, tempDir } from './support/paths.js';

const run = promisify(execFile);

/** A stream that keeps what is written to it, as the commands' stdout. */
function capture(): { out: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { out, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function anomalies(options: Partial<AnomaliesCommandOptions>): Promise<{ code: number; stdout: string }> {
  const { out, text } = capture();
  const code = await anomaliesCommand({ db: dbFile, limit: 100, format: 'table', ...options }, out);
  return { code, stdout: text() };
}

async function files(options: Partial<FilesCommandOptions>): Promise<{ code: number; stdout: string }> {
  const { out, text } = capture();
  const code = await filesCommand({ db: dbFile, limit: 100, format: 'table', ...options }, out);
  return { code, stdout: text() };
}

describe('format-table', () => {
  test('table: header and rule, numbers right-aligned, unset as -, long cells cut with …, control characters escaped', () => {
    const text = formatTable(
      [{ header: 'name' }, { header: 'n' }, { header: 'path', maxWidth: 10, truncate: 'start' }, { header: 'note', maxWidth: 8 }],
      [
        ['alpha', 5, '/a/b/c/d/e/f/g.log', 'short'],
        ['b', 12345, '/x.log', 'a much longer note'],
        ['c', null, null, 'two\nlines\x1b[31m'],
      ],
    );
    assert.equal(
      text,
      [
        'name       n  path        note',
        '-----  -----  ----------  --------',
        'alpha      5  …e/f/g.log  short',
        'b      12345  /x.log      a much …',
        'c          -  -           two\\nli…',
        '',
      ].join('\n'),
    );
    assert.ok(!text.includes('\x1b'));
  });

  test('csv: RFC 4180 quoting (comma, quote, newline), empty for unset, CRLF; csv-parse reads back the same values', () => {
    const field = (value: string | number | null): string => formatCsv(['x'], [[value]]).slice('x\r\n'.length, -'\r\n'.length);
    assert.equal(field('plain'), 'plain');
    assert.equal(field('a,b'), '"a,b"');
    assert.equal(field('say "hi", then go'), '"say ""hi"", then go"');
    assert.equal(field('two\r\nlines'), '"two\r\nlines"');
    assert.equal(field('two\nlines'), '"two\nlines"', 'a lone LF is quoted too');
    assert.equal(field('two\rlines'), '"two\rlines"', 'a lone CR is quoted too');
    assert.equal(field(null), '');
    assert.equal(field(0.25), '0.25');
    assert.equal(field(1e-7), '1e-7');
    const rows = [
      ['say "hi", then go', 1, null],
      ['two\r\nlines', -2.5, ' spaced '],
      ['one\nbreak', 0, ''],
    ];
    const text = formatCsv(['text', 'number', 'unset'], rows);
    assert.equal(text, 'text,number,unset\r\n"say ""hi"", then go",1,\r\n"two\r\nlines",-2.5, spaced \r\n"one\nbreak",0,\r\n');
    assert.deepEqual(parse(text), [
      ['text', 'number', 'unset'],
      ['say "hi", then go', '1', ''],
      ['two\r\nlines', '-2.5', ' spaced '],
      ['one\nbreak', '0', ''],
    ]);
    assert.equal(formatCsv(['a', 'b'], []), 'a,b\r\n', 'no rows: the header alone');
  });

  test('csv: text that a spreadsheet would run as a formula gets a leading apostrophe; control bytes are escaped as \\xNN; numbers stay numbers', () => {
    const field = (value: string | number | null): string => parse<{ x: string }>(formatCsv(['x'], [[value]]), { columns: true })[0]!.x;
    for (const formula of ['=HYPERLINK("http://x","y")', '+1+cmd|\' /C calc\'!A0', '-2+3', '@SUM(A1)', '\t=1', '\r=1']) {
      assert.equal(field(formula), `'${formula}`, JSON.stringify(formula));
    }
    assert.equal(field('ShADad'), 'ShADad', 'ordinary text is left as it is');
    assert.equal(field('a=b'), 'a=b', 'only a leading sign starts a formula');
    assert.equal(field('red\x1b[31m bell\x07 nul\x00 del\x7f'), 'red\\x1b[31m bell\\x07 nul\\x00 del\\x7f');
    assert.equal(field('\x1b=1'), '\\x1b=1', 'escaped first, so an escape byte cannot hide a formula sign');
    assert.equal(formatCsv(['n'], [[-2.5]]), 'n\r\n-2.5\r\n', 'a negative number is a number, not a formula');
  });

  test('json lines: one object per line', () => {
    assert.equal(formatJsonLines([{ a: 1, b: null }, { a: 'x"y' }]), '{"a":1,"b":null}\n{"a":"x\\"y"}\n');
    assert.equal(formatJsonLines([]), '');
  });
});

let dir: string;
let cleanup: () => Promise<void>;
let dbFile: string;
let doneFile: number;
const T0 = 1713484800; // 2024-04-19T00:00:00Z

function anomaly(overrides: Partial<AnomalyRow>): AnomalyRow {
  return {
    ts: T0,
    uid: 'C1',
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
    score: 0.0123456,
    threshold: 0.005,
    modelVersion: 'v0001-20240419T000000Z',
    explanation: [
      { feature: 'duration', share: 0.21 },
      { feature: 'orig_bytes', share: 0.62 },
      { feature: 'resp_p', share: 0.1 },
      { feature: 'proto', share: 0.07 },
    ],
    connScore: null,
    contextScore: null,
    ...overrides,
  };
}

describe('anomalies and files commands', () => {
  before(async () => {
    ({ dir, cleanup } = await tempDir('zeek-anomaly-query-'));
    dbFile = join(dir, 'data', 'zeek-anomaly.sqlite');
    const db = openDatabase(dbFile);
    try {
      const common = { sensor: 'sensor-a', size: 100, startedAt: '2024-04-19T01:00:00.000Z', finishedAt: '2024-04-19T01:00:02.000Z' };
      doneFile = recordScoredFile(
        db,
        {
          ...common,
          // A path with a comma and a quote, to go through the CSV quoting for real.
          path: '/logs/2024-04-19/conn "weird", name.log.gz',
          sha256: 'a'.repeat(64),
          rows: 1000,
          badLines: 0,
          flagged: 3,
          threshold: 0.005,
          thresholdMode: 'per-file',
          modelVersion: 'v0001-20240419T000000Z',
          firstTs: T0,
          lastTs: T0 + 3599,
        },
        [
          anomaly({ ts: T0 + 1.5, uid: 'C1' }),
          anomaly({ ts: T0 + 60, uid: 'C2', origH: '2001:db8::1', origP: 5353, respH: '2001:db8::2', respP: 53, proto: 'udp', service: null, origBytes: null, score: 0.5 }),
          anomaly({ ts: T0 + 120, uid: 'C3', origH: '192.0.2.7', respH: '10.0.0.5', score: 0.007, explanation: [{ feature: 'history', share: 1 }] }),
        ],
      ).fileId;
      recordFailedFile(db, { ...common, path: '/logs/broken.log.gz', sha256: 'b'.repeat(64) }, 'truncated-gzip: the stream ends after 12 rows');
      recordSkippedFile(db, { ...common, path: '/copy/conn.log.gz', sha256: 'a'.repeat(64) }, doneFile);
    } finally {
      db.close();
    }
  });
  after(() => cleanup());

  test('anomalies, table: newest first, ISO time, endpoints (IPv6 bracketed), proto/service, bytes, score, why, model, sensor, file', async () => {
    const { code, stdout } = await anomalies({});
    assert.equal(code, 0);
    const lines = stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ts\s+connection\s+proto\/service\s+conn_state\s+bytes\s+score\s+threshold\s+why\s+model_version\s+sensor\s+file$/);
    assert.equal(lines.length, 5, stdout);
    assert.match(lines[2]!, /^2024-04-19T00:02:00\.000Z {2}192\.0\.2\.7:51234 → 10\.0\.0\.5:443 +tcp\/ssl +SF +1200\/34000 +0\.007 +0\.005 +history 100% +v0001-20240419T000000Z +sensor-a +\/logs\/2024-04-19\/conn "weird", name\.log\.gz$/);
    assert.match(lines[3]!, /^2024-04-19T00:01:00\.000Z {2}\[2001:db8::1\]:5353 → \[2001:db8::2\]:53 +udp +SF +-\/34000 +0\.5 /);
    assert.match(lines[4]!, /^2024-04-19T00:00:01\.500Z .* 0\.01235 +0\.005 +orig_bytes 62%, duration 21%, resp_p 10% +v0001/);
  });

  test('anomalies: filters reach the query (host on either side, since/until, min score, limit, order)', async () => {
    const uids = async (options: Partial<AnomaliesCommandOptions>): Promise<unknown[]> =>
      (await anomalies({ ...options, format: 'json' })).stdout.trim().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { uid: unknown }).uid);
    assert.deepEqual(await uids({}), ['C3', 'C2', 'C1']);
    assert.deepEqual(await uids({ host: '10.0.0.5' }), ['C3', 'C1']);
    assert.deepEqual(await uids({ since: new Date((T0 + 60) * 1000) }), ['C3', 'C2']);
    assert.deepEqual(await uids({ until: new Date((T0 + 60) * 1000) }), ['C1']);
    assert.deepEqual(await uids({ minScore: 0.01 }), ['C2', 'C1']);
    assert.deepEqual(await uids({ limit: 1 }), ['C3']);
    assert.deepEqual(await uids({ order: 'score' }), ['C2', 'C1', 'C3']);
    assert.deepEqual(await uids({ fileId: doneFile + 100 }), []);
    assert.deepEqual(await uids({ sensor: 'sensor-a' }), ['C3', 'C2', 'C1']);
    assert.deepEqual(await uids({ sensor: 'sensor-b' }), [], "another sensor's files hold none of them");
  });

  test('anomalies --format json: one object per line, every column of the list (both models\' errors too), explanation as an array', async () => {
    const { code, stdout } = await anomalies({ format: 'json', limit: 1, order: 'score' });
    assert.equal(code, 0);
    const records = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(records.length, 1);
    assert.deepEqual(records[0], {
      id: 2,
      ts: T0 + 60,
      time: '2024-04-19T00:01:00.000Z',
      uid: 'C2',
      orig_h: '2001:db8::1',
      orig_p: 5353,
      resp_h: '2001:db8::2',
      resp_p: 53,
      proto: 'udp',
      service: null,
      duration: 12.5,
      orig_bytes: null,
      resp_bytes: 34000,
      conn_state: 'SF',
      history: 'ShADadFf',
      orig_pkts: 20,
      resp_pkts: 30,
      score: 0.5,
      threshold: 0.005,
      explanation: [
        { feature: 'duration', share: 0.21 },
        { feature: 'orig_bytes', share: 0.62 },
        { feature: 'resp_p', share: 0.1 },
        { feature: 'proto', share: 0.07 },
      ],
      model_version: 'v0001-20240419T000000Z',
      conn_score: null,
      context_score: null,
      file_id: doneFile,
      file: '/logs/2024-04-19/conn "weird", name.log.gz',
      sensor: 'sensor-a',
    });
  });

  test('anomalies --format csv: the same columns, quoted where needed, read back by csv-parse', async () => {
    const { code, stdout } = await anomalies({ format: 'csv' });
    assert.equal(code, 0);
    assert.ok(stdout.includes('"/logs/2024-04-19/conn ""weird"", name.log.gz"'), stdout);
    const records = parse<Record<string, string>>(stdout, { columns: true });
    assert.equal(records.length, 3);
    const [c3, c2] = records;
    assert.equal(c3?.file, '/logs/2024-04-19/conn "weird", name.log.gz');
    assert.equal(c3?.time, '2024-04-19T00:02:00.000Z');
    assert.deepEqual(JSON.parse(c3?.explanation ?? ''), [{ feature: 'history', share: 1 }]);
    assert.equal(c2?.service, '', 'unset is an empty field');
    assert.equal(c2?.orig_h, '2001:db8::1');
    assert.deepEqual(Object.keys(c3 ?? {}), Object.keys(JSON.parse((await anomalies({ format: 'json', limit: 1 })).stdout) as object));
  });

  test('anomalies: nothing matching says so in a table, and prints just the header in CSV', async () => {
    assert.equal((await anomalies({ host: '198.51.100.1' })).stdout, `no anomalies match, of 3 in ${dbFile}\n`);
    assert.equal((await anomalies({ host: '198.51.100.1', format: 'csv' })).stdout.split('\r\n').length, 2);
    assert.equal((await anomalies({ host: '198.51.100.1', format: 'json' })).stdout, '');
  });

  test('anomalies and files name a missing database, without creating it', async () => {
    const missing = join(dir, 'none', 'zeek-anomaly.sqlite');
    await assert.rejects(anomalies({ db: missing }), { message: `no database at ${missing}: score or watch some logs first` });
    await assert.rejects(files({ db: missing }), { message: `no database at ${missing}: score or watch some logs first` });
    assert.equal(existsSync(join(dir, 'none')), false);
  });

  test('files, table: the ledger newest first with sensor, status, rows, flagged, threshold, error, model, finished_at, and the counts', async () => {
    const { code, stdout } = await files({});
    assert.equal(code, 0);
    const lines = stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^id\s+sensor\s+path\s+status\s+rows\s+flagged\s+threshold\s+error\s+model\s+finished_at$/);
    assert.match(lines[2]!, /^ 3 +sensor-a +\/copy\/conn\.log\.gz +skipped +- +- +- +duplicate of file 1 +- +2024-04-19T01:00:02\.000Z$/);
    assert.match(lines[3]!, /^ 2 +sensor-a +\/logs\/broken\.log\.gz +failed +- +- +- +truncated-gzip: the stream ends after 12 rows +- +2024/);
    assert.match(lines[4]!, /^ 1 +sensor-a +\/logs\/2024-04-19\/conn "weird", name\.log\.gz +done +1000 +3 +0\.005 +- +v0001-20240419T000000Z +2024/);
    assert.equal(lines[5], '3 shown of 3 files: 1 done, 1 failed, 1 skipped (duplicates)');
  });

  test('files: --status, --limit, json and csv', async () => {
    const failed = (await files({ status: 'failed', format: 'json' })).stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(failed.map((f) => [f.path, f.status, f.error]), [['/logs/broken.log.gz', 'failed', 'truncated-gzip: the stream ends after 12 rows']]);
    assert.deepEqual(Object.keys(failed[0]!), ['id', 'sensor', 'path', 'size', 'sha256', 'status', 'rows', 'bad_lines', 'flagged', 'threshold', 'threshold_mode', 'error', 'duplicate_of', 'model_version', 'first_ts', 'last_ts', 'started_at', 'finished_at']);
    const csv = parse<Record<string, string>>((await files({ format: 'csv', limit: 2 })).stdout, { columns: true });
    assert.deepEqual(csv.map((f) => [f.id, f.status, f.duplicate_of]), [['3', 'skipped', '1'], ['2', 'failed', '']]);
    const ofSensor = async (sensor: string): Promise<string> => (await files({ sensor })).stdout.trimEnd().split('\n').at(-1)!;
    assert.equal(await ofSensor('sensor-a'), '3 shown of 3 files of sensor sensor-a: 1 done, 1 failed, 1 skipped (duplicates)');
    assert.equal(await ofSensor('sensor-b'), '0 shown of 0 files of sensor sensor-b: 0 done, 0 failed, 0 skipped (duplicates)');
    await assert.rejects(files({ status: 'lost' as 'done' }), { message: `--status is 'lost'; expected one of done, failed, skipped` });
  });

  test('--since without a zone is UTC under any TZ, and a date that is not one of the forms allowed is refused, naming them', async () => {
    const uidsUnder = async (tz: string, since: string): Promise<unknown[]> => {
      const { code, stdout, stderr } = await zeekAnomaly(['anomalies', '--db', dbFile, '--since', since, '--format', 'json'], { env: { TZ: tz } });
      assert.equal(code, 0, stderr);
      return jsonLines(stdout).map((record) => record.uid);
    };
    for (const tz of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
      assert.deepEqual(await uidsUnder(tz, '2024-04-19T00:01'), ['C3', 'C2'], tz);
      assert.deepEqual(await uidsUnder(tz, '2024-04-19 00:01:00.001'), ['C3'], tz);
      assert.deepEqual(await uidsUnder(tz, '2024-04-19T02:01:00+02:00'), ['C3', 'C2'], `${tz}: an explicit zone is honoured`);
      assert.deepEqual(await uidsUnder(tz, '2024-04-19'), ['C3', 'C2', 'C1'], tz);
    }
    for (const bad of ['1', '2024', '2024-02-30', '2024-04-19T24:00', '2024-04-19T10:00+15:00', 'yesterday', '2024-04-19T10:00:00.1234']) {
      const { code, stderr } = await zeekAnomaly(['anomalies', '--db', dbFile, '--since', bad]);
      assert.equal(code, 2, `${bad}: ${stderr}`);
      assert.ok(stderr.includes(`got '${bad}'`) && stderr.includes('a date (2024-04-19) or a date and time in UTC'), stderr);
    }
  });

  test('a separate process prints to its real stdout (as the CLI will run it)', async () => {
    const url = pathToFileURL(join(repoRoot, 'dist', 'scripts', 'commands', 'anomalies.js')).href;
    const { stdout } = await run(process.execPath, [
      '--input-type=module',
      '-e',
      `import { anomaliesCommand } from ${JSON.stringify(url)};
       process.exitCode = await anomaliesCommand({ db: ${JSON.stringify(dbFile)}, limit: 2, format: 'json', host: '10.0.0.5' });`,
    ]);
    assert.deepEqual(stdout.trim().split('\n').map((line) => (JSON.parse(line) as { uid: string }).uid), ['C3', 'C1']);
  });

  test('a reader that goes away (| head) ends the output quietly, exit code 0, instead of an EPIPE crash', async () => {
    const big = join(dir, 'big', 'zeek-anomaly.sqlite');
    const db = openDatabase(big);
    try {
      const rows = Array.from({ length: 20_000 }, (_, i) => anomaly({ ts: T0 + i, uid: `C${i}` }));
      recordScoredFile(db, { sensor: 'sensor-a', path: '/logs/big.log', size: 1, sha256: 'f'.repeat(64), rows: 20_000, badLines: 0, flagged: 20_000, threshold: 0.005, thresholdMode: 'per-file', modelVersion: 'v1', firstTs: T0, lastTs: T0 + 20_000, startedAt: 'S', finishedAt: 'F' }, rows);
    } finally {
      db.close();
    }
    const url = pathToFileURL(join(repoRoot, 'dist', 'scripts', 'commands', 'anomalies.js')).href;
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', `import { anomaliesCommand } from ${JSON.stringify(url)};
       process.exitCode = await anomaliesCommand({ db: ${JSON.stringify(big)}, limit: 20000, format: 'json' });`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = once(child, 'exit');
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [first] = (await once(child.stdout, 'data')) as [Buffer];
    assert.match(first.toString(), /^\{"id":20000[0-9]*,/);
    child.stdout.destroy();
    const [code] = (await exited) as [number | null];
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});
