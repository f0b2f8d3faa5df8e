// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { shared, sharedData } from './support/paths.js';
import { dataLinesOf, readAll, readError } from './support/read.js';
import type { ConnRecord } from '../pipeline/read/conn-record.js';

const MASKED_TS = 'XXXXXXXXXX.XXXXXX';

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? walk(path) : entry.isFile() ? [path] : [];
    });
}

/** The file's text as the reader should see it: gunzipped when it is gzip, whatever its name. */
function textOf(file: string): string {
  const bytes = readFileSync(file);
  return (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
}

/** The 1-based number of the first line that is data (not a `#` line). */
function firstDataLineNumber(text: string): number {
  return text.split('\n').findIndex((l) => !l.startsWith('#')) + 1;
}

const folders = ['formats', 'labeled', 'rotated'] as const;
const filesByFolder = new Map(folders.map((folder) => [folder, walk(shared(folder))]));

describe('every real log in the shared data folder', () => {
  test('the walk finds the formats, labeled and rotated logs the README lists', () => {
    const formats = filesByFolder.get('formats') ?? [];
    const labeled = filesByFolder.get('labeled') ?? [];
    const rotated = filesByFolder.get('rotated') ?? [];
    assert.equal(labeled.length, 7);
    assert.ok(formats.length >= 20, `only ${formats.length} files under formats/`);
    assert.ok(rotated.length >= 300, `only ${rotated.length} files under rotated/`);
    assert.ok(rotated.every((f) => f.endsWith('.log.gz')), 'rotated/ holds only .log.gz archives');
    assert.equal(rotated.filter((f) => f.includes('rita-missing-host')).length, 72);
  });

  for (const folder of folders) {
    describe(folder, () => {
      for (const file of filesByFolder.get(folder) ?? []) {
        const name = relative(sharedData, file);
        const text = textOf(file);
        const dataLines = dataLinesOf(text);
        const masked = dataLines.some((l) => l.startsWith(MASKED_TS));

        if (masked) {
          test(`${name}, whose timestamps are masked, is rejected as having no rows, naming its first bad line and value`, async () => {
            const error = await readError(file);
            assert.equal(error.code, 'no-rows');
            assert.equal(error.file, file);
            assert.equal(error.line, null);
            assert.equal(error.rowsRead, 0);
            assert.equal(error.rowsSeen, 0);
            assert.ok(error.message.startsWith(`${file}: `), error.message);
            assert.match(error.message, new RegExp(`\\bline ${firstDataLineNumber(text)}\\b`));
            assert.ok(error.message.includes(MASKED_TS), error.message);
            assert.ok(error.message.includes(`${dataLines.length} data lines`), error.message);
          });
        } else {
          test(`${name} yields one row per data line and no bad lines`, async () => {
            const { records, summary } = await readAll(file);
            assert.deepEqual(summary.badLineSamples, []);
            assert.equal(summary.badLines, 0);
            assert.equal(summary.rows, dataLines.length);
            assert.equal(summary.dataLines, dataLines.length);
            assert.equal(records.length, dataLines.length);
            assert.ok(dataLines.length > 0, 'a real log with no rows proves nothing');
          });
        }
      }
    });
  }
});

const rowsOf = async (...parts: string[]): Promise<ConnRecord[]> => (await readAll(shared(...parts))).records;

describe('quirks of the real logs', () => {
  test('IoT-23 files split "tunnel_parents   label   detailed-label" into three columns', async () => {
    for (const name of ['iot23-34-1-mirai.conn.log.labeled', 'iot23-42-1-crlf.conn.log.labeled', 'iot23-honeypot-4-1-crlf.conn.log.labeled']) {
      const { records, summary } = await readAll(shared('labeled', name));
      assert.equal(summary.fields.length, 23, name);
      assert.deepEqual(summary.fields.slice(-3), ['tunnel_parents', 'label', 'detailed-label'], name);
      for (const record of records) {
        assert.ok(record.tunnel_parents === null, `${name}: tunnel_parents is '-' on every row`);
        assert.ok(record.extras !== null && 'detailed-label' in record.extras, name);
      }
    }
  });

  test('IoT-23 labels read as Benign, Malicious and lower-case benign in the counts the files hold', async () => {
    const labelCounts = async (name: string): Promise<Record<string, number>> => {
      const counts: Record<string, number> = {};
      for (const record of await rowsOf('labeled', name)) {
        const label = String(record.extras?.label);
        counts[label] = (counts[label] ?? 0) + 1;
      }
      return counts;
    };
    assert.deepEqual(await labelCounts('iot23-34-1-mirai.conn.log.labeled'), { Benign: 1923, Malicious: 21222 });
    assert.deepEqual(await labelCounts('iot23-42-1-crlf.conn.log.labeled'), { Benign: 4420, Malicious: 6 });
    assert.deepEqual(await labelCounts('iot23-honeypot-4-1-crlf.conn.log.labeled'), { benign: 452 });
  });

  test('the detailed label of an IoT-23 row is its own value, and "-" is unset', async () => {
    const [first] = await rowsOf('labeled', 'iot23-42-1-crlf.conn.log.labeled');
    assert.equal(first?.extras?.label, 'Malicious');
    assert.equal(first?.extras?.['detailed-label'], 'FileDownload');
    const [mirai] = await rowsOf('labeled', 'iot23-34-1-mirai.conn.log.labeled');
    assert.equal(mirai?.extras?.label, 'Benign');
    assert.equal(mirai?.extras?.['detailed-label'], null);
  });

  test('CRLF files give values without a carriage return, the last column included', async () => {
    for (const name of ['iot23-42-1-crlf.conn.log.labeled', 'iot23-honeypot-4-1-crlf.conn.log.labeled']) {
      const { records, summary } = await readAll(shared('labeled', name));
      assert.equal(summary.path, 'conn', name);
      assert.ok(!summary.fields.some((f) => f.includes('\r')), `${name}: a field name holds \\r`);
      for (const record of records) {
        assert.ok(!JSON.stringify(record).includes('\\r'), `${name}: ${JSON.stringify(record)}`);
      }
      const last = records[records.length - 1];
      assert.equal(last?.extras?.['detailed-label'], null, name);
    }
    const honeypot = await rowsOf('labeled', 'iot23-honeypot-4-1-crlf.conn.log.labeled');
    assert.equal(honeypot[honeypot.length - 1]?.extras?.label, 'benign');
  });

  test('bro2-no-local-resp has no local_resp column, so local_resp is null on every row', async () => {
    const { records, summary } = await readAll(shared('formats', 'tsv', 'bro2-no-local-resp.conn.log'));
    assert.ok(!summary.fields.includes('local_resp'));
    assert.ok(records.length > 300);
    for (const record of records) {
      assert.equal(record.local_resp, null);
      assert.equal(record.ip_proto, null);
    }
    // tunnel_parents is typed table[string] there; (empty) is still an empty set.
    assert.deepEqual(records[0]?.tunnel_parents, []);
  });

  test('trickbot and locky have ip_proto as numbers matching their proto', async () => {
    const expected: Record<string, number> = { tcp: 6, udp: 17, unknown_transport: 2 };
    for (const name of ['trickbot-ip-proto.conn.log', 'locky-ip-proto.conn.log']) {
      const records = await rowsOf('formats', 'tsv', name);
      const seen = new Set<number | null>();
      for (const record of records) {
        assert.equal(typeof record.ip_proto, 'number', name);
        assert.equal(record.ip_proto, expected[record.proto], `${name}: ${record.proto}`);
        seen.add(record.ip_proto);
      }
      assert.ok(seen.has(6) && seen.has(17), `${name}: ${[...seen].join(',')}`);
    }
  });

  test('rita-missing-host archives keep their _node_name column in extras', async () => {
    const file = shared('rotated', 'rita-missing-host', '2024-04-19', 'conn.00:00:00-01:00:00.log.gz');
    const { records, summary } = await readAll(file);
    assert.equal(summary.compression, 'gzip');
    assert.equal(summary.format, 'zeek-tsv');
    assert.equal(summary.fields[0], '_node_name');
    assert.ok(records.length > 0);
    for (const record of records) assert.deepEqual(record.extras, { _node_name: 'worker-eth0-1' });
    assert.equal(records[0]?.ts, 1713484795.943239);
    assert.equal(records[0]?.['id.orig_h'], '167.94.138.145');
  });

  test('rita-missing-host holds the 105,918 rows the README documents', async () => {
    let rows = 0;
    for (const file of (filesByFolder.get('rotated') ?? []).filter((f) => f.includes('rita-missing-host'))) {
      rows += (await readAll(file)).summary.rows;
    }
    assert.equal(rows, 105918);
  });

  test('(empty) tunnel_parents become [] and "-" becomes null', async () => {
    const expectedSets = (text: string): (string[] | null)[] =>
      dataLinesOf(text).map((line) => {
        const value = line.split('\t')[20];
        return value === '(empty)' ? [] : value === '-' ? null : (value ?? '').split(',');
      });
    const honeypotFile = shared('rotated', 'honeypot', '2022-03-01', 'conn.00:00:00-01:00:00.log.gz');
    const honeypot = (await readAll(honeypotFile)).records.map((r) => r.tunnel_parents);
    const honeypotExpected = expectedSets(textOf(honeypotFile));
    assert.deepEqual(honeypot, honeypotExpected);
    assert.ok(honeypotExpected.filter((s) => s?.length === 0).length > 1000, 'the honeypot hour is mostly (empty)');
    const proxy = await rowsOf('formats', 'tsv', 'rita-proxy.conn.log');
    assert.ok(proxy.length > 0);
    for (const record of proxy) assert.equal(record.tunnel_parents, null);
    const labeled = (await readAll(shared('labeled', 'ctu50-feel-008.conn.log.labeled'))).records;
    assert.deepEqual(labeled[0]?.tunnel_parents, []);
  });

  test('a set-valued service such as "http,ssl" stays one string', async () => {
    const [first] = await rowsOf('formats', 'tsv', 'rita-proxy.conn.log');
    assert.equal(first?.service, 'http,ssl');
    assert.equal(first?.local_orig, true);
    assert.equal(first?.local_resp, true);
  });

  test('unset TSV values are null and numbers are numbers', async () => {
    const records = await rowsOf('formats', 'tsv', 'netflowlabeler.conn.log');
    const first = records[0];
    assert.deepEqual(first, {
      ts: 11.537757,
      uid: 'CtQjy42V2Sc6pX6qf8',
      'id.orig_h': '10.0.2.106',
      'id.orig_p': 62364,
      'id.resp_h': '8.8.8.8',
      'id.resp_p': 53,
      proto: 'udp',
      service: 'dns',
      duration: null,
      orig_bytes: null,
      resp_bytes: null,
      conn_state: 'S0',
      local_orig: null,
      local_resp: null,
      missed_bytes: 0,
      history: 'D',
      orig_pkts: 1,
      orig_ip_bytes: 62,
      resp_pkts: 0,
      resp_ip_bytes: 0,
      tunnel_parents: [],
      ip_proto: null,
      extras: null,
    });
  });

  test('JSON logs give ts as a number of seconds and null for the fields they leave out', async () => {
    const { records, summary } = await readAll(shared('formats', 'json', 'netflowlabeler.conn.json.log'));
    assert.equal(summary.format, 'zeek-json');
    assert.equal(summary.compression, 'none');
    const first = records[0];
    assert.equal(first?.ts, 1626284618.384979);
    assert.equal(first?.['id.orig_p'], 5353);
    assert.equal(first?.duration, null);
    assert.equal(first?.orig_bytes, null);
    assert.equal(first?.local_orig, null);
    assert.equal(first?.local_resp, null);
    assert.equal(first?.tunnel_parents, null);
    assert.equal(first?.ip_proto, null);
    assert.equal(first?.extras, null);
    assert.equal(first?.history, 'D^');
    for (const record of records) {
      assert.equal(typeof record.ts, 'number');
      assert.ok(record.ts > 1.6e9 && record.ts < 1.7e9, String(record.ts));
    }
  });

  test('JSON booleans and extra JSON keys are kept', async () => {
    const [first] = await rowsOf('formats', 'json', 'lab-scan-l2addr.conn.json.log');
    assert.equal(first?.local_orig, true);
    assert.equal(first?.local_resp, false);
    assert.equal(first?.extras?.orig_l2_addr, '00:15:5d:9d:4a:a1');
  });

  test('port-scans/vertical.conn.log is detected as Zeek JSON by its content despite its name', async () => {
    const { records, summary } = await readAll(shared('formats', 'tsv', 'port-scans', 'vertical.conn.log'));
    assert.equal(summary.format, 'zeek-json');
    assert.equal(records.length, 50);
    assert.equal(records[0]?.ts, 1700828217.314165);
    assert.equal(records[0]?.['id.resp_p'], 443);
    assert.equal(records[0]?.conn_state, 'REJ');
  });

  test('rita-all-fields, with spaces after each colon, parses', async () => {
    const { records, summary } = await readAll(shared('formats', 'json', 'rita-all-fields.conn.json.log'));
    assert.equal(summary.format, 'zeek-json');
    assert.equal(records.length, 29);
    assert.equal(records[0]?.ts, 1517422326.539915);
    assert.equal(records[0]?.['id.orig_h'], '10.55.100.100');
    assert.equal(records[0]?.service, 'http');
    assert.equal(records[0]?.missed_bytes, 20);
  });

  test('slips-relative-ts has IPv6 addresses and small relative timestamps', async () => {
    const { records, summary } = await readAll(shared('formats', 'json', 'slips-relative-ts.conn.json.log'));
    assert.equal(records[0]?.['id.orig_h'], 'fe80::1cf4:44d2:904a:14f7');
    assert.equal(records[0]?.['id.resp_h'], 'ff02::1:3');
    assert.equal(records[0]?.ts, 22.335172);
    assert.ok(records.every((r) => r.ts >= 0 && r.ts < 100000));
    assert.ok(summary.firstTs !== null && summary.firstTs < 100);
    assert.ok(summary.lastTs !== null && summary.lastTs >= 254.507939);
  });

  test('a Zeek TSV log without #close is reported truncated, one with #close is not', async () => {
    const open = await readAll(shared('labeled', 'ctu-botnet-4.conn.log.labeled'));
    assert.equal(open.summary.truncated, true);
    assert.equal(open.summary.badLines, 0);
    const closed = await readAll(shared('formats', 'tsv', 'locky-ip-proto.conn.log'));
    assert.equal(closed.summary.truncated, false);
  });

  test('firstTs and lastTs are the smallest and largest ts, whatever the row order', async () => {
    const { records, summary } = await readAll(shared('labeled', 'ctu-botnet-4.conn.log.labeled'));
    const tss = records.map((r) => r.ts);
    assert.equal(summary.firstTs, Math.min(...tss));
    assert.equal(summary.lastTs, Math.max(...tss));
  });

  test('the scope_sep baseline maps id_orig_h to id.orig_h, so its rejection is about ts, not a missing column', async () => {
    const file = shared('formats', 'tsv', 'zeek-baselines', 'scripts.base.frameworks.logging.scope_sep.conn.log');
    const error = await readError(file);
    assert.equal(error.code, 'no-rows');
    assert.equal(error.summary.path, 'conn');
    assert.ok(error.summary.fields.includes('id.orig_h'));
    assert.ok(error.summary.fields.includes('id.resp_p'));
    assert.ok(!error.summary.fields.includes('id_orig_h'));
    assert.match(error.message, /'ts'/);
    assert.doesNotMatch(error.message, /id_orig_h|id\.orig_h|column/);
  });
});
