// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { readZeekLog } from '../pipeline/read/read-zeek-log.js';
import { LogReadError } from '../pipeline/read/log-read-error.js';
import type { ReadOptions, ReadSummary } from '../pipeline/read/log-reader.js';
import type { ZeekRow } from '../pipeline/read/conn-record.js';
import { otherLog, scratchFiles, shared } from './support/paths.js';
import { readAll } from './support/read.js';

const files = scratchFiles();
const write = files.write;
before(files.setUp);
after(files.cleanUp);

async function readRows(file: string, options?: ReadOptions): Promise<{ rows: ZeekRow[]; summary: ReadSummary }> {
  const reader = readZeekLog(file, options);
  const rows: ZeekRow[] = [];
  for await (const batch of reader) rows.push(...batch);
  return { rows, summary: reader.summary };
}

async function readFailure(file: string): Promise<LogReadError & { summary: ReadSummary }> {
  const reader = readZeekLog(file);
  try {
    for await (const batch of reader) void batch;
  } catch (error) {
    if (error instanceof LogReadError) return Object.assign(error, { summary: reader.summary });
    throw error;
  }
  return assert.fail(`${file} was read but should have been rejected`);
}

const RITA = (day: string, name: string): string => otherLog('rita-missing-host', day, name);

/** A Zeek TSV header of any log, as the ASCII writer prints it, with the markers it is given. */
function header(path: string, fields: readonly string[], types: readonly string[], markers: { unset?: string; empty?: string } = {}): string {
  return [
    '#separator \\x09',
    '#set_separator\t,',
    `#empty_field\t${markers.empty ?? '(empty)'}`,
    `#unset_field\t${markers.unset ?? '-'}`,
    `#path\t${path}`,
    '#open\t2024-04-19-00-00-01',
    `#fields\t${fields.join('\t')}`,
    `#types\t${types.join('\t')}`,
  ]
    .map((line) => `${line}\n`)
    .join('');
}

const CLOSE = '#close\t2024-04-19-01-00-00\n';

describe('rows of real logs, typed by their own #types', () => {
  test('a dns row has numbers for its time, counts, port and interval, booleans, its vectors as string arrays', async () => {
    const { rows, summary } = await readRows(RITA('2024-04-19', 'dns.12:00:00-13:00:00.log.gz'));
    assert.equal(summary.format, 'zeek-tsv');
    assert.equal(summary.path, 'dns');
    assert.equal(summary.rows, 153);
    assert.deepEqual(rows[0], {
      ts: 1713528000.520842,
      uid: 'CyrACB4GU1CKdRXaqe',
      'id.orig_h': '64.225.56.201',
      'id.orig_p': 52251,
      'id.resp_h': '67.207.67.2',
      'id.resp_p': 53,
      proto: 'udp',
      trans_id: 16140,
      rtt: 0.001397,
      query: '2.149.98.87.in-addr.arpa',
      qclass: 1,
      qclass_name: 'C_INTERNET',
      qtype: 12,
      qtype_name: 'PTR',
      rcode: 0,
      rcode_name: 'NOERROR',
      AA: false,
      TC: false,
      RD: true,
      RA: true,
      Z: 0,
      answers: ['ip2.ip-87-98-149.eu'],
      TTLs: ['85850.000000'],
      rejected: false,
    });
    assert.equal(summary.firstTs, 1713528000.520842);
  });

  test('a notice row with no connection has its id columns null, an (empty) set as [] and a set of one enum as its name', async () => {
    const { rows } = await readRows(RITA('2024-04-19', 'notice.03:00:00-04:00:00.log.gz'));
    const [notice] = rows;
    for (const column of ['uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'src', 'dst', 'p', 'remote_location.latitude']) {
      assert.equal(notice?.[column], null, column);
    }
    assert.equal(notice?.note, 'CaptureLoss::Too_Much_Loss');
    assert.equal(notice?.msg, 'The capture loss script detected an estimated loss rate above 11.258%');
    assert.deepEqual(notice?.actions, ['Notice::ACTION_LOG']);
    assert.deepEqual(notice?.email_dest, []);
    assert.equal(notice?.suppress_for, 3600);
  });

  test('an http row keeps its user agent and proxied header as text, its (empty) tags as [] and its file ids as arrays', async () => {
    const { rows } = await readRows(RITA('2024-04-19', 'http.10:00:00-11:00:00.log.gz'));
    const proxied = rows.find((r) => r.uid === 'CLaRCI1tKmlzGJvCY');
    assert.equal(proxied?.method, 'HEAD');
    assert.equal(proxied?.user_agent, 'Mozilla/5.0 (Windows NT 6.1; WOW64; rv:77.0) Gecko/20190101 Firefox/77.0');
    assert.deepEqual(proxied?.proxied, ['X-FORWARDED-FOR -> 119.12.166.6']);
    assert.deepEqual(proxied?.tags, []);
    assert.equal(proxied?.status_code, 200);
    assert.equal(proxied?.referrer, null);
    assert.deepEqual(rows[0]?.resp_fuids, ['FRDVrY3ogwpGzuLZyb']);
  });

  test('the open_conn row of the last hour is the SSH session, open 270,001 s', async () => {
    const { rows } = await readRows(RITA('2024-04-21', 'open_conn.23:00:00-00:00:00.log.gz'));
    assert.equal(rows.length, 1);
    assert.deepEqual(
      [rows[0]?.['id.orig_h'], rows[0]?.['id.resp_h'], rows[0]?.['id.resp_p'], rows[0]?.service, rows[0]?.duration],
      ['73.54.23.243', '64.225.56.201', 22, 'ssh', 270001.331436],
    );
    assert.equal(rows[0]?.tunnel_parents, null);
  });

  test('a Zeek JSON dns line keeps its keys and JSON types, with its arrays as strings', async () => {
    const { rows, summary } = await readRows(otherLog('stratosphere-test9-mixed', 'dns.log'));
    assert.equal(summary.format, 'zeek-json');
    assert.equal(summary.path, null);
    assert.equal(summary.rows, 239);
    const row = rows[3];
    assert.equal(row?.ts, 29.864806);
    assert.equal(row?.AA, true);
    assert.equal(row?.trans_id, 62862);
    assert.deepEqual(row?.answers, ['relay.felk.cvut.cz', '147.32.80.7']);
    assert.deepEqual(row?.TTLs, ['6400', '6400']);
    assert.equal(row?.rtt, 0.0008749999999970726);
  });

  test('a conn log read as any log gives the same rows, keyed by its columns', async () => {
    const file = shared('formats', 'tsv', 'trickbot-ip-proto.conn.log');
    const [any, conn] = [await readRows(file), await readAll(file)];
    assert.equal(any.summary.rows, conn.summary.rows);
    assert.equal(any.summary.path, 'conn');
    assert.deepEqual(
      any.rows.map((r) => [r.ts, r.uid, r['id.orig_h'], r['id.resp_p'], r.proto, r.history, r.ip_proto]),
      conn.records.map((r) => [r.ts, r.uid, r['id.orig_h'], r['id.resp_p'], r.proto, r.history, r.ip_proto]),
    );
  });
});

describe("a log's own markers and types", () => {
  const fields = ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'note', 'tags', 'hosts', 'n', 'delta', 'ok'];
  const types = ['time', 'string', 'addr', 'port', 'addr', 'port', 'string', 'set[string]', 'set[addr]', 'int', 'double', 'bool'];
  const row = (values: Record<string, string> = {}): string =>
    `${fields.map((f) => values[f] ?? { ts: '1713484800.5', uid: 'C1', 'id.orig_h': '10.0.0.1', 'id.orig_p': '1234', 'id.resp_h': '2001:db8::1', 'id.resp_p': '53', note: 'x', tags: 'a,b', hosts: '192.0.2.1,::1', n: '-7', delta: '-0.25', ok: 'T' }[f]).join('\t')}\n`;

  test('#unset_field and #empty_field are the file’s own: with NULL and EMPTY, a "-" is text', async () => {
    const file = write(
      'markers.log',
      header('weird', fields, types, { unset: 'NULL', empty: 'EMPTY' }) + row({ note: '-', tags: 'EMPTY', uid: 'NULL' }) + row({ note: 'EMPTY', hosts: 'NULL' }) + CLOSE,
    );
    const { rows, summary } = await readRows(file);
    assert.deepEqual(summary.badLineSamples, []);
    assert.equal(summary.path, 'weird');
    assert.deepEqual([rows[0]?.note, rows[0]?.tags, rows[0]?.uid], ['-', [], null]);
    assert.deepEqual([rows[1]?.note, rows[1]?.hosts], ['', null]);
    assert.deepEqual([rows[0]?.hosts, rows[0]?.n, rows[0]?.delta, rows[0]?.ok], [['192.0.2.1', '::1'], -7, -0.25, true]);
  });

  test('a value that does not fit its declared type is a bad line naming the column and the value, and the rows around it are read', async () => {
    const bad: [Record<string, string>, string][] = [
      [{ 'id.resp_h': '<script>alert(1)</script>' }, `field 'id.resp_h' has value "<script>alert(1)</script>", expected an IPv4 or IPv6 address`],
      [{ hosts: '192.0.2.1,../../etc/passwd' }, `field 'hosts' has value "../../etc/passwd", expected an IPv4 or IPv6 address`],
      [{ 'id.orig_p': '70000' }, `field 'id.orig_p' has value "70000", expected a port number from 0 to 65535`],
      [{ n: '1.5' }, `field 'n' has value "1.5", expected a whole number`],
      [{ delta: 'abc' }, `field 'delta' has value "abc", expected a number`],
      [{ ok: 'yes' }, `field 'ok' has value "yes", expected 'T' or 'F'`],
      [{ ts: 'XXXXXXXXXX.XXXXXX' }, `field 'ts' has value "XXXXXXXXXX.XXXXXX", expected a time in epoch seconds`],
    ];
    const file = write('bad-values.log', header('weird', fields, types) + row() + bad.map(([values]) => row(values) + row()).join('') + CLOSE);
    const { rows, summary } = await readRows(file);
    assert.equal(rows.length, bad.length + 1);
    assert.deepEqual(
      summary.badLineSamples,
      bad.map(([, reason], i) => ({ line: 10 + 2 * i, reason })),
    );
  });

  test('markup, formulas and U+202E in a string column are strings, read as they are', async () => {
    const notes = ['<script>alert(1)</script>', '=HYPERLINK("x")', '+1', '-1', '@SUM(A1)', 'evil\u202Etxt.exe'];
    const file = write('strings.log', header('weird', fields, types) + notes.map((note) => row({ note })).join('') + CLOSE);
    const { rows, summary } = await readRows(file);
    assert.deepEqual(summary.badLineSamples, []);
    assert.deepEqual(
      rows.map((r) => r.note),
      notes,
    );
  });
});

describe('the same errors and bad-line policy as the conn reader', () => {
  test('a truncated gzip of a dns archive is truncated-gzip, naming the file and the rows read before the cut', async () => {
    const gz = gzipSync(gunzipSync(readFileSync(RITA('2024-04-19', 'http.10:00:00-11:00:00.log.gz'))));
    const file = write('http.log.gz', gz.subarray(0, Math.floor(gz.length / 2)));
    const error = await readFailure(file);
    assert.equal(error.code, 'truncated-gzip');
    assert.equal(error.file, file);
    assert.ok(error.rowsRead > 0 && error.rowsRead < 1065, String(error.rowsRead));
    assert.ok(error.message.startsWith(`${file}: `), error.message);
  });

  test('a log none of whose rows can be read is no-rows, naming the first bad line', async () => {
    const fields = ['ts', 'id.orig_h'];
    const file = write('all-bad.log', header('dns', fields, ['time', 'addr']) + '1.0\tnot-an-address\n2.0\tnor-this\n' + CLOSE);
    const error = await readFailure(file);
    assert.equal(error.code, 'no-rows');
    assert.match(error.message, /none of its 2 data lines could be read; the first is line 9: field 'id\.orig_h' has value "not-an-address"/);
  });

  test('a JSON log with ISO 8601 times gives epoch seconds and its time range', async () => {
    const lines = ['2024-04-19T12:00:00.250000Z', '2024-04-19T12:00:01.500000Z'].map((ts) => `${JSON.stringify({ ts, _path: 'dns', query: 'example.org' })}\n`);
    const { rows, summary } = await readRows(write('iso.json.log', lines.join('')));
    const base = Date.parse('2024-04-19T12:00:00Z') / 1000;
    assert.deepEqual(
      rows.map((r) => r.ts),
      [base + 0.25, base + 1.5],
    );
    assert.equal(summary.path, 'dns');
    assert.deepEqual([summary.firstTs, summary.lastTs], [base + 0.25, base + 1.5]);
  });

  test('a JSON line whose address is markup is a bad line, as in a conn log', async () => {
    const good = { ts: 1.5, 'id.orig_h': '10.0.0.1', 'id.resp_h': '10.0.0.2', query: 'a' };
    const lines = [good, { ...good, 'id.orig_h': '"><img src=x>' }, good].map((o) => `${JSON.stringify(o)}\n`);
    const { rows, summary } = await readRows(write('bad-addr.json.log', lines.join('')));
    assert.equal(rows.length, 2);
    assert.deepEqual(summary.badLineSamples, [{ line: 2, reason: `field 'id.orig_h' has value "\\"><img src=x>", expected an IPv4 or IPv6 address` }]);
  });
});
