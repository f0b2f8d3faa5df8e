import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConnRecord } from '../pipeline/read/conn-record.js';
import { CONTEXT_FEATURES, CONTEXT_WIDTH } from '../pipeline/context/context-features.js';
import { ContextState, DEFAULT_CONTEXT_LIMITS } from '../pipeline/context/context-state.js';
import { KeyTable } from '../pipeline/context/key-table.js';
import { ContextStateError, decodeContextState, encodeContextState } from '../pipeline/context/state-codec.js';
import { readConnLog } from '../pipeline/read/read-conn-log.js';
import { shared } from './support/paths.js';

function conn(ts: number, src: string, dst: string, port: number, overrides: Partial<ConnRecord> = {}): ConnRecord {
  return {
    ts, uid: null, 'id.orig_h': src, 'id.orig_p': 40000, 'id.resp_h': dst, 'id.resp_p': port, proto: 'tcp', service: null, duration: 1,
    orig_bytes: 100, resp_bytes: 1000, conn_state: 'SF', local_orig: null, local_resp: null, missed_bytes: 0, history: 'ShADadFf',
    orig_pkts: 5, orig_ip_bytes: 400, resp_pkts: 5, resp_ip_bytes: 1300, tunnel_parents: null, ip_proto: 6, extras: null, ...overrides,
  };
}

/** The named features of the last record observed. */
function observeAll(state: ContextState, records: readonly ConnRecord[]): Record<string, number> {
  const out = state.observeAll(records);
  const last = (records.length - 1) * CONTEXT_WIDTH;
  return Object.fromEntries(CONTEXT_FEATURES.map((f, i) => [f.name, out[last + i]!]));
}

const near = (actual: number, expected: number, what: string, tolerance = 1e-4): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `${what}: ${actual}, expected ${expected}`);

describe('the context stage', () => {
  test('a connection is counted before its features are read, and a count halves once per half-life of log time', () => {
    const state = new ContextState();
    let f = observeAll(state, [conn(1000, '10.0.0.1', '10.0.0.2', 80)]);
    assert.equal(f['src.conns_1m'], 1);
    assert.equal(f['channel.conns_1h'], 1);
    f = observeAll(state, [conn(1060, '10.0.0.1', '10.0.0.2', 80)]);
    near(f['src.conns_1m']!, 0.5 + 1, 'one minute later at half-life 1 min');
    near(f['src.conns_1h']!, 2 ** (-60 / 3600) + 1, 'one minute later at half-life 1 h');
    near(f['src.conns_10s']!, 2 ** -6 + 1, 'one minute later at half-life 10 s');
  });

  test('a beacon every 60 s shows as a channel with a 60 s mean interval and almost no variation', () => {
    const state = new ContextState();
    const beacon = Array.from({ length: 120 }, (_, i) => conn(1_700_000_000 + i * 60 + (i % 2 === 0 ? 0.5 : -0.5), '10.1.0.131', '198.51.100.23', 80));
    const f = observeAll(state, beacon);
    near(f['channel.interval_mean']!, 60, 'mean interval', 0.01);
    // The intervals weigh about 78 at half-life 1 h after two hours, against the 3 of variation 1
    // the value is drawn towards: 3 / 81 of it is the prior; an ordinary channel reads near 1.
    const weight = Array.from({ length: 119 }, (_, i) => 2 ** (-(i * 60) / 3600)).reduce((a, b) => a + b, 0);
    assert.ok(f['channel.interval_cv']! < (3 + weight * 0.02) / (3 + weight), `interval variation ${f['channel.interval_cv']}`);
    // Float32 sums leave a constant size a variation of a few 1e-4, not 0: allowed up to 0.01.
    assert.ok(f['channel.size_cv']! < (3 + weight * 0.01) / (3 + weight - 1), `the same size every time: ${f['channel.size_cv']}`);
    near(f['pair.newness']!, 2 ** (-(119 * 60 - 1) / 3600), 'first seen 2 h ago: halved once per hour', 1e-6);
  });

  test('refused attempts raise the failed share of the source, the destination and the channel', () => {
    const state = new ContextState();
    const attempts = Array.from({ length: 30 }, (_, i) => conn(5000 + i * 20, '10.1.0.7', '203.0.113.9', 4444, { conn_state: 'REJ', orig_bytes: 0, resp_bytes: 0 }));
    const f = observeAll(state, attempts);
    assert.equal(f['channel.failed_share_1h'], 1);
    assert.equal(f['src.failed_share_1h'], 1);
    assert.equal(f['dst.failed_share_1m'], 1);
    const ok = observeAll(state, [conn(5600, '10.1.0.7', '10.1.0.10', 53, { proto: 'udp' })]);
    assert.ok(ok['src.failed_share_1h']! < 1 && ok['src.failed_share_1h']! > 0.9, `one answered connection lowers the source's share: ${ok['src.failed_share_1h']}`);
    assert.equal(ok['channel.failed_share_1h'], 0, 'a new channel has its own share');
  });

  test('a vertical scan shows as many new channels from one source, and a widely used server as many sources', () => {
    const state = new ContextState();
    const scan = Array.from({ length: 200 }, (_, i) => conn(9000 + i * 0.1, '10.1.0.123', '10.1.0.11', i + 1, { conn_state: 'S0' }));
    const f = observeAll(state, scan);
    // 200 new ports over 20 s, each weighed by how long ago it was: half-life 1 min.
    const expected = Array.from({ length: 200 }, (_, i) => 2 ** (-((199 - i) * 0.1) / 60)).reduce((a, b) => a + b, 0);
    near(f['src.new_channels_1m']!, expected, 'new channels at half-life 1 min');
    near(f['src.new_peers_1h']!, 1, 'one new peer: all those ports are on one host', 0.01);
    const clients = Array.from({ length: 50 }, (_, i) => conn(9100 + i, `10.2.0.${i + 1}`, '10.1.0.10', 53));
    near(observeAll(state, clients)['dst.sources_1d']!, 50, 'fifty sources within a minute, at half-life 1 day', 1e-3);
  });

  test('a row older than the last one seen for its key does not run time backwards', () => {
    const state = new ContextState();
    observeAll(state, [conn(2000, 'a', 'b', 1)]);
    const late = observeAll(state, [conn(1000, 'a', 'b', 1)]);
    assert.equal(late['src.conns_1m'], 2, 'counted, without decay and without growth');
    assert.equal(late['pair.newness'], 1, 'the pair is now first seen at the older time');
    assert.equal(state.tables.sources.lastSeen(0), 2000);
  });

  test('a few intervals read as ordinary variation, and a channel back after an hour of silence starts its rhythm afresh', () => {
    const state = new ContextState();
    const two = observeAll(state, [conn(0, 'a', 'b', 1), conn(60, 'a', 'b', 1)]);
    near(two['channel.interval_cv']!, 0.75, 'one interval of variation 0 against 3 of variation 1');
    observeAll(state, Array.from({ length: 60 }, (_, i) => conn(120 + i * 60, 'a', 'b', 1)));
    const back = observeAll(state, [conn(120 + 59 * 60 + 5 * 3600, 'a', 'b', 1)]);
    assert.equal(back['channel.interval_mean'], 0, 'no interval measured yet after the silence');
    assert.equal(back['channel.interval_cv'], 1, 'nothing known of its rhythm: the prior');
  });

  test('a source coming back to a destination after an hour away counts again towards its prevalence', () => {
    const state = new ContextState();
    const first = observeAll(state, [conn(0, 'a', 'server', 443), conn(10, 'a', 'server', 443)]);
    near(first['dst.sources_1d']!, 1, 'one source, counted once');
    const later = observeAll(state, [conn(10 + 2 * 3600, 'a', 'server', 443)]);
    near(later['dst.sources_1d']!, 1 + 2 ** (-(2 * 3600) / 86_400), 'back after two hours: counted again');
  });

  test('a day without logs decays the state as the time says', () => {
    const state = new ContextState();
    observeAll(state, Array.from({ length: 100 }, (_, i) => conn(i, 'a', 'b', 1)));
    const next = observeAll(state, [conn(99 + 86_400, 'a', 'b', 1)]);
    near(next['src.conns_1h']!, 1 + 100 * 2 ** (-86_400 / 3600), 'after 24 half-lives', 1e-3);
  });

  test('a full table evicts the idle half, oldest last-seen first, and counts what it dropped', () => {
    const table = new KeyTable(1, 8);
    for (let key = 0; key < 8; key++) table.rowFor(0, key, key * 10);
    assert.equal(table.size, 8);
    table.rowFor(0, 100, 1000);
    assert.equal(table.evicted, 4);
    assert.equal(table.size, 5);
    for (let key = 0; key < 4; key++) assert.equal(table.find(0, key), -1, `key ${key} (idle longest) was evicted`);
    for (const key of [4, 5, 6, 7, 100]) assert.ok(table.find(0, key) >= 0, `key ${key} is kept`);
  });

  test('a state saved and read back scores the next rows bit for bit as one never saved, evictions included', async () => {
    const rows: ConnRecord[] = [];
    for await (const batch of readConnLog(shared('rotated', 'rita-missing-host', '2024-04-19', 'conn.00:00:00-01:00:00.log.gz'))) rows.push(...batch);
    const half = Math.floor(rows.length / 2);
    const limits = { hosts: 64, pairs: 128, channels: 128 };
    const straight = new ContextState(limits);
    const expected = straight.observeAll(rows);
    assert.ok(straight.sizes().channels.evicted > 0, 'the small limits made the tables evict');

    const first = new ContextState(limits);
    const before = first.observeAll(rows.slice(0, half));
    // Copied, as a database would: the parts are views of the live tables.
    const parts = encodeContextState(first).map((part) => part.slice());
    const after = decodeContextState(parts, limits).observeAll(rows.slice(half));
    assert.deepEqual(Buffer.from(before.buffer), Buffer.from(expected.slice(0, half * CONTEXT_WIDTH).buffer));
    assert.deepEqual(Buffer.from(after.buffer), Buffer.from(expected.slice(half * CONTEXT_WIDTH).buffer));
    assert.deepEqual(Buffer.concat(encodeContextState(decodeContextState(parts, limits))), Buffer.concat(parts), 'encode ∘ decode is the identity');
  });

  test('a damaged saved state is refused, saying what is wrong', () => {
    const state = new ContextState(DEFAULT_CONTEXT_LIMITS);
    state.observeAll([conn(1, 'a', 'b', 1), conn(2, 'c', 'd', 2)]);
    const parts = encodeContextState(state).map((part) => part.slice());
    const cut = [...parts.slice(0, -1), parts.at(-1)!.subarray(0, parts.at(-1)!.length - 3)];
    assert.throws(() => decodeContextState(cut, DEFAULT_CONTEXT_LIMITS), (error: unknown) =>
      error instanceof ContextStateError && error.message === `the saved context state cannot be read: its channels rows hold ${2 * 56 - 3} bytes, not ${2 * 56}`);
    assert.throws(() => decodeContextState(parts.slice(0, 3), DEFAULT_CONTEXT_LIMITS), (error: unknown) =>
      error instanceof ContextStateError && error.message === 'the saved context state cannot be read: it has 3 parts, not 5');
    assert.throws(() => decodeContextState([new TextEncoder().encode('SQLite format 3')], DEFAULT_CONTEXT_LIMITS), (error: unknown) =>
      error instanceof ContextStateError && error.message === 'the saved context state cannot be read: it does not start with ZACTXST3 (15 bytes in its first part)');
  });

  test('a state saved by the version before (ZACTXST2: float64 statistics, a part per column) is read, and goes on as the state it was', () => {
    const rows = Array.from({ length: 400 }, (_, i) => conn(1000 + i * 7, `10.0.0.${i % 9}`, `10.0.1.${i % 13}`, 80 + (i % 3), { orig_bytes: 100 + i }));
    const state = new ContextState(DEFAULT_CONTEXT_LIMITS);
    state.observeAll(rows.slice(0, 300));
    const v2 = encodeAsVersion2(state);
    const expected = state.observeAll(rows.slice(300));
    const actual = decodeContextState(v2, DEFAULT_CONTEXT_LIMITS).observeAll(rows.slice(300));
    assert.deepEqual(actual, expected, 'float64 statistics that held float32 values read back exactly');
  });
});

/** The ZACTXST2 layout, written from a state's tables: the header, then per table keys high, keys low, first seen, last seen, statistics (f64). */
function encodeAsVersion2(state: ContextState): Uint8Array[] {
  const order = ['sources', 'destinations', 'pairs', 'channels'] as const;
  const header = new Uint8Array(8 + order.length * 16);
  header.set(new TextEncoder().encode('ZACTXST2'));
  const view = new DataView(header.buffer);
  const parts: Uint8Array[] = [header];
  order.forEach((name, t) => {
    const table = state.tables[name];
    view.setUint32(8 + t * 16, table.size, true);
    view.setUint32(12 + t * 16, table.width, true);
    view.setFloat64(16 + t * 16, table.evicted, true);
    const rows = Array.from({ length: table.size }, (_, row) => row);
    const stats = rows.flatMap((row) => Array.from(table.stats.subarray(table.statsAt(row), table.statsAt(row) + table.width)));
    for (const array of [
      new Uint32Array(rows.map((row) => table.keyOf(row)[0])),
      new Uint32Array(rows.map((row) => table.keyOf(row)[1])),
      new Float64Array(rows.map((row) => table.firstSeen(row))),
      new Float64Array(rows.map((row) => table.lastSeen(row))),
      new Float64Array(stats),
    ]) {
      parts.push(new Uint8Array(array.buffer));
    }
  });
  return parts;
}
