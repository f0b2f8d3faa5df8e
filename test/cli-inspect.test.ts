import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { repoRoot, shared, sharedData, tempDir } from './support/paths.js';
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
