import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { otherLog, repoRoot, shared, sharedData, tempDir } from './support/paths.js';
import { connRow, dataLinesOf, zeekHeader, ZEEK_CLOSE } from './support/read.js';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'scripts', 'cli.js');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function zeekAnomaly(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function dataLineCount(file: string): number {
  const raw = readFileSync(file);
  return dataLinesOf((file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')).length;
}

test('inspect --json reports the right row count for every real log, and rejects only the masked baselines', async () => {
  const files = filesUnder(shared()).filter((f) => !f.endsWith('README.md'));
  assert.ok(files.length > 300, `expected the shared logs, found ${files.length} files in ${sharedData}`);
  const { code, stdout } = await zeekAnomaly('inspect', '--json', ...files);
  const reports = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(reports.length, files.length, 'one JSON object per file');

  for (const [i, report] of reports.entries()) {
    const file = files[i]!;
    assert.equal(report.file, file);
    for (const key of ['file', 'format', 'rows', 'badLines', 'truncated', 'fields']) assert.ok(key in report, `${file}: no '${key}'`);
    const text = (file.endsWith('.gz') ? gunzipSync(readFileSync(file)) : readFileSync(file)).toString('utf8');
    if (/^XXXXXXXXXX\.XXXXXX/m.test(text)) {
      assert.equal(report.status, 'rejected', `${file} has masked timestamps`);
      assert.match(JSON.stringify(report.error), /XXXXXXXXXX\.XXXXXX/);
    } else {
      assert.equal(report.status, 'read', `${file}: ${JSON.stringify(report.error)}`);
      assert.equal(report.rows, dataLineCount(file), `${file}: rows`);
      assert.equal(report.badLines, 0, `${file}: bad lines`);
    }
  }
  assert.equal(code, 1, 'the exit status says some file was rejected');
});

test('inspect prints a readable report and exits 0 when every file is read', async () => {
  const file = shared('labeled', 'iot23-42-1-crlf.conn.log.labeled');
  const { code, stdout } = await zeekAnomaly('inspect', file);
  assert.equal(code, 0);
  assert.match(stdout, /format\s+zeek-tsv, not compressed, #path conn/);
  assert.match(stdout, /rows\s+4,426 in /);
  assert.match(stdout, /fields\s+23: ts uid .* tunnel_parents label detailed-label/);
  assert.match(stdout, /time range\s+2019-01-10T/);
});

test('inspect names the file, line and value of a rejected file', async () => {
  const file = shared('formats', 'tsv', 'zeek-baselines', 'opt.basic.conn.log');
  const { code, stdout } = await zeekAnomaly('inspect', file);
  assert.equal(code, 1);
  assert.match(stdout, /REJECTED\s+no-rows: none of its 34 data lines could be read; the first is line 10: field 'ts' has value "XXXXXXXXXX\.XXXXXX"/);
});

test('a bad option value is refused with what is allowed', async () => {
  const { code, stderr } = await zeekAnomaly('inspect', '--max-bad-line-ratio', '2', 'x.log');
  assert.notEqual(code, 0);
  assert.match(stderr, /expected a number from 0 to 1, got '2'/);
});

test('inspect judges bad lines by the config file’s badLines.*, as the service would, and its flags override the file', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    // 200 good rows and 5 with a port that is not a number: under the default policy (at least 100 bad lines) a read file.
    let rows = '';
    for (let i = 0; i < 200; i++) rows += connRow(i, i % 40 === 0 ? { 'id.resp_p': 'https' } : {});
    const log = join(dir, 'conn.log');
    await writeFile(log, zeekHeader() + rows + ZEEK_CLOSE);
    const strict = join(dir, 'strict.json');
    await writeFile(strict, JSON.stringify({ badLines: { maxRatio: 0.01, minCount: 1 } }));

    const byDefault = await zeekAnomaly('inspect', '--json', log);
    assert.equal(byDefault.code, 0, byDefault.stdout);
    assert.equal((JSON.parse(byDefault.stdout) as { badLines: number }).badLines, 5);

    const byConfig = await zeekAnomaly('inspect', '--json', '--config', strict, log);
    assert.equal(byConfig.code, 1, byConfig.stdout);
    assert.match(byConfig.stdout, /"status":"rejected".*too-many-bad-lines/);

    const byFlag = await zeekAnomaly('inspect', '--json', '--config', strict, '--min-bad-lines', '6', log);
    assert.equal(byFlag.code, 0, byFlag.stdout);
  } finally {
    await cleanup();
  }
});

test('a file that does not exist is reported, not a crash', async () => {
  const { code, stdout } = await zeekAnomaly('inspect', '/nonexistent/conn.log');
  assert.equal(code, 1);
  assert.match(stdout, /REJECTED\s+io: .*no such file/i);
});

/** `inspect --json` of some files, one report each, in order. */
async function inspectJson(files: readonly string[]): Promise<{ code: number; reports: Record<string, unknown>[] }> {
  const { code, stdout } = await zeekAnomaly('inspect', '--json', ...files);
  return { code, reports: stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/** What every report of another (non-conn) log read whole says, whatever its log. */
function assertOtherLogRead(report: Record<string, unknown>, expected: Record<string, unknown>): void {
  const file = String(report.file);
  assert.equal(report.status, 'read', `${file}: ${JSON.stringify(report.error)}`);
  assert.equal(report.conn, false, file);
  assert.equal(report.badLines, 0, file);
  assert.deepEqual(report.badLineSamples, [], file);
  assert.equal(report.truncated, false, file);
  for (const [key, value] of Object.entries(expected)) assert.deepEqual(report[key], value, `${file}: ${key}`);
}

test('inspect reads the dns, http, ssl, ssh, notice and open_conn archives of a zeekctl sensor as those logs, every row of them', async () => {
  // Rows counted apart from the reader: `zcat F | grep -vc '^#'` for each file.
  const archives: [string, string, number][] = [
    ['2024-04-19/dns.12:00:00-13:00:00.log.gz', 'dns', 153],
    ['2024-04-20/dns.00:00:00-01:00:00.log.gz', 'dns', 95],
    ['2024-04-21/dns.23:00:00-00:00:00.log.gz', 'dns', 71],
    ['2024-04-19/http.10:00:00-11:00:00.log.gz', 'http', 1065],
    ['2024-04-20/http.12:00:00-13:00:00.log.gz', 'http', 133],
    ['2024-04-21/ssl.03:00:00-04:00:00.log.gz', 'ssl', 6],
    ['2024-04-20/ssl.09:00:00-10:00:00.log.gz', 'ssl', 4],
    ['2024-04-19/ssh.13:00:00-14:00:00.log.gz', 'ssh', 93],
    ['2024-04-19/notice.03:00:00-04:00:00.log.gz', 'notice', 1],
    ['2024-04-19/open_conn.13:00:00-14:00:00.log.gz', 'open_conn', 1],
    ['2024-04-21/open_conn.23:00:00-00:00:00.log.gz', 'open_conn', 1],
  ];
  const files = archives.map(([name]) => otherLog('rita-missing-host', name));
  const { code, reports } = await inspectJson(files);
  assert.equal(code, 0, 'no file is rejected');
  assert.equal(reports.length, files.length);
  reports.forEach((report, i) => {
    const [name, log, rows] = archives[i]!;
    assertOtherLogRead(report, { file: files[i], log, logFrom: 'path', path: log, format: 'zeek-tsv', compression: 'gzip', rows });
    // Times are the connections' starts: within the three days, or the day before for a connection still open (open_conn).
    const [first, last] = [report.firstTs as number, report.lastTs as number];
    assert.ok(first <= last && first >= Date.parse('2024-04-18T00:00:00Z') / 1000 && last < Date.parse('2024-04-22T00:00:00Z') / 1000, `${name}: ${first} … ${last}`);
  });
  assert.deepEqual((reports[0]?.fields as string[]).slice(0, 8), ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'trans_id']);
  // The SSH session still open at rotation: it began at 1713470872.451585 (2024-04-18T20:07:52Z).
  assert.equal(reports[9]?.firstTs, 1713470872.451585);
});

test('inspect reads a small office’s labeled dns, http and ssl logs (CTU-SME-11), labels and all, every row', async () => {
  // Rows counted apart from the reader: `grep -vc '^#' F`.
  const logs: [string, number][] = [
    ['dns', 9359],
    ['http', 838],
    ['ssl', 2074],
  ];
  const files = logs.map(([log]) => otherLog('ctu-sme-11-office-day', `${log}.log.labeled`));
  const { code, reports } = await inspectJson(files);
  assert.equal(code, 0);
  reports.forEach((report, i) => {
    const [log, rows] = logs[i]!;
    assertOtherLogRead(report, { log, logFrom: 'path', path: log, format: 'zeek-tsv', compression: 'none', rows });
    assert.deepEqual((report.fields as string[]).slice(-2), ['label', 'detailedlabel']);
    // One whole day, 2023-02-20 (UTC).
    assert.ok((report.firstTs as number) >= 1676851200 && (report.lastTs as number) < 1676851200 + 86400, log);
  });
});

test('inspect reads Zeek JSON dns, http and ssl logs without _path as the logs their names say, every row', async () => {
  // Rows counted apart from the reader: `grep -c '^{' F` (one object a line; `wc -l` gives the same).
  const logs: [string, number][] = [
    ['dns', 239],
    ['http', 516],
    ['ssl', 205],
  ];
  const files = logs.map(([log]) => otherLog('stratosphere-test9-mixed', `${log}.log`));
  const { code, reports } = await inspectJson(files);
  assert.equal(code, 0);
  reports.forEach((report, i) => {
    const [log, rows] = logs[i]!;
    assertOtherLogRead(report, { log, logFrom: 'file name', path: null, format: 'zeek-json', compression: 'none', rows });
    // The capture's timestamps are seconds from its start.
    assert.ok((report.firstTs as number) >= 0 && (report.lastTs as number) < 3600, log);
  });
  assert.ok((reports[1]?.fields as string[]).includes('user_agent'), 'the fields of every line, not only the first');
});

test('inspect tells a reader what another log is and that it is not scored, and exits 0', async () => {
  const file = otherLog('rita-missing-host', '2024-04-19', 'dns.12:00:00-13:00:00.log.gz');
  const { code, stdout } = await zeekAnomaly('inspect', file);
  assert.equal(code, 0);
  assert.match(stdout, /log\s+dns, not a conn log: read by its own columns, not scored/);
  assert.match(stdout, /format\s+zeek-tsv, gzip, #path dns/);
  assert.match(stdout, /rows\s+153 in /);
  assert.match(stdout, /time range\s+2024-04-19T12:00:/);
  const json = otherLog('stratosphere-test9-mixed', 'ssl.log');
  assert.match((await zeekAnomaly('inspect', json)).stdout, /log\s+ssl \(by its file name: the file declares no #path\), not a conn log/);
});

test('a dns log named as a conn archive is inspected as the dns log its #path says', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const disguised = join(dir, '2024-04-19', 'conn.12:00:00-13:00:00.log.gz');
    await mkdir(dirname(disguised));
    await copyFile(otherLog('rita-missing-host', '2024-04-19', 'dns.12:00:00-13:00:00.log.gz'), disguised);
    const { code, reports } = await inspectJson([disguised]);
    assert.equal(code, 0);
    assertOtherLogRead(reports[0]!, { log: 'dns', logFrom: 'path', path: 'dns', rows: 153 });
  } finally {
    await cleanup();
  }
});

