import type { ConnRecord } from '../read/conn-record.js';
import { ownString } from '../read/own-string.js';
import { FAILED_STATES } from '../context/context-features.js';
import { combineKeys, combineNumber, hashText, type Key64 } from '../context/key-hash.js';
import { KeyTable, type KeyTableParts } from '../context/key-table.js';
import { UidSlots, type UidSlotsParts } from './uid-slots.js';

/** One source → destination pair within a file: what the beacon, exfiltration and scan detectors read. */
export interface PairActivity {
  src: string;
  dst: string;
  connections: number;
  failed: number;
  bytesOut: number;
  bytesIn: number;
  firstTs: number;
  lastTs: number;
  /** The pair's number in its file: `FileActivity.timesOf` and `sizesOf` find its connections by it. */
  index: number;
  /** From a channel's first failure on, what happened on it (by `channelCode`). */
  failures: Map<number, ChannelFailures> | null;
}

/** Refused or unanswered connections on one channel (source → destination:port/proto). */
export interface ChannelFailures {
  src: string;
  dst: string;
  port: number;
  proto: string;
  failed: number;
  /** All connections on the channel once its first failure was seen, failures included. */
  connections: number;
  firstTs: number;
  lastTs: number;
  /** Failures per source port would be a scan's; the same few ports again and again, a retry. */
  states: Record<string, number>;
  /** Zeek uids of its first and last failure. */
  firstUid: string | null;
  lastUid: string | null;
}

/** Refused or unanswered connections to one service (destination:port/proto), from any source. */
export interface ServiceFailures {
  dst: string;
  port: number;
  proto: string;
  failed: number;
  /** The most failures in one minute of log time (rows come in about time order; see `countFailedService`). */
  peakPerMinute: number;
  /** Distinct sources of the failures, among the followed pairs. */
  sources: number;
  firstTs: number;
  lastTs: number;
  /** Zeek uids of its first and last failure. */
  firstUid: string | null;
  lastUid: string | null;
}

/** A connection that lasted long enough to be a `long-connection` candidate on its own. */
export interface LongConnection {
  src: string;
  dst: string;
  port: number;
  proto: string;
  ts: number;
  duration: number;
  bytesOut: number;
  bytesIn: number;
  service: string | null;
  uid: string | null;
}

export interface FileActivityOptions {
  /** The most pairs followed in one file; rows of further pairs are left out of every pair's detector. */
  maxPairs: number;
  /** Connections at least this long (seconds) are kept for the long-connection detector. */
  longConnectionSeconds: number;
}

export const DEFAULT_FILE_ACTIVITY_OPTIONS: Readonly<FileActivityOptions> = { maxPairs: 300_000, longConnectionSeconds: 3600 };

/**
 * What one file's connections did, gathered as the file is scored (one pass, in file order) for
 * the findings detectors: per pair, its connections' times, sizes and channels (kept in columns,
 * grouped by pair when a detector asks: `timesOf`, `sizesOf`, `channelsOf`); per
 * channel and per service, only the refused or unanswered connections (few, in normal traffic);
 * per source, how many rows. Memory grows with the pairs, so their number is capped.
 */
export class FileActivity {
  readonly options: Readonly<FileActivityOptions>;
  rows = 0;
  firstTs = Infinity;
  lastTs = -Infinity;
  /** The followed pairs, in the order they appeared (a pair's `index` is its place here). */
  pairs: PairActivity[] = [];
  // Pairs are found by a 64-bit hash of their two addresses in a table of typed arrays (the context
  // stage's): a Map keyed by strings hashed every row, then chased through the heap, cost about
  // three times as much on a file of 700,000 pairs.
  private pairIndex: KeyTable;
  private readonly srcKey: Key64 = { hi: 0, lo: 0 };
  private readonly dstKey: Key64 = { hi: 0, lo: 0 };
  private readonly pairKey: Key64 = { hi: 0, lo: 0 };
  // Services (destination:port/proto) with failures, found like pairs, their counts in columns: a
  // file with a failure to each of 200,000 random addresses makes no object for each.
  private serviceIndex: KeyTable;
  private readonly serviceKey: Key64 = { hi: 0, lo: 0 };
  private services = newServiceColumns(1024);
  private serviceDst: string[] = [];
  private serviceProto: string[] = [];
  // Every followed pair's connections, in columns (a pair's number, its time, its size on the
  // wire), grouped by pair only when a detector asks: a few bytes a row instead of two arrays a pair.
  private rowPair = new Int32Array(4096);
  private rowTime = new Float64Array(4096);
  private rowSize = new Float32Array(4096);
  private rowChannel = new Int32Array(4096);
  private rowFailed = new Uint8Array(4096);
  private followed = 0;
  private grouped: Grouped | null = null;
  // Uids in slots of typed arrays, not strings: a string of its own for each pair's and service's
  // first and last uid cost 58 MB more heap on a 1M-row file of 300,000 pairs.
  private pairUids = { first: new UidSlots(1024), last: new UidSlots(1024) };
  private serviceUids = { first: new UidSlots(1024), last: new UidSlots(1024) };
  longConnections: LongConnection[] = [];
  private rowsBySource: Map<string, number> | null = null;
  /** The file's flagged rows per source host, counted as they are stored (`countFlagged`). */
  flaggedBySource = new Map<string, number>();

  constructor(options: Readonly<FileActivityOptions> = DEFAULT_FILE_ACTIVITY_OPTIONS) {
    this.options = options;
    // One more key than pairs followed: the table never needs to evict.
    this.pairIndex = new KeyTable(0, Math.max(2, options.maxPairs + 1));
    this.serviceIndex = new KeyTable(0, Math.max(2, options.maxPairs + 1));
  }

  /** An activity another thread handed over (see `handOver`), to go on gathering into. */
  static fromParts(parts: FileActivityParts): FileActivity {
    const activity = new FileActivity(parts.options);
    activity.takeBack(parts);
    return activity;
  }

  /**
   * What this activity gathered, for another thread to go on from (`fromParts`) or to take back
   * (`takeBack`), with the buffers to transfer: the rows' columns and the tables move, the pairs
   * cross as columns (`pairColumns`). This activity cannot be used until `takeBack`.
   */
  handOver(): { parts: FileActivityParts; buffers: ArrayBuffer[] } {
    const pairIndex = this.pairIndex.handOver();
    const serviceIndex = this.serviceIndex.handOver();
    const uidSlots = [this.pairUids.first, this.pairUids.last, this.serviceUids.first, this.serviceUids.last].map((slots) => slots.handOver());
    const columns = { rowPair: this.rowPair, rowTime: this.rowTime, rowSize: this.rowSize, rowChannel: this.rowChannel, rowFailed: this.rowFailed };
    const parts: FileActivityParts = {
      options: { ...this.options },
      rows: this.rows,
      firstTs: this.firstTs,
      lastTs: this.lastTs,
      pairs: pairColumns(this.pairs),
      pairIndex: pairIndex.parts,
      serviceIndex: serviceIndex.parts,
      services: this.services,
      serviceDst: this.serviceDst,
      serviceProto: this.serviceProto,
      followed: this.followed,
      longConnections: this.longConnections,
      flaggedBySource: this.flaggedBySource,
      uids: uidSlots.map((slots) => slots.parts) as FileActivityParts['uids'],
      ...columns,
    };
    const s = this.services;
    const arrays = [this.rowPair, this.rowTime, this.rowSize, this.rowChannel, this.rowFailed, s.failed, s.peak, s.inMinute, s.port, s.minute, s.firstTs, s.lastTs];
    const buffers = [...pairIndex.buffers, ...serviceIndex.buffers, ...uidSlots.flatMap((slots) => slots.buffers), ...arrays.map((array) => array.buffer), parts.pairs.numbers.buffer, parts.pairs.lengths.buffer];
    return { parts, buffers };
  }

  /** Takes over what `parts` holds (this activity's, handed over and gathered into on another thread). */
  takeBack(parts: FileActivityParts): void {
    const tableSize = Math.max(2, this.options.maxPairs + 1);
    this.rows = parts.rows;
    this.firstTs = parts.firstTs;
    this.lastTs = parts.lastTs;
    this.pairs = pairsFrom(parts.pairs);
    this.pairIndex = new KeyTable(0, tableSize, parts.pairIndex);
    this.serviceIndex = new KeyTable(0, tableSize, parts.serviceIndex);
    this.services = parts.services;
    this.serviceDst = parts.serviceDst;
    this.serviceProto = parts.serviceProto;
    this.rowPair = parts.rowPair;
    this.rowTime = parts.rowTime;
    this.rowSize = parts.rowSize;
    this.rowChannel = parts.rowChannel;
    this.rowFailed = parts.rowFailed;
    this.followed = parts.followed;
    this.longConnections = parts.longConnections;
    this.flaggedBySource = parts.flaggedBySource;
    const [pairFirst, pairLast, serviceFirst, serviceLast] = parts.uids.map((slots) => new UidSlots(0, slots)) as [UidSlots, UidSlots, UidSlots, UidSlots];
    this.pairUids = { first: pairFirst, last: pairLast };
    this.serviceUids = { first: serviceFirst, last: serviceLast };
    this.grouped = null;
    this.rowsBySource = null;
  }

  add(record: ConnRecord): void {
    const src = record['id.orig_h'];
    const dst = record['id.resp_h'];
    const port = record['id.resp_p'];
    const proto = record.proto;
    const ts = record.ts;
    const failed = record.conn_state !== null && FAILED_STATES.has(record.conn_state);
    const bytesOut = seenBytes(record.orig_bytes, record.orig_ip_bytes);
    const bytesIn = seenBytes(record.resp_bytes, record.resp_ip_bytes);
    this.rows++;
    if (ts < this.firstTs) this.firstTs = ts;
    if (ts > this.lastTs) this.lastTs = ts;

    const channel = channelCode(port, proto);
    const pair = this.pairOf(src, dst, ts);
    this.rowsBySource = null;
    if (pair !== null) {
      if (pair.connections === 0) this.pairUids.first.set(pair.index, record.uid);
      pair.connections++;
      pair.bytesOut += bytesOut;
      pair.bytesIn += bytesIn;
      if (ts < pair.firstTs) {
        pair.firstTs = ts;
        this.pairUids.first.set(pair.index, record.uid);
      }
      // A tie goes to the later row, as Zeek logs a connection when it ends.
      if (ts >= pair.lastTs) {
        pair.lastTs = ts;
        this.pairUids.last.set(pair.index, record.uid);
      }
      this.keepRow(pair.index, ts, wireBytes(record), channel, failed);
      if (failed) pair.failed++;
    }

    // Channels and services are followed from their first failure: in normal traffic those are few.
    if (pair !== null && pair.failed > 0) countOnChannel(pair, channel, record, failed);
    if (failed) this.countFailedService(record, channel);
    if (record.duration !== null && record.duration >= this.options.longConnectionSeconds) {
      this.longConnections.push({ src: ownString(src), dst: ownString(dst), port, proto, ts, duration: record.duration, bytesOut, bytesIn, service: record.service, uid: own(record.uid) });
    }
  }

  /** The uids of `pair`'s earliest and latest connection in the file. */
  uidsOf(pair: PairActivity): { first: string | null; last: string | null } {
    return { first: this.pairUids.first.get(pair.index), last: this.pairUids.last.get(pair.index) };
  }

  /** Rows per source host, summed over its followed pairs (made once, when first asked). */
  get sourceRows(): ReadonlyMap<string, number> {
    if (this.rowsBySource === null) {
      this.rowsBySource = new Map();
      for (const pair of this.pairs) this.rowsBySource.set(pair.src, (this.rowsBySource.get(pair.src) ?? 0) + pair.connections);
    }
    return this.rowsBySource;
  }

  /** The times of `pair`'s connections, in the order read. */
  timesOf(pair: PairActivity): Float64Array {
    const { offsets, times } = this.groups();
    return times.subarray(offsets[pair.index], offsets[pair.index + 1]);
  }

  /** The sizes on the wire of `pair`'s connections, in the order read. */
  sizesOf(pair: PairActivity): Float32Array {
    const { offsets, sizes } = this.groups();
    return sizes.subarray(offsets[pair.index], offsets[pair.index + 1]);
  }

  /** The distinct channels (`channelCode`) `pair` used, or only those with a refused or unanswered connection. */
  channelsOf(pair: PairActivity, onlyFailed = false): Set<number> {
    const { offsets, channels, failed } = this.groups();
    const found = new Set<number>();
    for (let at = offsets[pair.index]!; at < offsets[pair.index + 1]!; at++) if (!onlyFailed || failed[at] === 1) found.add(channels[at]!);
    return found;
  }

  /** Counts one flagged row of `src`. */
  countFlagged(src: string): void {
    this.flaggedBySource.set(src, (this.flaggedBySource.get(src) ?? 0) + 1);
  }

  /** Every channel's failures, pair by pair. */
  *channelFailures(): Generator<ChannelFailures> {
    for (const pair of this.pairs) if (pair.failures !== null) yield* pair.failures.values();
  }

  /** The services whose busiest minute held at least `minPeak` failures, with their distinct sources. */
  serviceFailures(minPeak: number): ServiceFailures[] {
    const { failed, peak, port, firstTs, lastTs } = this.services;
    const found: ServiceFailures[] = [];
    for (let i = 0; i < this.serviceDst.length; i++) {
      if (peak[i]! < minPeak) continue;
      found.push({
        dst: this.serviceDst[i]!,
        port: port[i]!,
        proto: this.serviceProto[i]!,
        failed: failed[i]!,
        peakPerMinute: peak[i]!,
        sources: 0,
        firstTs: firstTs[i]!,
        lastTs: lastTs[i]!,
        firstUid: this.serviceUids.first.get(i),
        lastUid: this.serviceUids.last.get(i),
      });
    }
    if (found.length === 0) return found;
    // Sources: the followed pairs to each such destination with a failure on its channel.
    const wanted = new Map(found.map((service) => [service.dst, [] as PairActivity[]]));
    for (const pair of this.pairs) if (pair.failed > 0) wanted.get(pair.dst)?.push(pair);
    for (const service of found) {
      const channel = channelCode(service.port, service.proto);
      service.sources = wanted.get(service.dst)!.filter((pair) => this.channelsOf(pair, true).has(channel)).length;
    }
    return found;
  }

  private pairOf(src: string, dst: string, ts: number): PairActivity | null {
    hashText(src, this.srcKey);
    hashText(dst, this.dstKey);
    combineKeys(this.srcKey, this.dstKey, this.pairKey);
    const found = this.pairIndex.find(this.pairKey.hi, this.pairKey.lo);
    if (found >= 0) return this.pairs[found]!;
    if (this.pairs.length >= this.options.maxPairs) return null;
    this.pairIndex.rowFor(this.pairKey.hi, this.pairKey.lo, ts);
    // Kept past the reader's batch: copies, or each would pin its whole decompressed chunk.
    const pair: PairActivity = { src: ownString(src), dst: ownString(dst), connections: 0, failed: 0, bytesOut: 0, bytesIn: 0, firstTs: ts, lastTs: ts, index: this.pairs.length, failures: null };
    this.pairs.push(pair);
    return pair;
  }

  private keepRow(pairIndex: number, ts: number, size: number, channel: number, failed: boolean): void {
    if (this.followed === this.rowPair.length) {
      const rows = this.followed * 2;
      this.rowPair = grown(this.rowPair, new Int32Array(rows));
      this.rowTime = grown(this.rowTime, new Float64Array(rows));
      this.rowSize = grown(this.rowSize, new Float32Array(rows));
      this.rowChannel = grown(this.rowChannel, new Int32Array(rows));
      this.rowFailed = grown(this.rowFailed, new Uint8Array(rows));
    }
    const row = this.followed++;
    this.rowPair[row] = pairIndex;
    this.rowTime[row] = ts;
    this.rowSize[row] = size;
    this.rowChannel[row] = channel;
    this.rowFailed[row] = failed ? 1 : 0;
    this.grouped = null;
  }

  /** The kept rows grouped by pair (a counting sort): pair i's are at offsets[i] … offsets[i + 1]. */
  private groups(): Grouped {
    if (this.grouped !== null) return this.grouped;
    const offsets = new Int32Array(this.pairs.length + 1);
    for (let row = 0; row < this.followed; row++) offsets[this.rowPair[row]! + 1]!++;
    for (let i = 0; i < this.pairs.length; i++) offsets[i + 1]! += offsets[i]!;
    const next = offsets.slice(0, this.pairs.length);
    const grouped: Grouped = {
      offsets,
      times: new Float64Array(this.followed),
      sizes: new Float32Array(this.followed),
      channels: new Int32Array(this.followed),
      failed: new Uint8Array(this.followed),
    };
    for (let row = 0; row < this.followed; row++) {
      const at = next[this.rowPair[row]!]!++;
      grouped.times[at] = this.rowTime[row]!;
      grouped.sizes[at] = this.rowSize[row]!;
      grouped.channels[at] = this.rowChannel[row]!;
      grouped.failed[at] = this.rowFailed[row]!;
    }
    this.grouped = grouped;
    return grouped;
  }

  /**
   * Counts a failure on its service (the destination's hash is the one `pairOf` just made). The
   * busiest minute is counted as rows come: a row from another minute closes the one being counted.
   * Zeek logs a connection when it ends, so a long one can land among later minutes and open a
   * count of its own: the peak is a close lower bound, not exact.
   */
  private countFailedService(record: ConnRecord, channel: number): void {
    combineNumber(this.dstKey, channel, this.serviceKey);
    let i = this.serviceIndex.find(this.serviceKey.hi, this.serviceKey.lo);
    const minute = Math.floor(record.ts / 60);
    const c = this.services;
    if (i < 0) {
      if (this.serviceDst.length >= this.options.maxPairs) return;
      i = this.serviceIndex.rowFor(this.serviceKey.hi, this.serviceKey.lo, record.ts);
      if (i >= c.failed.length) this.services = growServiceColumns(c, c.failed.length * 2);
      this.serviceDst.push(ownString(record['id.resp_h']));
      this.serviceProto.push(record.proto);
      this.serviceUids.first.set(i, record.uid);
      const fresh = this.services;
      fresh.port[i] = record['id.resp_p'];
      fresh.minute[i] = minute;
      fresh.firstTs[i] = record.ts;
      fresh.lastTs[i] = record.ts;
    }
    const d = this.services;
    d.failed[i]!++;
    if (minute !== d.minute[i]) {
      d.minute[i] = minute;
      d.inMinute[i] = 0;
    }
    d.inMinute[i]!++;
    if (d.inMinute[i]! > d.peak[i]!) d.peak[i] = d.inMinute[i]!;
    if (record.ts < d.firstTs[i]!) {
      d.firstTs[i] = record.ts;
      this.serviceUids.first.set(i, record.uid);
    }
    if (record.ts >= d.lastTs[i]!) {
      d.lastTs[i] = record.ts;
      this.serviceUids.last.set(i, record.uid);
    }
  }
}

/** Counts `record` on its channel of `pair`, from the channel's first failure on. */
function countOnChannel(pair: PairActivity, channel: number, record: ConnRecord, failed: boolean): void {
  let failures = pair.failures?.get(channel);
  if (failures === undefined) {
    if (!failed) return;
    failures = { src: pair.src, dst: pair.dst, port: record['id.resp_p'], proto: record.proto, failed: 0, connections: 0, firstTs: record.ts, lastTs: record.ts, states: {}, firstUid: null, lastUid: null };
    (pair.failures ??= new Map()).set(channel, failures);
  }
  failures.connections++;
  if (record.ts < failures.firstTs) failures.firstTs = record.ts;
  if (record.ts > failures.lastTs) failures.lastTs = record.ts;
  if (failed) {
    if (failures.failed === 0 || record.ts < failures.firstTs) failures.firstUid = own(record.uid);
    if (record.ts >= failures.lastTs) failures.lastUid = own(record.uid);
    failures.failed++;
    const state = record.conn_state ?? '-';
    failures.states[state] = (failures.states[state] ?? 0) + 1;
  }
}

/** A channel's port and protocol as one number: port × 4 + (tcp 1, udp 2, icmp 3, other 0). */
export function channelCode(port: number, proto: string): number {
  return port * 4 + (proto === 'tcp' ? 1 : proto === 'udp' ? 2 : proto === 'icmp' ? 3 : 0);
}

export function channelPort(code: number): number {
  return Math.floor(code / 4);
}

export function channelProto(code: number): string {
  return ['other', 'tcp', 'udp', 'icmp'][code % 4]!;
}

/** What `FileActivity.handOver` gives. */
export interface FileActivityParts {
  options: FileActivityOptions;
  rows: number;
  firstTs: number;
  lastTs: number;
  pairs: PairColumns;
  pairIndex: KeyTableParts;
  serviceIndex: KeyTableParts;
  services: ServiceColumns;
  serviceDst: string[];
  serviceProto: string[];
  rowPair: Int32Array<ArrayBuffer>;
  rowTime: Float64Array<ArrayBuffer>;
  rowSize: Float32Array<ArrayBuffer>;
  rowChannel: Int32Array<ArrayBuffer>;
  rowFailed: Uint8Array<ArrayBuffer>;
  followed: number;
  longConnections: LongConnection[];
  flaggedBySource: Map<string, number>;
  /** The pairs' first and last uids, then the services'. */
  uids: [UidSlotsParts, UidSlotsParts, UidSlotsParts, UidSlotsParts];
}

/**
 * The pairs in columns, to cross to another thread: a structured clone of 300,000 pair objects
 * blocked the receiving thread for 2.4 s and held a copy of them all in between.
 */
interface PairColumns {
  /** connections, failed, bytes out, bytes in, first and last time: PAIR_NUMBERS a pair. */
  numbers: Float64Array<ArrayBuffer>;
  /** Each pair's source and destination, in order, end to end; `lengths` cuts them apart. */
  addresses: string;
  lengths: Uint32Array<ArrayBuffer>;
  /** The pairs with failures, by their number. */
  failures: [number, Map<number, ChannelFailures>][];
}

const PAIR_NUMBERS = 6;

function pairColumns(pairs: readonly PairActivity[]): PairColumns {
  const numbers = new Float64Array(pairs.length * PAIR_NUMBERS);
  const lengths = new Uint32Array(pairs.length * 2);
  const addresses: string[] = [];
  const failures: PairColumns['failures'] = [];
  pairs.forEach((pair, i) => {
    const at = i * PAIR_NUMBERS;
    numbers[at] = pair.connections;
    numbers[at + 1] = pair.failed;
    numbers[at + 2] = pair.bytesOut;
    numbers[at + 3] = pair.bytesIn;
    numbers[at + 4] = pair.firstTs;
    numbers[at + 5] = pair.lastTs;
    addresses.push(pair.src, pair.dst);
    lengths[2 * i] = pair.src.length;
    lengths[2 * i + 1] = pair.dst.length;
    if (pair.failures !== null) failures.push([i, pair.failures]);
  });
  return { numbers, addresses: addresses.join(''), lengths, failures };
}

function pairsFrom(columns: PairColumns): PairActivity[] {
  const { numbers, addresses, lengths } = columns;
  const pairs: PairActivity[] = [];
  let cut = 0;
  const next = (k: number): string => addresses.slice(cut, (cut += lengths[k]!));
  for (let i = 0; i < lengths.length / 2; i++) {
    const at = i * PAIR_NUMBERS;
    const src = next(2 * i);
    const dst = next(2 * i + 1);
    pairs.push({ src, dst, connections: numbers[at]!, failed: numbers[at + 1]!, bytesOut: numbers[at + 2]!, bytesIn: numbers[at + 3]!, firstTs: numbers[at + 4]!, lastTs: numbers[at + 5]!, index: i, failures: null });
  }
  for (const [i, failures] of columns.failures) pairs[i]!.failures = failures;
  return pairs;
}

interface ServiceColumns {
  failed: Int32Array<ArrayBuffer>;
  peak: Int32Array<ArrayBuffer>;
  inMinute: Int32Array<ArrayBuffer>;
  port: Int32Array<ArrayBuffer>;
  minute: Float64Array<ArrayBuffer>;
  firstTs: Float64Array<ArrayBuffer>;
  lastTs: Float64Array<ArrayBuffer>;
}

function newServiceColumns(rows: number): ServiceColumns {
  return {
    failed: new Int32Array(rows),
    peak: new Int32Array(rows),
    inMinute: new Int32Array(rows),
    port: new Int32Array(rows),
    minute: new Float64Array(rows),
    firstTs: new Float64Array(rows),
    lastTs: new Float64Array(rows),
  };
}

function growServiceColumns(old: ServiceColumns, rows: number): ServiceColumns {
  const bigger = newServiceColumns(rows);
  for (const key of Object.keys(old) as (keyof ServiceColumns)[]) bigger[key].set(old[key]);
  return bigger;
}

interface Grouped {
  offsets: Int32Array;
  times: Float64Array;
  sizes: Float32Array;
  channels: Int32Array;
  failed: Uint8Array;
}

function grown<T extends Int32Array | Float64Array | Float32Array | Uint8Array>(old: T, bigger: T): T {
  bigger.set(old);
  return bigger;
}

/**
 * Payload bytes as far as packets were seen: Zeek's `orig_bytes` comes from TCP sequence numbers,
 * which a connection seen in part (or a sequence-number jump) can inflate to gigabytes over a few
 * packets (the honeypot logs hold 1.9 GB over 4 packets of 240 bytes). No more than the IP bytes
 * counted, when Zeek logged them.
 */
function seenBytes(payload: number | null, ip: number | null): number {
  const bytes = payload ?? 0;
  return ip === null ? bytes : Math.min(bytes, ip);
}

/** Bytes on the wire both ways (IP headers included), or the payload when Zeek did not log them. */
function wireBytes(record: ConnRecord): number {
  const ip = (record.orig_ip_bytes ?? 0) + (record.resp_ip_bytes ?? 0);
  return ip > 0 ? ip : (record.orig_bytes ?? 0) + (record.resp_bytes ?? 0);
}

// A uid kept past the reader's batch is a copy: a cut of the chunk's text would pin the whole chunk.
function own(uid: string | null): string | null {
  return uid === null ? null : ownString(uid);
}
