// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { readConnLog } from '../pipeline/read/read-conn-log.js';
import { scratchFiles, shared } from './support/paths.js';
import {
  CONN_FIELDS,
  CONN_TYPES,
  FIRST_DATA_LINE,
  ZEEK_CLOSE,
  connRow,
  connValues,
  pseudoRandomBytes,
  readAll,
  readError,
  zeekHeader,
  zeekLog,
} from './support/read.js';

const files = scratchFiles();
const write = files.write;
before(files.setUp);
after(files.cleanUp);

/** A good Zeek log of `good` rows with `bad` rows (local_orig 'X') after them. */
function logWithBadLines(good: number, bad: number): string {
  let rows = '';
  for (let i = 0; i < good; i++) rows += connRow(i);
  for (let i = 0; i < bad; i++) rows += connRow(good + i, { local_orig: 'X' });
  return zeekHeader() + rows + ZEEK_CLOSE;
}

const TRICKBOT = (): string => shared('formats', 'tsv', 'trickbot-ip-proto.conn.log');
const TRICKBOT_ROWS = 13001;

const JSON_ROW = {
  ts: 1700828217.314165,
  uid: 'CfykLO1IT1nVRJhLA3',
  'id.orig_h': '192.168.1.9',
  'id.orig_p': 50820,
  'id.resp_h': '45.33.32.156',
  'id.resp_p': 443,
  proto: 'tcp',
  duration: 0.20696377754211426,
  orig_bytes: 0,
  resp_bytes: 0,
  conn_state: 'REJ',
  local_orig: true,
  local_resp: false,
  missed_bytes: 0,
  history: 'Sr',
  orig_pkts: 1,
  orig_ip_bytes: 60,
  resp_pkts: 1,
  resp_ip_bytes: 40,
};

const jsonLine = (overrides: Record<string, unknown> = {}): string => `${JSON.stringify({ ...JSON_ROW, ...overrides })}\n`;

describe('gzip damage', () => {
  test('a truncated .gz is rejected as truncated-gzip, naming the file and the rows read before the cut', async () => {
    const gz = gzipSync(readFileSync(TRICKBOT()));
    const file = write('truncated.log.gz', gz.subarray(0, Math.floor((gz.length * 2) / 3)));
    const error = await readError(file);
    assert.equal(error.code, 'truncated-gzip');
    assert.equal(error.file, file);
    assert.ok(error.rowsRead > 0, `rowsRead ${error.rowsRead}`);
    assert.ok(error.rowsRead < TRICKBOT_ROWS, `rowsRead ${error.rowsRead}`);
    assert.equal(error.rowsRead, error.rowsSeen, 'rowsRead counts the rows the caller received');
    assert.ok(error.message.startsWith(`${file}: `), error.message);
    assert.ok(error.message.includes(`${error.rowsRead} rows`), error.message);
    assert.match(error.message, /truncated/);
  });

  test('a gzip header followed by random bytes is rejected as corrupt-gzip', async () => {
    const header = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]);
    const file = write('garbage.log.gz', Buffer.concat([header, pseudoRandomBytes(64 * 1024, 12345)]));
    const error = await readError(file);
    assert.equal(error.code, 'corrupt-gzip');
    assert.equal(error.rowsRead, 0);
    assert.ok(error.message.startsWith(`${file}: `), error.message);
  });

  test('two gzipped logs concatenated are read as one, every row of both', async () => {
    const file = write(
      'two-members.log.gz',
      Buffer.concat([gzipSync(zeekLog(300)), gzipSync(zeekLog(200, { first: 300 }))]),
    );
    const { records, summary } = await readAll(file);
    assert.equal(summary.compression, 'gzip');
    assert.equal(summary.rows, 500);
    assert.equal(summary.badLines, 0);
    assert.deepEqual(
      records.map((r) => r.orig_bytes),
      Array.from({ length: 500 }, (_, i) => i),
    );
  });

  test('a log gzipped as three members cut mid-line reads exactly as the plain log', async () => {
    const text = readFileSync(TRICKBOT());
    const cuts = [Math.floor(text.length / 3), Math.floor((text.length * 2) / 3)];
    for (const cut of cuts) assert.notEqual(text[cut - 1], 0x0a, 'the cut must fall inside a line');
    const members = [text.subarray(0, cuts[0]), text.subarray(cuts[0], cuts[1]), text.subarray(cuts[1])].map((part) =>
      gzipSync(part),
    );
    const file = write('three-members.log.gz', Buffer.concat(members));
    const gz = await readAll(file);
    const plain = await readAll(TRICKBOT());
    assert.equal(gz.summary.rows, TRICKBOT_ROWS);
    assert.equal(gz.summary.badLines, 0);
    assert.deepEqual(gz.records, plain.records);
  });

  test('zero padding after the gzip stream is ignored, short or longer than a 32 KiB slice', async () => {
    for (const padding of [1, 512, 100 * 1024]) {
      const file = write('padded.log.gz', Buffer.concat([gzipSync(zeekLog(50)), Buffer.alloc(padding)]));
      const { summary } = await readAll(file);
      assert.equal(summary.rows, 50, `padding ${padding}`);
      assert.equal(summary.truncated, false);
    }
  });

  test('junk after the gzip stream is rejected as corrupt-gzip', async () => {
    const file = write('junk-after.log.gz', Buffer.concat([gzipSync(zeekLog(50)), Buffer.from('this is not gzip\n')]));
    const error = await readError(file);
    assert.equal(error.code, 'corrupt-gzip');
    assert.ok(error.message.startsWith(`${file}: `), error.message);
  });

  test('junk after a gzip stream larger than one read chunk is rejected too', async () => {
    const gz = gzipSync(readFileSync(TRICKBOT()), { level: 1 });
    const file = write('big-junk-after.log.gz', Buffer.concat([gz, Buffer.from('trailing junk, not a member')]));
    const error = await readError(file);
    assert.equal(error.code, 'corrupt-gzip');
  });

  test('a gzip of an empty file is rejected as empty, like the empty file itself', async () => {
    const file = write('empty.log.gz', gzipSync(Buffer.alloc(0)));
    const error = await readError(file);
    assert.equal(error.code, 'empty');
  });

  test('an empty gzip member after a full one (cat log.gz empty.gz) adds nothing and loses nothing', async () => {
    const file = write('with-empty-member.log.gz', Buffer.concat([gzipSync(zeekLog(40)), gzipSync(Buffer.alloc(0))]));
    const { summary } = await readAll(file);
    assert.equal(summary.rows, 40);
    assert.equal(summary.badLines, 0);
  });
});

describe('files that are not conn logs', () => {
  test('an empty file is rejected as empty', async () => {
    const file = write('empty.log', '');
    const error = await readError(file);
    assert.equal(error.code, 'empty');
    assert.equal(error.rowsRead, 0);
    assert.ok(error.message.startsWith(`${file}: `), error.message);
  });

  test('a Zeek header with #close and no rows gives zero rows and no error', async () => {
    const file = write('header-only.log', zeekHeader() + ZEEK_CLOSE);
    const { records, summary } = await readAll(file);
    assert.equal(records.length, 0);
    assert.equal(summary.rows, 0);
    assert.equal(summary.dataLines, 0);
    assert.equal(summary.badLines, 0);
    assert.equal(summary.format, 'zeek-tsv');
    assert.equal(summary.path, 'conn');
    assert.deepEqual(summary.fields, [...CONN_FIELDS]);
    assert.equal(summary.truncated, false);
    assert.equal(summary.firstTs, null);
    assert.equal(summary.lastTs, null);
  });

  const dnsFields = [
    'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'trans_id', 'rtt', 'query', 'qclass',
    'qclass_name', 'qtype', 'qtype_name', 'rcode', 'rcode_name', 'AA', 'TC', 'RD', 'RA', 'Z', 'answers', 'TTLs', 'rejected',
  ];
  const dnsTypes = [
    'time', 'string', 'addr', 'port', 'addr', 'port', 'enum', 'count', 'interval', 'string', 'count', 'string', 'count',
    'string', 'count', 'string', 'bool', 'bool', 'bool', 'bool', 'count', 'vector[string]', 'vector[interval]', 'bool',
  ];
  const dnsRow =
    '1713484795.943239\tCYl7H53iN6mY9NyXJ8\t10.0.0.5\t53122\t8.8.8.8\t53\tudp\t4711\t0.012345\texample.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t93.184.216.34\t3600.000000\tF\n';

  test('a dns.log is rejected as wrong-log-type with its #path named, at line 5', async () => {
    const file = write('dns.log', zeekHeader({ path: 'dns', fields: dnsFields, types: dnsTypes }) + dnsRow + ZEEK_CLOSE);
    const error = await readError(file);
    assert.equal(error.code, 'wrong-log-type');
    assert.equal(error.line, 5);
    assert.equal(error.rowsRead, 0);
    assert.ok(error.message.startsWith(`${file}:5: `), error.message);
    assert.match(error.message, /'dns'/);
  });

  test('a dns.log without its #path is still told apart by its columns', async () => {
    const header = zeekHeader({ fields: dnsFields, types: dnsTypes }).replace('#path\tconn\n', '');
    const file = write('dns-no-path.log', header + dnsRow);
    const error = await readError(file);
    assert.equal(error.code, 'missing-columns');
    assert.equal(error.line, 6);
    assert.match(error.message, /conn_state/);
  });

  const jsonDns = (path: boolean): string =>
    `${JSON.stringify({
      ts: 1713484795.943239,
      uid: 'CYl7H53iN6mY9NyXJ8',
      ...(path ? { _path: 'dns' } : {}),
      'id.orig_h': '10.0.0.5',
      'id.orig_p': 53122,
      'id.resp_h': '8.8.8.8',
      'id.resp_p': 53,
      proto: 'udp',
      trans_id: 4711,
      query: 'example.com',
      rcode_name: 'NOERROR',
      answers: ['93.184.216.34'],
    })}\n`;

  test('a JSON dns log with "_path":"dns" is rejected as wrong-log-type naming dns', async () => {
    const file = write('dns.json.log', jsonDns(true) + jsonDns(true));
    const error = await readError(file);
    assert.equal(error.code, 'wrong-log-type');
    assert.equal(error.line, 1);
    assert.match(error.message, /'dns'/);
    assert.equal(error.summary.format, 'zeek-json');
  });

  test('a JSON dns log without _path is told apart by its first record', async () => {
    const file = write('dns-no-path.json.log', jsonDns(false));
    const error = await readError(file);
    assert.equal(error.code, 'missing-columns');
    assert.equal(error.line, 1);
  });

  test('random bytes with NULs are rejected as binary', async () => {
    const junk = pseudoRandomBytes(8192, 777);
    junk[0] = 0x42; // not a gzip magic number
    junk[100] = 0;
    const file = write('junk.bin', junk);
    const error = await readError(file);
    assert.equal(error.code, 'binary');
    assert.equal(error.rowsRead, 0);
    assert.ok(error.message.startsWith(`${file}: `), error.message);
  });

  test('text that is no log format is rejected as unknown-format at line 1', async () => {
    const file = write('notes.txt', 'just some notes\nnothing to see\n');
    const error = await readError(file);
    assert.equal(error.code, 'unknown-format');
    assert.equal(error.line, 1);
    assert.match(error.message, /just some notes/);
  });
});

describe('bad lines', () => {
  test('a 2 MiB line inside a good log is exactly one bad line, with its number, and the rest is read', async () => {
    const longLine = `${'A'.repeat(2 * 1024 * 1024)}\n`;
    let rows = '';
    for (let i = 0; i < 100; i++) rows += (i === 50 ? longLine : '') + connRow(i);
    const file = write('long-line.log', zeekHeader() + rows + ZEEK_CLOSE);
    const { records, summary } = await readAll(file);
    assert.equal(summary.rows, 100);
    assert.equal(summary.badLines, 1);
    assert.equal(summary.dataLines, 101);
    assert.equal(summary.badLineSamples.length, 1);
    assert.equal(summary.badLineSamples[0]?.line, FIRST_DATA_LINE + 50);
    assert.match(summary.badLineSamples[0]?.reason ?? '', /1 MiB/);
    assert.deepEqual(
      records.map((r) => r.orig_bytes),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.equal(summary.truncated, false);
  });

  test('the same 2 MiB line inside a .gz is the same one bad line', async () => {
    const longLine = `${'uid'.repeat(700 * 1024)}\n`;
    let rows = '';
    for (let i = 0; i < 100; i++) rows += (i === 50 ? longLine : '') + connRow(i);
    const file = write('long-line.log.gz', gzipSync(zeekHeader() + rows + ZEEK_CLOSE));
    const { records, summary } = await readAll(file);
    assert.equal(summary.rows, 100);
    assert.equal(summary.badLines, 1);
    assert.deepEqual(summary.badLineSamples.map((b) => b.line), [FIRST_DATA_LINE + 50]);
    assert.match(summary.badLineSamples[0]?.reason ?? '', /1 MiB/);
    assert.equal(records[50]?.orig_bytes, 50);
  });

  test('a file of one 3 MiB line with no newline at all is one bad line, not a crash', async () => {
    const file = write('no-newline.log', `#${'x'.repeat(3 * 1024 * 1024)}`);
    const error = await readError(file);
    assert.equal(error.code, 'no-rows');
    assert.match(error.message, /line 1\b/);
    assert.match(error.message, /1 MiB/);
    assert.equal(error.summary.badLines, 1);
  });

  test('rows with more values than #fields declares are all bad: no-rows, naming both counts and the #fields line', async () => {
    const fields = CONN_FIELDS.slice(0, -1);
    const types = CONN_TYPES.slice(0, -1);
    let rows = '';
    for (let i = 0; i < 5; i++) rows += connRow(i);
    const file = write('short-fields.log', zeekHeader({ fields, types }) + rows + ZEEK_CLOSE);
    const error = await readError(file);
    assert.equal(error.code, 'no-rows');
    assert.equal(error.line, null);
    assert.equal(error.rowsRead, 0);
    assert.equal(error.summary.badLines, 5);
    assert.match(error.message, /\b5 data lines\b/);
    assert.match(error.message, new RegExp(`line ${FIRST_DATA_LINE}\\b`));
    assert.match(error.message, /\b22 fields\b/);
    assert.match(error.message, /#fields \(line 7\) declares 21\b/);
  });

  test('malformed values are bad lines with their line number and a reason naming field and value', async () => {
    let rows = '';
    const badAt: Record<number, Parameters<typeof connRow>[1]> = {
      3: { orig_bytes: 'abc' },
      7: { 'id.resp_p': '70000' },
      12: { local_orig: 'X' },
    };
    for (let i = 0; i < 20; i++) rows += connRow(i, badAt[i] ?? {});
    const file = write('malformed.log', zeekHeader() + rows + ZEEK_CLOSE);
    const { records, summary } = await readAll(file);
    assert.equal(summary.rows, 17);
    assert.equal(summary.badLines, 3);
    assert.equal(summary.dataLines, 20);
    assert.equal(records.length, 17);
    assert.deepEqual(
      summary.badLineSamples.map((b) => b.line),
      [FIRST_DATA_LINE + 3, FIRST_DATA_LINE + 7, FIRST_DATA_LINE + 12],
    );
    const [bytes, port, bool] = summary.badLineSamples.map((b) => b.reason);
    assert.match(bytes ?? '', /'orig_bytes'.*"abc"/);
    assert.match(port ?? '', /'id\.resp_p'.*"70000"/);
    assert.match(bool ?? '', /'local_orig'.*"X"/);
  });

  test('only the first 10 bad lines are kept as samples, all are counted, unless badLineSamples says otherwise', async () => {
    const file = write('many-bad.log', logWithBadLines(5000, 30));
    const { summary } = await readAll(file);
    assert.equal(summary.badLines, 30);
    assert.equal(summary.badLineSamples.length, 10);
    assert.equal(summary.badLineSamples[0]?.line, FIRST_DATA_LINE + 5000);
    const three = await readAll(file, { badLineSamples: 3 });
    assert.equal(three.summary.badLineSamples.length, 3);
    assert.equal(three.summary.badLines, 30);
  });
});

describe('the bad-line policy: reject when bad lines are at least 100 and more than 1% of data lines', () => {
  test('150 bad lines among 10,000 good ones are too many', async () => {
    const error = await readError(write('150-of-10150.log', logWithBadLines(10000, 150)));
    assert.equal(error.code, 'too-many-bad-lines');
    assert.equal(error.rowsRead, 10000);
    assert.match(error.message, /\b150 of 10150 data lines\b/);
    assert.match(error.message, new RegExp(`line ${FIRST_DATA_LINE + 10000}\\b`));
  });

  test('99 bad lines among 100 good ones are accepted: fewer than 100', async () => {
    const { summary } = await readAll(write('99-of-199.log', logWithBadLines(100, 99)));
    assert.equal(summary.rows, 100);
    assert.equal(summary.badLines, 99);
  });

  test('100 bad lines among 100 good ones are too many', async () => {
    const error = await readError(write('100-of-200.log', logWithBadLines(100, 100)));
    assert.equal(error.code, 'too-many-bad-lines');
  });

  test('100 bad lines among 9,900 good ones are accepted: exactly 1%, not more', async () => {
    const { summary } = await readAll(write('100-of-10000.log', logWithBadLines(9900, 100)));
    assert.equal(summary.rows, 9900);
    assert.equal(summary.badLines, 100);
    assert.equal(summary.dataLines, 10000);
  });

  test('101 bad lines among 9,900 good ones are too many: just over 1%', async () => {
    const error = await readError(write('101-of-10001.log', logWithBadLines(9900, 101)));
    assert.equal(error.code, 'too-many-bad-lines');
    assert.equal(error.rowsRead, 9900);
  });

  test('a custom policy from the options replaces both thresholds', async () => {
    const badLines = { maxBadLineRatio: 0.5, minBadLinesToReject: 5 };
    // 5 bad of 9: at least 5 and over half.
    const over = await readError(write('custom-over.log', logWithBadLines(4, 5)), { badLines });
    assert.equal(over.code, 'too-many-bad-lines');
    assert.match(over.message, /\b5 of 9 data lines\b/);
    // 4 bad of 5: over half, but fewer than 5.
    assert.equal((await readAll(write('custom-few.log', logWithBadLines(1, 4)), { badLines })).summary.badLines, 4);
    // 5 bad of 11: at least 5, but not over half.
    assert.equal((await readAll(write('custom-low.log', logWithBadLines(6, 5)), { badLines })).summary.badLines, 5);
    // The default policy would accept all of these; a zero-tolerance policy rejects one bad line.
    const strict = await readError(write('custom-strict.log', logWithBadLines(1000, 1)), {
      badLines: { maxBadLineRatio: 0, minBadLinesToReject: 1 },
    });
    assert.equal(strict.code, 'too-many-bad-lines');
  });
});

describe('hostile values in the three formats', () => {
  const address = (field: string, shown: string): string => `field '${field}' has value ${shown}, expected an IPv4 or IPv6 address`;
  const proto = (shown: string): string => `field 'proto' has value ${shown}, expected one of tcp, udp, icmp, unknown_transport`;
  // Each replaces one value of an otherwise good row; `reason` is the bad line's reason, word for word.
  const HOSTILE: { field: 'id.orig_h' | 'id.resp_h' | 'proto'; value: string; reason: string }[] = [
    { field: 'id.orig_h', value: '<script>alert(1)</script>', reason: address('id.orig_h', '"<script>alert(1)</script>"') },
    { field: 'id.resp_h', value: '../../../etc/passwd', reason: address('id.resp_h', '"../../../etc/passwd"') },
    { field: 'id.orig_h', value: "1.2.3.4' OR '1'='1", reason: address('id.orig_h', `"1.2.3.4' OR '1'='1"`) },
    { field: 'id.resp_h', value: '7'.repeat(5000), reason: address('id.resp_h', `"${'7'.repeat(60)}…"`) },
    { field: 'id.orig_h', value: '10.0.0.1\u0007', reason: address('id.orig_h', '"10.0.0.1\\u0007"') },
    { field: 'id.resp_h', value: '256.0.0.1', reason: address('id.resp_h', '"256.0.0.1"') },
    { field: 'id.orig_h', value: 'fe80::1%eth0', reason: address('id.orig_h', '"fe80::1%eth0"') },
    { field: 'id.resp_h', value: '2001:db8::1::2', reason: address('id.resp_h', '"2001:db8::1::2"') },
    { field: 'proto', value: '<img src=x onerror=alert(1)>', reason: proto('"<img src=x onerror=alert(1)>"') },
    { field: 'proto', value: 'TCP', reason: proto('"TCP"') },
    { field: 'proto', value: 'icmp6', reason: proto('"icmp6"') },
  ];
  // Every text form Zeek (or another writer of IPv6) may use is an address.
  const GOOD_ADDRESSES = ['0.0.0.0', '255.255.255.255', '::', '::1', '::ffff:192.0.2.1', '2001:DB8::A', 'fe80::1cf4:44d2:904a:14f7', '2001:db8:0:0:0:0:2:1', '1::', '64:ff9b::192.0.2.33'];

  type Overrides = Parameters<typeof connRow>[1];
  /** Row i of the crafted log: good rows (each with a good address form) around one row per hostile value. */
  const craftedRows = (): { overrides: Overrides; hostile: (typeof HOSTILE)[number] | null }[] => {
    const rows: { overrides: Overrides; hostile: (typeof HOSTILE)[number] | null }[] = [];
    let good = 0;
    const goodRow = (): void => {
      const a = GOOD_ADDRESSES[good++ % GOOD_ADDRESSES.length]!;
      rows.push({ overrides: { 'id.orig_h': a, 'id.resp_h': a, proto: ['tcp', 'udp', 'icmp', 'unknown_transport'][good % 4]! }, hostile: null });
    };
    goodRow();
    for (const hostile of HOSTILE) {
      rows.push({ overrides: { [hostile.field]: hostile.value }, hostile });
      goodRow();
    }
    return rows;
  };

  const csvCell = (value: string): string => (/[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  const jsonRow = (i: number, overrides: Overrides = {}): string => {
    const values = connValues(i, overrides);
    const object: Record<string, unknown> = {};
    CONN_FIELDS.forEach((field, k) => {
      const value = values[k]!;
      if (value === '-') return;
      object[field] = ['id.orig_h', 'id.resp_h', 'proto', 'uid', 'service', 'history', 'conn_state'].includes(field)
        ? value
        : field === 'local_orig' || field === 'local_resp'
          ? value === 'T'
          : Number(value);
    });
    return `${JSON.stringify(object)}\n`;
  };

  /** The same rows as a Zeek TSV log, a Zeek JSON log and a CSV export, with the line number of each row. */
  const FORMATS = {
    'Zeek TSV': {
      name: 'hostile.log',
      firstLine: FIRST_DATA_LINE,
      write: (rows: Overrides[]) => zeekHeader() + rows.map((o, i) => connRow(i, o)).join('') + ZEEK_CLOSE,
    },
    'Zeek JSON': { name: 'hostile.json.log', firstLine: 1, write: (rows: Overrides[]) => rows.map((o, i) => jsonRow(i, o)).join('') },
    'CSV export': {
      name: 'hostile.csv',
      firstLine: 2,
      write: (rows: Overrides[]) => `${CONN_FIELDS.join(',')}\n${rows.map((o, i) => `${connValues(i, o).map(csvCell).join(',')}\n`).join('')}`,
    },
  } as const;

  for (const [format, { name, firstLine, write: content }] of Object.entries(FORMATS)) {
    test(`a ${format} log with markup, paths, SQL, a 5,000-character value, a control character and a zone as addresses, or markup and upper case as proto, has each as a bad line naming the column and the value`, async () => {
      const rows = craftedRows();
      const file = write(name, content(rows.map((r) => r.overrides)));
      const { records, summary } = await readAll(file, { badLineSamples: 100 });
      assert.deepEqual(
        summary.badLineSamples,
        rows.flatMap((r, i) => (r.hostile === null ? [] : [{ line: firstLine + i, reason: r.hostile.reason }])),
      );
      assert.equal(summary.badLines, HOSTILE.length);
      const goodRows = rows.flatMap((r, i) => (r.hostile === null ? [{ i, overrides: r.overrides }] : []));
      assert.equal(summary.rows, goodRows.length);
      assert.deepEqual(
        records.map((r) => [r.uid, r['id.orig_h'], r['id.resp_h'], r.proto]),
        goodRows.map(({ i, overrides }) => [connValues(i)[1], overrides?.['id.orig_h'], overrides?.['id.resp_h'], overrides?.proto]),
      );
    });

    test(`a ${format} log whose service and history begin with =, +, - or @, hold U+202E, or whose uid is 5,000 characters, is read as it is: those are strings`, async () => {
      const strings: Overrides[] = [
        { service: '=HYPERLINK("http://x")', history: '+ShADadFf' },
        { service: '+cmd|calc', history: '=1+1' },
        { service: '-2+3', history: '@SUM(A1)' },
        { service: '@import', history: '-ShA' },
        { service: 'ssl\u202Egpj.exe', history: 'Sh\u202EAD' },
        { uid: `C${'x'.repeat(4999)}` },
      ];
      const file = write(name.replace('hostile', 'strings'), content(strings));
      const { records, summary } = await readAll(file);
      assert.deepEqual(summary.badLineSamples, []);
      assert.equal(records.length, strings.length);
      strings.forEach((overrides, i) => {
        const [uid, service, history] = [1, 7, 15].map((k) => connValues(i, overrides)[k]);
        assert.deepEqual([records[i]?.uid, records[i]?.service, records[i]?.history], [uid, service, history], `row ${i}`);
      });
      assert.equal(records[5]?.uid?.length, 5000);
    });
  }

  test('an extra column typed addr must hold an address too, and an unset one is null', async () => {
    const fields = [...CONN_FIELDS, 'peer_h'];
    const types = [...CONN_TYPES, 'addr'];
    const rows = ['192.0.2.1', '-', '<b>x</b>'].map((peer, i) => `${connValues(i).join('\t')}\t${peer}\n`).join('');
    const file = write('extra-addr.log', zeekHeader({ fields, types }) + rows + ZEEK_CLOSE);
    const { records, summary } = await readAll(file);
    assert.deepEqual(records.map((r) => r.extras?.peer_h), ['192.0.2.1', null]);
    assert.deepEqual(summary.badLineSamples, [{ line: FIRST_DATA_LINE + 2, reason: `field 'peer_h' has value "<b>x</b>", expected an IPv4 or IPv6 address` }]);
  });
});

describe('other text layouts', () => {
  const csvHeader = [...CONN_FIELDS.slice(0, -1), 'note'].join(',');

  test('a CSV export with quoted fields is read as csv with the quotes undone', async () => {
    const rows = [
      '1672843056.913119,CXHB1X22027MRWU6D,10.136.0.18,55548,10.136.0.16,3128,tcp,"http,ssl",0.084044,1030,20275,SF,T,T,0,ShADadFf,18,1974,14,21011,-,plain',
      '"1672843057.000001","C2",10.136.0.18,55549,10.136.0.16,3128,tcp,,,,,S0,,,0,S,1,60,0,0,"CabC,CdeF","say ""hi"", ok"',
    ];
    const file = write('export.csv', `${csvHeader}\n${rows.join('\n')}\n`);
    const { records, summary } = await readAll(file);
    assert.equal(summary.format, 'csv');
    assert.equal(summary.badLines, 0);
    assert.deepEqual(summary.fields, [...CONN_FIELDS.slice(0, -1), 'note']);
    assert.equal(records.length, 2);
    const [first, second] = records;
    assert.equal(first?.ts, 1672843056.913119);
    assert.equal(first?.service, 'http,ssl');
    assert.equal(first?.['id.resp_p'], 3128);
    assert.equal(first?.local_orig, true);
    assert.equal(first?.tunnel_parents, null);
    assert.deepEqual(first?.extras, { note: 'plain' });
    assert.equal(second?.ts, 1672843057.000001);
    assert.equal(second?.uid, 'C2');
    assert.equal(second?.service, null);
    assert.equal(second?.duration, null);
    assert.equal(second?.local_orig, null);
    assert.deepEqual(second?.tunnel_parents, ['CabC', 'CdeF']);
    assert.deepEqual(second?.extras, { note: 'say "hi", ok' });
  });

  test('a CSV row with a bad value is a bad line with its own line number', async () => {
    const good = connValues(0).slice(0, -1).concat('ok').join(',');
    const bad = connValues(1, { 'id.orig_p': 'http' }).slice(0, -1).concat('ok').join(',');
    const file = write('export-bad.csv', `${csvHeader}\n${good}\n${good}\n${bad}\n${good}\n`);
    const { summary } = await readAll(file);
    assert.equal(summary.rows, 3);
    assert.deepEqual(summary.badLineSamples.map((b) => b.line), [4]);
    assert.match(summary.badLineSamples[0]?.reason ?? '', /'id\.orig_p'.*"http"/);
  });

  test('a Zeek use_tsv export (one tab-separated header row, no # lines) is read as csv', async () => {
    const row = connValues(7, { service: '-', tunnel_parents: '(empty)', duration: '-' }).join('\t');
    const file = write('use_tsv.log', `${CONN_FIELDS.join('\t')}\n${row}\n${connRow(8)}`);
    const { records, summary } = await readAll(file);
    assert.equal(summary.format, 'csv');
    assert.deepEqual(summary.fields, [...CONN_FIELDS]);
    assert.equal(records.length, 2);
    assert.equal(records[0]?.service, null);
    assert.equal(records[0]?.duration, null);
    assert.deepEqual(records[0]?.tunnel_parents, []);
    assert.equal(records[0]?.orig_bytes, 7);
    assert.equal(records[0]?.ip_proto, 6);
    assert.equal(records[1]?.service, 'ssl');
  });

  test('JSON ts in epoch milliseconds becomes seconds with its microseconds', async () => {
    const file = write(
      'ms.json.log',
      jsonLine({ ts: 1700828217314.165 }) + jsonLine({ ts: 1700828217314 }) + jsonLine({ ts: '1700828217314.165' }),
    );
    const { records, summary } = await readAll(file);
    assert.equal(summary.badLines, 0);
    const [a, b, c] = records.map((r) => r.ts);
    assert.ok(Math.abs((a ?? 0) - 1700828217.314165) <= 1e-6, String(a));
    assert.ok(Math.abs((b ?? 0) - 1700828217.314) <= 1e-6, String(b));
    assert.ok(Math.abs((c ?? 0) - 1700828217.314165) <= 1e-6, String(c));
  });

  test('JSON ts as ISO 8601 strings becomes seconds with microseconds preserved', async () => {
    const base = Date.UTC(2023, 10, 24, 12, 16, 57) / 1000;
    const cases: [string, number][] = [
      ['2023-11-24T12:16:57.314165Z', base + 0.314165],
      ['2023-11-24T12:16:57.000001Z', base + 0.000001],
      ['2023-11-24T12:16:57Z', base],
      ['2023-11-24T14:16:57.314165+02:00', base + 0.314165],
    ];
    const file = write('iso.json.log', cases.map(([ts]) => jsonLine({ ts })).join(''));
    const { records, summary } = await readAll(file);
    assert.deepEqual(summary.badLineSamples, []);
    assert.equal(records.length, cases.length);
    cases.forEach(([iso, expected], i) => {
      const ts = records[i]?.ts ?? NaN;
      assert.ok(Math.abs(ts - expected) <= 1e-6, `${iso}: ${ts} is not ${expected}`);
    });
  });

  test('one invalid JSON line is a bad line and the others are read', async () => {
    const file = write(
      'one-bad.json.log',
      jsonLine({ uid: 'C1' }) + jsonLine({ uid: 'C2' }) + '{"ts":1700828217.5,"uid":"C3","id.orig_h":\n' + jsonLine({ uid: 'C4' }),
    );
    const { records, summary } = await readAll(file);
    assert.deepEqual(records.map((r) => r.uid), ['C1', 'C2', 'C4']);
    assert.equal(summary.badLines, 1);
    assert.equal(summary.badLineSamples[0]?.line, 3);
    assert.match(summary.badLineSamples[0]?.reason ?? '', /JSON/);
  });

  test('a JSON log whose last line has no newline is read whole and reported truncated', async () => {
    const file = write('no-final-newline.json.log', jsonLine({ uid: 'C1' }) + jsonLine({ uid: 'C2' }).trimEnd());
    const { records, summary } = await readAll(file);
    assert.deepEqual(records.map((r) => r.uid), ['C1', 'C2']);
    assert.equal(summary.truncated, true);
  });

  test('Zeek \\x escapes and \\\\ inside values are unescaped', async () => {
    const row = connRow(1, { history: 'Sh\\x09AD', service: 'a\\\\b', tunnel_parents: 'Cx\\x2cy,Cz' });
    const file = write('escapes.log', zeekHeader() + row + ZEEK_CLOSE);
    const { records, summary } = await readAll(file);
    assert.equal(summary.badLines, 0);
    assert.equal(records[0]?.history, 'Sh\tAD');
    assert.equal(records[0]?.service, 'a\\b');
    assert.deepEqual(records[0]?.tunnel_parents, ['Cx,y', 'Cz']);
  });

  test('a log written with #separator \\x2c (commas) is read with that separator', async () => {
    const header = [
      '#separator \\x2c',
      '#set_separator,;',
      '#empty_field,(empty)',
      '#unset_field,-',
      '#path,conn',
      '#open,2024-04-19-00-00-01',
      `#fields,${CONN_FIELDS.join(',')}`,
      `#types,${CONN_TYPES.join(',')}`,
    ].join('\n');
    const row = connValues(3, { tunnel_parents: 'Ca;Cb', service: '-' }).join(',');
    const file = write('commas.log', `${header}\n${row}\n${connValues(4).join(',')}\n#close,2024-04-19-01-00-00\n`);
    const { records, summary } = await readAll(file);
    assert.equal(summary.format, 'zeek-tsv');
    assert.deepEqual(summary.fields, [...CONN_FIELDS]);
    assert.equal(summary.badLines, 0);
    assert.equal(records.length, 2);
    assert.deepEqual(records[0]?.tunnel_parents, ['Ca', 'Cb']);
    assert.equal(records[0]?.service, null);
    assert.equal(records[0]?.orig_bytes, 3);
    assert.equal(records[1]?.orig_bytes, 4);
    assert.equal(summary.truncated, false);
  });

  test('two Zeek logs concatenated, with different columns, are both read', async () => {
    const older = zeekHeader({ fields: CONN_FIELDS.slice(0, -1), types: CONN_TYPES.slice(0, -1) });
    let olderRows = '';
    for (let i = 0; i < 3; i++) olderRows += `${connValues(i).slice(0, -1).join('\t')}\n`;
    const file = write('concatenated.log', older + olderRows + ZEEK_CLOSE + zeekLog(4, { first: 3 }));
    const { records, summary } = await readAll(file);
    assert.equal(summary.badLines, 0);
    assert.deepEqual(records.map((r) => r.orig_bytes), [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(records.map((r) => r.ip_proto), [null, null, null, 6, 6, 6, 6]);
    assert.deepEqual(summary.fields, [...CONN_FIELDS]);
    assert.equal(summary.truncated, false);
  });

  test('a second header block without #close before it still reads both, and the file is truncated only if the last block is', async () => {
    const file = write('concatenated-open.log', zeekLog(2, { close: false }) + zeekLog(2, { first: 2, close: false }));
    const { records, summary } = await readAll(file);
    assert.equal(records.length, 4);
    assert.equal(summary.badLines, 0);
    assert.equal(summary.truncated, true);
  });

  test('a UTF-8 byte-order mark before a Zeek header is not a bad line', async () => {
    const file = write('bom.log', `\uFEFF${zeekLog(3)}`);
    const { summary } = await readAll(file);
    assert.equal(summary.format, 'zeek-tsv');
    assert.deepEqual(summary.badLineSamples, []);
    assert.equal(summary.rows, 3);
    assert.equal(summary.truncated, false);
  });

  test('a UTF-8 byte-order mark before the first JSON line is not a bad line', async () => {
    const file = write('bom.json.log', `\uFEFF${jsonLine({ uid: 'C1' })}${jsonLine({ uid: 'C2' })}`);
    const { records, summary } = await readAll(file);
    assert.deepEqual(summary.badLineSamples, []);
    assert.deepEqual(records.map((r) => r.uid), ['C1', 'C2']);
  });
});

describe('file descriptors', () => {
  /** Descriptors of this process that point at `file` (Linux /proc), after letting pending closes run. */
  async function openDescriptorsOf(file: string): Promise<number> {
    const count = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === file;
        } catch {
          return false;
        }
      }).length;
    // fs closes asynchronously: give it a bounded number of event-loop turns, not a timer.
    for (let turn = 0; turn < 1000 && count() > 0; turn++) await nextTurn();
    return count();
  }

  test('a file rejected during reading does not keep its descriptor open', async () => {
    const file = write('dns-for-fd.log', zeekHeader({ path: 'dns' }) + connRow(0));
    for (let i = 0; i < 5; i++) assert.equal((await readError(file)).code, 'wrong-log-type');
    assert.equal(await openDescriptorsOf(file), 0);
  });

  test('stopping the iteration early releases the file', async () => {
    const file = write('big-for-fd.log', zeekLog(30000));
    for (let i = 0; i < 5; i++) {
      for await (const _batch of readConnLog(file)) break;
    }
    assert.equal(await openDescriptorsOf(file), 0);
  });

  test('a file read to the end is closed', async () => {
    const file = write('small-for-fd.log', zeekLog(10));
    for (let i = 0; i < 5; i++) await readAll(file);
    assert.equal(await openDescriptorsOf(file), 0);
  });
});
