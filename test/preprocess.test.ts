// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { ConnRecord } from '../pipeline/read/conn-record.js';
import { addressAsInteger, isPrivateAddress } from '../preprocess/address.js';
import type { Preset } from '../preprocess/feature-spec.js';
import { OTHER_CATEGORY, PreprocessStateError, Preprocessor, type PreprocessState } from '../preprocess/preprocessor.js';
import { DEFAULT_PRESET, SEED_PRESET } from '../preprocess/presets.js';
import { fnv1a32, hashBucket } from '../preprocess/stable-hash.js';
import { shared } from './support/paths.js';
import { readAll } from './support/read.js';

const PRESETS: readonly Preset[] = [SEED_PRESET, DEFAULT_PRESET];

/** A plausible conn record, number `i`, with some fields replaced. */
function record(i: number, overrides: Partial<ConnRecord> = {}): ConnRecord {
  return {
    ts: 1713484800 + i * 0.25,
    uid: `C${i.toString(36).padStart(8, '0')}`,
    'id.orig_h': `10.0.${i % 7}.${(i % 200) + 1}`,
    'id.orig_p': 40000 + (i % 20000),
    'id.resp_h': `192.0.2.${(i % 50) + 1}`,
    'id.resp_p': [443, 80, 53, 22][i % 4]!,
    proto: i % 3 === 0 ? 'udp' : 'tcp',
    service: i % 5 === 0 ? null : 'ssl',
    duration: 0.5 + (i % 11) * 0.1,
    orig_bytes: 100 + i,
    resp_bytes: 2000 + 3 * i,
    conn_state: i % 4 === 0 ? 'S0' : 'SF',
    local_orig: i % 2 === 0,
    local_resp: false,
    missed_bytes: 0,
    history: i % 4 === 0 ? 'S' : 'ShADadFf',
    orig_pkts: 5 + (i % 9),
    orig_ip_bytes: 400 + i,
    resp_pkts: 6 + (i % 13),
    resp_ip_bytes: 2500 + 3 * i,
    tunnel_parents: null,
    ip_proto: i % 3 === 0 ? 17 : 6,
    extras: null,
    ...overrides,
  };
}

const rows = (count: number, overrides: (i: number) => Partial<ConnRecord> = () => ({})): ConnRecord[] =>
  Array.from({ length: count }, (_, i) => record(i, overrides(i)));

function columnIndex(p: Preprocessor, name: string): number {
  const index = p.columns.indexOf(name);
  assert.ok(index >= 0, `no column '${name}' in ${p.columns.join(', ')}`);
  return index;
}

function unscaled(p: Preprocessor, records: readonly ConnRecord[]): Float32Array {
  const out = new Float32Array(records.length * p.width);
  p.encodeUnscaled(records, out);
  return out;
}

/** A deep copy of a fitted state, through JSON as it would be saved. */
function stateCopy(p: Preprocessor): PreprocessState {
  return JSON.parse(JSON.stringify(p.toJSON())) as PreprocessState;
}

describe('preprocessing on real rows (ctu-botnet-4)', () => {
  let real: ConnRecord[];
  before(async () => {
    real = (await readAll(shared('labeled', 'ctu-botnet-4.conn.log.labeled'))).records;
    assert.equal(real.length, 22_913);
  });

  for (const preset of PRESETS) {
    test(`${preset.name}: every column of the transformed training rows has mean ≈ 0 and population std ≈ 1, or is constant`, () => {
      const p = Preprocessor.fit(real, preset);
      assert.equal(p.preset, preset.name);
      assert.equal(p.columns.length, p.width);
      const x = p.transform(real);
      assert.equal(x.length, real.length * p.width);
      const n = real.length;
      for (let c = 0; c < p.width; c++) {
        let sum = 0;
        let min = Infinity;
        let max = -Infinity;
        for (let r = 0; r < n; r++) {
          const v = x[r * p.width + c]!;
          assert.ok(Number.isFinite(v), `${p.columns[c]}: row ${r} is ${v}`);
          sum += v;
          if (v < min) min = v;
          if (v > max) max = v;
        }
        const mean = sum / n;
        let squares = 0;
        for (let r = 0; r < n; r++) squares += (x[r * p.width + c]! - mean) ** 2;
        const std = Math.sqrt(squares / n);
        if (min === max) {
          assert.equal(min, 0, `${p.columns[c]} is constant, so it scales to 0`);
          continue;
        }
        assert.ok(Math.abs(mean) < 1e-4, `${p.columns[c]}: mean ${mean}`);
        assert.ok(Math.abs(std - 1) < 1e-3, `${p.columns[c]}: std ${std}`);
      }
    });

    test(`${preset.name}: toJSON → JSON text → fromJSON transforms bit for bit as the original`, () => {
      const p = Preprocessor.fit(real.slice(0, 15_000), preset);
      const restored = Preprocessor.fromJSON(JSON.parse(JSON.stringify(p.toJSON())));
      assert.equal(restored.width, p.width);
      assert.deepEqual(restored.columns, p.columns);
      assert.deepEqual(restored.featureNames, p.featureNames);
      const held = real.slice(15_000);
      assert.deepEqual(restored.transform(held), p.transform(held));
      assert.deepEqual(restored.transform(real.slice(0, 100)), p.transform(real.slice(0, 100)));
    });
  }
});

describe('one-hot categories', () => {
  const training = rows(60); // proto tcp or udp only; service ssl or unset
  const p = Preprocessor.fit(training, DEFAULT_PRESET);

  test('an unseen category (icmp) lights the <other> column, and the width does not change', () => {
    assert.ok(!p.columns.includes('proto=icmp'));
    const other = columnIndex(p, `proto=${OTHER_CATEGORY}`);
    const icmp = record(1000, { proto: 'icmp', ip_proto: 1 });
    const raw = unscaled(p, [icmp]);
    assert.equal(raw.length, p.width);
    assert.equal(raw[other], 1);
    assert.equal(raw[columnIndex(p, 'proto=tcp')], 0);
    assert.equal(raw[columnIndex(p, 'proto=udp')], 0);

    const scaled = p.transform([icmp]);
    assert.equal(scaled.length, p.width);
    const { mean, std } = p.toJSON();
    assert.equal(scaled[other], Math.fround((1 - mean[other]!) / std[other]!));
  });

  test('a category seen at fit time maps to its own column, and only that one in its block', () => {
    const raw = unscaled(p, [record(3, { proto: 'udp' }), record(4, { proto: 'tcp' })]);
    const udp = columnIndex(p, 'proto=udp');
    const tcp = columnIndex(p, 'proto=tcp');
    const other = columnIndex(p, `proto=${OTHER_CATEGORY}`);
    assert.deepEqual([raw[udp], raw[tcp], raw[other]], [1, 0, 0]);
    assert.deepEqual([raw[p.width + udp], raw[p.width + tcp], raw[p.width + other]], [0, 1, 0]);
    const protoColumns = p.columns.flatMap((c, i) => (c.startsWith('proto=') ? [i] : []));
    for (let r = 0; r < 2; r++) assert.equal(protoColumns.reduce((s, c) => s + raw[r * p.width + c]!, 0), 1, `row ${r}: one hot column`);
  });

  test('an unset (null) category is the `-` category', () => {
    assert.ok(p.columns.includes('service=-'), 'the training rows had unset services');
    const raw = unscaled(p, [record(7, { service: null }), record(8, { service: 'ssl' })]);
    assert.equal(raw[columnIndex(p, 'service=-')], 1);
    assert.equal(raw[columnIndex(p, 'service=ssl')], 0);
    assert.equal(raw[columnIndex(p, `service=${OTHER_CATEGORY}`)], 0);
    assert.equal(raw[p.width + columnIndex(p, 'service=ssl')], 1);
    // Unset booleans too: local_resp is always F in training, so unset is unseen.
    const unsetBool = unscaled(p, [record(9, { local_resp: null })]);
    assert.equal(unsetBool[columnIndex(p, `local_resp=${OTHER_CATEGORY}`)], 1);
  });
});

describe('values that are not finite numbers', () => {
  const weird: ConnRecord[] = [
    record(0, { duration: NaN }),
    record(1, { duration: Infinity }),
    record(2, { duration: -Infinity }),
    record(3, { orig_pkts: 0, resp_pkts: 0 }),
    record(4, { orig_pkts: 0, resp_bytes: 0 }),
    record(5, { resp_bytes: 1e300 }),
    // The reader accepts an interval of "1e300" (counts above 2^53 are bad lines, intervals are not capped).
    record(9, { duration: 1e300 }),
    record(6, { orig_bytes: 1e300, resp_bytes: 1e300, orig_ip_bytes: 1e300, resp_ip_bytes: 1e300 }),
    record(7, { orig_bytes: -5, resp_bytes: -7, orig_pkts: -1, missed_bytes: -3, duration: -2 }),
    record(10, { orig_pkts: null, resp_pkts: null, resp_bytes: null, duration: null }),
  ];

  const assertFinite = (x: Float32Array, p: Preprocessor, what: string): void => {
    const bad: string[] = [];
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (!Number.isFinite(v)) bad.push(`row ${Math.floor(i / p.width)} ${p.columns[i % p.width]} = ${v}`);
    }
    assert.deepEqual(bad, [], `${what}: values that are not finite`);
  };

  for (const preset of PRESETS) {
    test(`${preset.name}: NaN, ±Infinity, zero denominators, 1e300 and negative counts all encode to finite values`, () => {
      const p = Preprocessor.fit(rows(200), preset);
      assertFinite(p.transform(weird), p, `${preset.name}, fitted on ordinary rows`);
    });

    test(`${preset.name}: fitting on such rows gives a finite scaler and finite output`, () => {
      const training = [...rows(200), ...weird];
      const p = Preprocessor.fit(training, preset);
      const { mean, std } = p.toJSON();
      mean.forEach((m, c) => assert.ok(Number.isFinite(m), `mean of ${p.columns[c]} is ${m}`));
      std.forEach((s, c) => assert.ok(Number.isFinite(s) && s > 0, `std of ${p.columns[c]} is ${s}`));
      assertFinite(p.transform(training), p, `${preset.name}, fitted on them`);
    });
  }
});

describe('addresses', () => {
  test('IPv4: its 32-bit integer modulo 65535', () => {
    assert.equal(addressAsInteger('1.2.3.4'), (1 * 2 ** 24 + 2 * 2 ** 16 + 3 * 2 ** 8 + 4) % 65535);
    assert.equal(addressAsInteger('255.255.255.255'), 4294967295 % 65535);
    assert.equal(addressAsInteger('0.0.0.0'), 0);
    assert.equal(addressAsInteger('192.168.1.10'), (((192 * 256 + 168) * 256 + 1) * 256 + 10) % 65535);
    for (const invalid of ['1.2.3', '1.2.3.256', '1.2.3.4.5', 'a.b.c.d', '', '-']) assert.equal(addressAsInteger(invalid), 0, invalid);
  });

  test('IPv6: its 128-bit integer modulo 2^32 − 1, as BigInt computes it', () => {
    const cases: [string, bigint | null][] = [
      ['::1', 1n],
      ['::', 0n],
      ['fe80::1', 0xfe80_0000_0000_0000_0000_0000_0000_0001n],
      ['2001:db8::ff00:42:8329', 0x2001_0db8_0000_0000_0000_ff00_0042_8329n],
      ['2001:0db8:0000:0000:0000:ff00:0042:8329', 0x2001_0db8_0000_0000_0000_ff00_0042_8329n],
      ['::ffff:1.2.3.4', 0xffff_0102_0304n],
      ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', (1n << 128n) - 1n],
      ['fe80::1%eth0', 0xfe80_0000_0000_0000_0000_0000_0000_0001n],
      ['2001:db8::1::2', null],
      ['gggg::1', null],
      ['1:2:3:4:5:6:7:8:9', null],
      ['12345::1', null],
    ];
    for (const [address, value] of cases) {
      const expected = value === null ? 0 : Number(value % 4294967295n);
      assert.equal(addressAsInteger(address), expected, address);
    }
  });

  test('private addresses: RFC 1918 with its edges, unique-local and link-local IPv6', () => {
    const cases: [string, boolean][] = [
      ['10.0.0.1', true],
      ['10.255.255.255', true],
      ['11.0.0.1', false],
      ['9.255.255.255', false],
      ['172.15.255.255', false],
      ['172.16.0.0', true],
      ['172.31.255.255', true],
      ['172.32.0.0', false],
      ['192.168.0.1', true],
      ['192.168.255.255', true],
      ['192.169.0.1', false],
      ['192.167.255.255', false],
      ['8.8.8.8', false],
      ['fd00::1', true],
      ['fc00::1', true],
      ['fe80::1', true],
      ['2001:db8::1', false],
      ['::ffff:192.168.1.1', true],
      ['::ffff:8.8.8.8', false],
      ['not an address', false],
    ];
    for (const [address, expected] of cases) assert.equal(isPrivateAddress(address), expected, address);
  });
});

describe('stable hash', () => {
  test('FNV-1a 32 test vectors', () => {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  });

  test('non-ASCII text hashes its UTF-8 bytes', () => {
    const reference = (s: string): number => {
      let hash = 0x811c9dc5;
      for (const byte of Buffer.from(s, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193);
      return hash >>> 0;
    };
    for (const text of ['é', 'ShADadFf', 'Grüße', '日本語', 'x€y', '😀', 'a😀b𝄞c', 'ﬀ\u0080\u07ff\u0800\uffff']) {
      assert.equal(fnv1a32(text), reference(text), JSON.stringify(text));
    }
  });

  test('hashBucket is fnv1a32 modulo the buckets, always in [0, buckets)', () => {
    for (const buckets of [1, 2, 7, 1000, 100_000, 4294967295]) {
      for (let i = 0; i < 500; i++) {
        const text = `C${i.toString(36)}x${i * 7919}`;
        const bucket = hashBucket(text, buckets);
        assert.ok(Number.isInteger(bucket) && bucket >= 0 && bucket < buckets, `${text} in ${buckets}: ${bucket}`);
        assert.equal(bucket, fnv1a32(text) % buckets);
      }
    }
  });
});

test('the seed preset hashes uid per row (the original hashed the whole column into one constant)', () => {
  const training = rows(50);
  const p = Preprocessor.fit(training, SEED_PRESET);
  const uid = columnIndex(p, 'uid');
  const a = record(1, { uid: 'CHhAvVGS1DHFjwGM9' });
  const b = record(1, { uid: 'C4J4Th3PJpwUYZZ6gc' });
  const raw = unscaled(p, [a, b]);
  assert.equal(raw[uid], hashBucket('CHhAvVGS1DHFjwGM9', 100_000));
  assert.equal(raw[p.width + uid], hashBucket('C4J4Th3PJpwUYZZ6gc', 100_000));
  assert.notEqual(raw[uid], raw[p.width + uid]);
  const scaled = p.transform([a, b]);
  assert.notEqual(scaled[uid], scaled[p.width + uid]);
  // Over the training rows the column is not one constant.
  const trainRaw = unscaled(p, training);
  const values = new Set(training.map((_, r) => trainRaw[r * p.width + uid]));
  assert.equal(values.size, training.length);
  assert.notEqual(p.toJSON().std[uid], 1);
});

describe('fromJSON refuses state it cannot use', () => {
  const fitted = Preprocessor.fit(rows(40), DEFAULT_PRESET);

  const refuses = (change: (state: PreprocessState & Record<string, unknown>) => void, pattern: RegExp): void => {
    const state = stateCopy(fitted) as PreprocessState & Record<string, unknown>;
    change(state);
    assert.throws(
      () => Preprocessor.fromJSON(state, 'models/v0001/preprocess.json'),
      (error: unknown) => {
        assert.ok(error instanceof PreprocessStateError, `a PreprocessStateError, not ${String(error)}`);
        assert.match(error.message, /^models\/v0001\/preprocess\.json: /);
        assert.match(error.message, pattern);
        return true;
      },
    );
  };

  test('the unchanged copy is accepted', () => {
    assert.equal(Preprocessor.fromJSON(stateCopy(fitted)).width, fitted.width);
  });

  test('wrong kind', () => refuses((s) => void (s.kind = 'zeek-anomaly-model' as never), /'kind'/));
  test('formatVersion 2, naming the version', () => refuses((s) => void (s.formatVersion = 2 as never), /'formatVersion' is 2/));
  test('a width that its features do not make', () => refuses((s) => void (s.width += 1), /'width' is \d+/));
  test('a mean of the wrong length', () => refuses((s) => void s.mean.pop(), /'mean'/));
  test('a non-finite std (Infinity)', () => refuses((s) => void (s.std[0] = Infinity), /'std'/));
  test('a non-finite std (null, as JSON writes NaN)', () => refuses((s) => void (s.std[1] = null as never), /'std'/));
  test('a zero std', () => refuses((s) => void (s.std[0] = 0), /'std'/));
  test('an unknown feature kind, listing the allowed kinds', () =>
    refuses(
      (s) => void ((s.features[0] as { kind: string }).kind = 'embedding'),
      /features\[0\]\.kind is "embedding"; allowed: numeric, ratio, address-int, hash, one-hot, flag/,
    ));
  test('not an object', () => {
    assert.throws(() => Preprocessor.fromJSON(null), PreprocessStateError);
    assert.throws(() => Preprocessor.fromJSON('{}'), PreprocessStateError);
  });
});

test('the scaler learns from the training rows only', () => {
  const a = rows(10, (i) => ({ 'id.resp_p': 100 + 10 * i })); // 100, 110, …, 190
  const b = [record(100, { 'id.resp_p': 1000 }), record(101, { 'id.resp_p': 145 })];
  const p = Preprocessor.fit(a, DEFAULT_PRESET);
  const c = columnIndex(p, 'id.resp_p');
  const values = a.map((r) => r['id.resp_p']);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
  assert.equal(mean, 145);
  assert.ok(Math.abs(p.toJSON().mean[c]! - mean) < 1e-9);
  assert.ok(Math.abs(p.toJSON().std[c]! - std) < 1e-9);
  const x = p.transform(b);
  assert.ok(Math.abs(x[c]! - (1000 - mean) / std) < 1e-5, `${x[c]} vs ${(1000 - mean) / std}`);
  assert.equal(x[p.width + c], 0, "a B row at A's mean scales to 0");
  // Transforming B changes nothing learnt.
  assert.equal(p.toJSON().trainingRows, a.length);
  assert.deepEqual(p.transform(a.slice(0, 2)), Preprocessor.fit(a, DEFAULT_PRESET).transform(a.slice(0, 2)));
});

test('explain: a row whose error sits in one one-hot block names that feature first, with share ≈ 1', () => {
  const p = Preprocessor.fit(rows(60), DEFAULT_PRESET);
  const errors = new Float32Array(2 * p.width);
  errors.fill(0.25, 0, p.width); // row 0: spread evenly
  const base = p.width;
  for (let c = 0; c < p.width; c++) errors[base + c] = 1e-6;
  errors[base + columnIndex(p, 'proto=tcp')] = 2;
  errors[base + columnIndex(p, `proto=${OTHER_CATEGORY}`)] = 3;

  const shares = p.explain(errors, 1, 5);
  assert.equal(shares.length, 5);
  assert.equal(shares[0]!.feature, 'proto');
  assert.ok(shares[0]!.share > 0.999 && shares[0]!.share <= 1, `share ${shares[0]!.share}`);
  const total = shares.reduce((s, x) => s + x.share, 0);
  assert.ok(total <= 1 + 1e-12, `shares sum to ${total}`);
  for (let i = 1; i < shares.length; i++) assert.ok(shares[i - 1]!.share >= shares[i]!.share, 'sorted descending');

  const all = p.explain(errors, 0, p.featureNames.length);
  assert.equal(all.length, p.featureNames.length);
  assert.ok(Math.abs(all.reduce((s, x) => s + x.share, 0) - 1) < 1e-9);
  for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.share >= all[i]!.share, 'sorted descending');
  assert.deepEqual(p.explain(new Float32Array(p.width), 0), [], 'no error, no explanation');
});
