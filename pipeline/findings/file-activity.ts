import type { ConnRecord } from '../read/conn-record.js';
import { FAILED_STATES } from '../context/context-features.js';

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
  /** Every connection's time and size on the wire (both directions), in the order read. */
  times: number[];
  sizes: number[];
  /** The pair's first channel (port and protocol, as `channelCode`), and every channel once a second appears. */
  firstChannel: number;
  channels: Set<number> | null;
  /** Channels with a refused or unanswered connection. */
  failedChannels: Set<number> | null;
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
}

/** Refused or unanswered connections to one service (destination:port/proto), from any source. */
export interface ServiceFailures {
  dst: string;
  port: number;
  proto: string;
  failed: number;
  /** Failures per minute of log time (epoch minute → count). */
  perMinute: Map<number, number>;
  /** Distinct sources, counted up to SOURCES_COUNTED. */
  sources: Set<string>;
  firstTs: number;
  lastTs: number;
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
}

export interface FileActivityOptions {
  /** The most pairs followed in one file; rows of further pairs are counted in `untrackedRows` only. */
  maxPairs: number;
  /** Connections at least this long (seconds) are kept for the long-connection detector. */
  longConnectionSeconds: number;
}

export const DEFAULT_FILE_ACTIVITY_OPTIONS: Readonly<FileActivityOptions> = { maxPairs: 300_000, longConnectionSeconds: 3600 };

/**
 * What one file's connections did, gathered as the file is scored (one pass, in file order) for
 * the findings detectors: per pair, its connections' times and sizes and the channels it used; per
 * channel and per service, only the refused or unanswered connections (few, in normal traffic);
 * per source, how many rows. Memory grows with the pairs, so their number is capped.
 */
export class FileActivity {
  readonly options: Readonly<FileActivityOptions>;
  rows = 0;
  /** Rows of pairs past `maxPairs`, which no pair detector saw. */
  untrackedRows = 0;
  firstTs = Infinity;
  lastTs = -Infinity;
  readonly pairs = new Map<string, PairActivity>();
  readonly channelFailures = new Map<string, ChannelFailures>();
  readonly serviceFailures = new Map<string, ServiceFailures>();
  readonly longConnections: LongConnection[] = [];
  /** Rows per source host. */
  readonly sourceRows = new Map<string, number>();
  /** The file's flagged rows per source host, counted as they are stored (`countFlagged`). */
  readonly flaggedBySource = new Map<string, number>();

  constructor(options: Readonly<FileActivityOptions> = DEFAULT_FILE_ACTIVITY_OPTIONS) {
    this.options = options;
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
    this.sourceRows.set(src, (this.sourceRows.get(src) ?? 0) + 1);

    const channel = channelCode(port, proto);
    const pair = this.pairOf(src, dst, ts, channel);
    if (pair !== null) {
      pair.connections++;
      pair.bytesOut += bytesOut;
      pair.bytesIn += bytesIn;
      if (ts < pair.firstTs) pair.firstTs = ts;
      if (ts > pair.lastTs) pair.lastTs = ts;
      pair.times.push(ts);
      pair.sizes.push(wireBytes(record));
      if (channel !== pair.firstChannel || pair.channels !== null) (pair.channels ??= new Set([pair.firstChannel])).add(channel);
      if (failed) {
        pair.failed++;
        (pair.failedChannels ??= new Set()).add(channel);
      }
    } else {
      this.untrackedRows++;
    }

    // Channels and services are followed from their first failure: in normal traffic those are few.
    if (failed || (pair !== null && pair.failed > 0)) this.countOnChannel(record, failed);
    if (failed) this.countFailedService(record);
    if (record.duration !== null && record.duration >= this.options.longConnectionSeconds) {
      this.longConnections.push({ src, dst, port, proto, ts, duration: record.duration, bytesOut, bytesIn, service: record.service });
    }
  }

  /** Counts one flagged row of `src`. */
  countFlagged(src: string): void {
    this.flaggedBySource.set(src, (this.flaggedBySource.get(src) ?? 0) + 1);
  }

  private pairOf(src: string, dst: string, ts: number, channel: number): PairActivity | null {
    const key = `${src}>${dst}`;
    let pair = this.pairs.get(key);
    if (pair === undefined) {
      if (this.pairs.size >= this.options.maxPairs) return null;
      pair = { src, dst, connections: 0, failed: 0, bytesOut: 0, bytesIn: 0, firstTs: ts, lastTs: ts, times: [], sizes: [], firstChannel: channel, channels: null, failedChannels: null };
      this.pairs.set(key, pair);
    }
    return pair;
  }

  private countOnChannel(record: ConnRecord, failed: boolean): void {
    const key = `${record['id.orig_h']}>${record['id.resp_h']}:${record['id.resp_p']}/${record.proto}`;
    let channel = this.channelFailures.get(key);
    if (channel === undefined) {
      if (!failed) return;
      channel = { src: record['id.orig_h'], dst: record['id.resp_h'], port: record['id.resp_p'], proto: record.proto, failed: 0, connections: 0, firstTs: record.ts, lastTs: record.ts, states: {} };
      this.channelFailures.set(key, channel);
    }
    channel.connections++;
    if (record.ts < channel.firstTs) channel.firstTs = record.ts;
    if (record.ts > channel.lastTs) channel.lastTs = record.ts;
    if (failed) {
      channel.failed++;
      const state = record.conn_state ?? '-';
      channel.states[state] = (channel.states[state] ?? 0) + 1;
    }
  }

  private countFailedService(record: ConnRecord): void {
    const key = `${record['id.resp_h']}:${record['id.resp_p']}/${record.proto}`;
    let service = this.serviceFailures.get(key);
    if (service === undefined) {
      service = { dst: record['id.resp_h'], port: record['id.resp_p'], proto: record.proto, failed: 0, perMinute: new Map(), sources: new Set(), firstTs: record.ts, lastTs: record.ts };
      this.serviceFailures.set(key, service);
    }
    service.failed++;
    const minute = Math.floor(record.ts / 60);
    service.perMinute.set(minute, (service.perMinute.get(minute) ?? 0) + 1);
    if (service.sources.size < SOURCES_COUNTED) service.sources.add(record['id.orig_h']);
    if (record.ts < service.firstTs) service.firstTs = record.ts;
    if (record.ts > service.lastTs) service.lastTs = record.ts;
  }
}

/** Enough to tell one source from a spoofed crowd without keeping every address of a large flood. */
export const SOURCES_COUNTED = 10_000;

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
