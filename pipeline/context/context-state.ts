import type { ConnRecord } from '../read/conn-record.js';
import { CONTEXT_WIDTH } from './context-features.js';
import { channelNumber, failedFlag, type ContextInput } from './context-input.js';
import { combineKeys, combineNumber, hashText, type Key64 } from './key-hash.js';
import { KeyTable } from './key-table.js';

/** The most keys each table holds before it evicts its idle half. */
export interface ContextLimits {
  /** Per role: a host is counted once as a source and once as a destination. */
  hosts: number;
  pairs: number;
  channels: number;
}

/**
 * Measured defaults: with every table full, the state takes 177 MiB (its rows and indexes, made at
 * that size once and filled as keys arrive; `process.memoryUsage().arrayBuffers` of an empty state);
 * a sensor that sees more keys keeps the most recently active ones.
 */
export const DEFAULT_CONTEXT_LIMITS: Readonly<ContextLimits> = { hosts: 500_000, pairs: 1_000_000, channels: 1_000_000 };

// Half-lives in seconds of log time.
const SECONDS_10 = 10;
const MINUTE = 60;
const MINUTES_10 = 600;
const HOUR = 3600;
const DAY = 86_400;
// The longest interval the channel's rhythm is measured over: the statistics' own half-life.
const MAX_INTERVAL = HOUR;
// A pair idle this long and seen again counts as a source (re)appearing at its destination.
const RETURN_AFTER = HOUR;
// Variation from a handful of intervals says little: it is drawn towards 1 (a Poisson process's)
// as if this many intervals of variation 1 had been seen, so only a long run of regular
// connections reads as regular.
const PRIOR_INTERVALS = 3;

// Statistic columns of each table.
const SRC = { n10s: 0, n1m: 1, n10m: 2, n1h: 3, failed1m: 4, failed1h: 5, newChannels1m: 6, newChannels10m: 7, newChannels1h: 8, newPeers1h: 9, bytesOut1h: 10, bytesIn1h: 11, width: 12 } as const;
const DST = { n10s: 0, n1m: 1, failed10s: 2, failed1m: 3, newSources1m: 4, newSources1h: 5, sources1d: 6, width: 7 } as const;
const PAIR = { n1h: 0, bytesOut1h: 1, bytesIn1h: 2, width: 3 } as const;
const CHANNEL = { n1m: 0, n1h: 1, failed1h: 2, gapWeight: 3, gapSum: 4, gapSquares: 5, sizeSum: 6, sizeSquares: 7, width: 8 } as const;

export const CONTEXT_TABLE_WIDTHS = { sources: SRC.width, destinations: DST.width, pairs: PAIR.width, channels: CHANNEL.width } as const;

export type ContextTables = Record<keyof typeof CONTEXT_TABLE_WIDTHS, KeyTable>;

/**
 * What every source, destination, host pair and channel has been doing, updated one connection
 * at a time in the log's time (never the wall clock). `observe` updates the state with a
 * connection and writes the connection's context features, as they stand with it counted.
 *
 * Rows a little out of time order (Zeek logs a connection when it ends, so a long one comes after
 * shorter ones that started later) are taken as arriving at the latest time seen for their key:
 * time never runs backwards inside the state.
 */
export class ContextState {
  readonly limits: Readonly<ContextLimits>;
  readonly tables: ContextTables;
  private readonly src: Key64 = { hi: 0, lo: 0 };
  private readonly dst: Key64 = { hi: 0, lo: 0 };
  private readonly pair: Key64 = { hi: 0, lo: 0 };
  private readonly channel: Key64 = { hi: 0, lo: 0 };

  constructor(limits: Readonly<ContextLimits> = DEFAULT_CONTEXT_LIMITS, tables?: ContextTables) {
    this.limits = limits;
    this.tables = tables ?? {
      sources: new KeyTable(SRC.width, limits.hosts),
      destinations: new KeyTable(DST.width, limits.hosts),
      pairs: new KeyTable(PAIR.width, limits.pairs),
      channels: new KeyTable(CHANNEL.width, limits.channels),
    };
  }

  /** Counts `record` and writes its CONTEXT_WIDTH features at `out[offset …]`. */
  observe(record: ConnRecord, out: Float32Array, offset: number): void {
    hashText(record['id.orig_h'], this.src);
    hashText(record['id.resp_h'], this.dst);
    this.count(record.ts, failedFlag(record), record.orig_bytes ?? 0, record.resp_bytes ?? 0, channelNumber(record), out, offset);
  }

  /** Counts every row of `input` and returns their features, rows × CONTEXT_WIDTH: what `observeAll` does for the same records. */
  observeInput(input: ContextInput, out: Float32Array = new Float32Array(input.rows * CONTEXT_WIDTH)): Float32Array {
    const { keys, ts, failed, bytesOut, bytesIn, channel } = input;
    for (let i = 0; i < input.rows; i++) {
      this.src.hi = keys[4 * i]!;
      this.src.lo = keys[4 * i + 1]!;
      this.dst.hi = keys[4 * i + 2]!;
      this.dst.lo = keys[4 * i + 3]!;
      this.count(ts[i]!, failed[i]!, bytesOut[i]!, bytesIn[i]!, channel[i]!, out, i * CONTEXT_WIDTH);
    }
    return out;
  }

  /** The state's update and the row's features, from the two address hashes already in `src` and `dst`. */
  private count(ts: number, failed: number, bytesOut: number, bytesIn: number, channelNo: number, out: Float32Array, offset: number): void {
    combineKeys(this.src, this.dst, this.pair);
    combineNumber(this.pair, channelNo, this.channel);

    // The channel: source → destination:port.
    const channels = this.tables.channels;
    let slot = channels.rowFor(this.channel.hi, this.channel.lo, ts);
    const newChannel = channels.lastWasNew;
    let gap = 0;
    let base = channels.statsAt(slot);
    let s = channels.stats;
    if (!newChannel) {
      gap = elapsed(channels.lastSeen(slot), ts);
      const m = decay(gap, MINUTE);
      const h = decay(gap, HOUR);
      s[base + CHANNEL.n1m]! *= m;
      s[base + CHANNEL.n1h]! *= h;
      s[base + CHANNEL.failed1h]! *= h;
      if (gap > MAX_INTERVAL) {
        // A channel back after a long silence (overnight, say) starts its rhythm afresh: one
        // interval that long would swamp an hour's worth of the regular ones that follow.
        s[base + CHANNEL.gapWeight] = 0;
        s[base + CHANNEL.gapSum] = 0;
        s[base + CHANNEL.gapSquares] = 0;
      } else {
        s[base + CHANNEL.gapWeight] = s[base + CHANNEL.gapWeight]! * h + 1;
        s[base + CHANNEL.gapSum] = s[base + CHANNEL.gapSum]! * h + gap;
        s[base + CHANNEL.gapSquares] = s[base + CHANNEL.gapSquares]! * h + gap * gap;
      }
      s[base + CHANNEL.sizeSum]! *= h;
      s[base + CHANNEL.sizeSquares]! *= h;
    }
    s[base + CHANNEL.n1m]! += 1;
    s[base + CHANNEL.n1h]! += 1;
    s[base + CHANNEL.failed1h]! += failed;
    s[base + CHANNEL.sizeSum]! += bytesOut;
    s[base + CHANNEL.sizeSquares]! += bytesOut * bytesOut;
    const channelN1h = s[base + CHANNEL.n1h]!;
    const gapWeight = s[base + CHANNEL.gapWeight]!;
    const gapMean = gapWeight > 0 ? s[base + CHANNEL.gapSum]! / gapWeight : 0;
    out[offset + 23] = s[base + CHANNEL.n1m]!;
    out[offset + 24] = channelN1h;
    out[offset + 25] = s[base + CHANNEL.failed1h]! / channelN1h;
    out[offset + 26] = gapMean;
    out[offset + 27] = shrunk(gapWeight > 0 ? variation(s[base + CHANNEL.gapSquares]! / gapWeight, gapMean) : 1, gapWeight);
    const sizeMean = s[base + CHANNEL.sizeSum]! / channelN1h;
    out[offset + 28] = shrunk(sizeMean > 0 ? variation(s[base + CHANNEL.sizeSquares]! / channelN1h, sizeMean) : 1, channelN1h - 1);
    channels.touch(slot, ts);

    // The host pair: source → destination, any port.
    const pairs = this.tables.pairs;
    slot = pairs.rowFor(this.pair.hi, this.pair.lo, ts);
    const newPair = pairs.lastWasNew;
    base = pairs.statsAt(slot);
    s = pairs.stats;
    let returning = newPair;
    if (!newPair) {
      const idle = elapsed(pairs.lastSeen(slot), ts);
      returning = idle >= RETURN_AFTER;
      const h = decay(idle, HOUR);
      s[base + PAIR.n1h]! *= h;
      s[base + PAIR.bytesOut1h]! *= h;
      s[base + PAIR.bytesIn1h]! *= h;
    }
    s[base + PAIR.n1h]! += 1;
    s[base + PAIR.bytesOut1h]! += bytesOut;
    s[base + PAIR.bytesIn1h]! += bytesIn;
    pairs.seenAsEarlyAs(slot, ts);
    out[offset + 19] = s[base + PAIR.n1h]!;
    out[offset + 20] = s[base + PAIR.bytesOut1h]!;
    out[offset + 21] = s[base + PAIR.bytesIn1h]!;
    out[offset + 22] = decay(ts - pairs.firstSeen(slot), HOUR);
    pairs.touch(slot, ts);

    // The source host.
    const sources = this.tables.sources;
    slot = sources.rowFor(this.src.hi, this.src.lo, ts);
    base = sources.statsAt(slot);
    s = sources.stats;
    if (!sources.lastWasNew) {
      const dt = elapsed(sources.lastSeen(slot), ts);
      const t = decay(dt, SECONDS_10);
      const m = decay(dt, MINUTE);
      const tm = decay(dt, MINUTES_10);
      const h = decay(dt, HOUR);
      s[base + SRC.n10s]! *= t;
      s[base + SRC.n1m]! *= m;
      s[base + SRC.n10m]! *= tm;
      s[base + SRC.n1h]! *= h;
      s[base + SRC.failed1m]! *= m;
      s[base + SRC.failed1h]! *= h;
      s[base + SRC.newChannels1m]! *= m;
      s[base + SRC.newChannels10m]! *= tm;
      s[base + SRC.newChannels1h]! *= h;
      s[base + SRC.newPeers1h]! *= h;
      s[base + SRC.bytesOut1h]! *= h;
      s[base + SRC.bytesIn1h]! *= h;
    }
    const nc = newChannel ? 1 : 0;
    s[base + SRC.n10s]! += 1;
    s[base + SRC.n1m]! += 1;
    s[base + SRC.n10m]! += 1;
    s[base + SRC.n1h]! += 1;
    s[base + SRC.failed1m]! += failed;
    s[base + SRC.failed1h]! += failed;
    s[base + SRC.newChannels1m]! += nc;
    s[base + SRC.newChannels10m]! += nc;
    s[base + SRC.newChannels1h]! += nc;
    s[base + SRC.newPeers1h]! += newPair ? 1 : 0;
    s[base + SRC.bytesOut1h]! += bytesOut;
    s[base + SRC.bytesIn1h]! += bytesIn;
    out[offset] = s[base + SRC.n10s]!;
    out[offset + 1] = s[base + SRC.n1m]!;
    out[offset + 2] = s[base + SRC.n10m]!;
    out[offset + 3] = s[base + SRC.n1h]!;
    out[offset + 4] = s[base + SRC.failed1m]! / s[base + SRC.n1m]!;
    out[offset + 5] = s[base + SRC.failed1h]! / s[base + SRC.n1h]!;
    out[offset + 6] = s[base + SRC.newChannels1m]!;
    out[offset + 7] = s[base + SRC.newChannels10m]!;
    out[offset + 8] = s[base + SRC.newChannels1h]!;
    out[offset + 9] = s[base + SRC.newPeers1h]!;
    out[offset + 10] = s[base + SRC.bytesOut1h]!;
    out[offset + 11] = s[base + SRC.bytesIn1h]!;
    sources.touch(slot, ts);

    // The destination host.
    const destinations = this.tables.destinations;
    slot = destinations.rowFor(this.dst.hi, this.dst.lo, ts);
    base = destinations.statsAt(slot);
    s = destinations.stats;
    if (!destinations.lastWasNew) {
      const dt = elapsed(destinations.lastSeen(slot), ts);
      const t = decay(dt, SECONDS_10);
      const m = decay(dt, MINUTE);
      const h = decay(dt, HOUR);
      s[base + DST.n10s]! *= t;
      s[base + DST.n1m]! *= m;
      s[base + DST.failed10s]! *= t;
      s[base + DST.failed1m]! *= m;
      s[base + DST.newSources1m]! *= m;
      s[base + DST.newSources1h]! *= h;
      s[base + DST.sources1d]! *= decay(dt, DAY);
    }
    const ns = newPair ? 1 : 0;
    s[base + DST.n10s]! += 1;
    s[base + DST.n1m]! += 1;
    s[base + DST.failed10s]! += failed;
    s[base + DST.failed1m]! += failed;
    s[base + DST.newSources1m]! += ns;
    s[base + DST.newSources1h]! += ns;
    s[base + DST.sources1d]! += returning ? 1 : 0;
    out[offset + 12] = s[base + DST.n10s]!;
    out[offset + 13] = s[base + DST.n1m]!;
    out[offset + 14] = s[base + DST.failed10s]! / s[base + DST.n10s]!;
    out[offset + 15] = s[base + DST.failed1m]! / s[base + DST.n1m]!;
    out[offset + 16] = s[base + DST.newSources1m]!;
    out[offset + 17] = s[base + DST.newSources1h]!;
    out[offset + 18] = s[base + DST.sources1d]!;
    destinations.touch(slot, ts);
  }

  /** Counts every record and returns their features, rows × CONTEXT_WIDTH. */
  observeAll(records: readonly ConnRecord[], out: Float32Array = new Float32Array(records.length * CONTEXT_WIDTH)): Float32Array {
    for (let i = 0; i < records.length; i++) this.observe(records[i]!, out, i * CONTEXT_WIDTH);
    return out;
  }

  /** When `src` first contacted `dst`, as far as the tables remember (eviction forgets), or null. */
  pairFirstSeen(src: string, dst: string): number | null {
    const row = this.pairRow(src, dst);
    return row < 0 ? null : this.tables.pairs.firstSeen(row);
  }

  /** When `src` last contacted `dst`, or null when the tables do not hold the pair. */
  pairLastSeen(src: string, dst: string): number | null {
    const row = this.pairRow(src, dst);
    return row < 0 ? null : this.tables.pairs.lastSeen(row);
  }

  private pairRow(src: string, dst: string): number {
    hashText(src, this.src);
    hashText(dst, this.dst);
    combineKeys(this.src, this.dst, this.pair);
    return this.tables.pairs.find(this.pair.hi, this.pair.lo);
  }

  /** The earliest first contact of any pair the tables hold (how far back the state's memory goes), or null when empty. */
  earliestPairSeen(): number | null {
    const table = this.tables.pairs;
    let earliest = Infinity;
    for (let row = 0; row < table.size; row++) earliest = Math.min(earliest, table.firstSeen(row));
    return table.size === 0 ? null : earliest;
  }

  /** How many keys each table holds and has evicted. */
  sizes(): Record<keyof ContextTables, { keys: number; evicted: number }> {
    const of = (table: KeyTable) => ({ keys: table.size, evicted: table.evicted });
    return { sources: of(this.tables.sources), destinations: of(this.tables.destinations), pairs: of(this.tables.pairs), channels: of(this.tables.channels) };
  }
}

/** Seconds since the key was last seen; 0 for a row older than that (see the class comment). */
function elapsed(lastSeen: number, ts: number): number {
  const dt = ts - lastSeen;
  return dt > 0 ? dt : 0;
}

/** The factor a damped value keeps after `dt` seconds at `halfLife`. */
function decay(dt: number, halfLife: number): number {
  return dt === 0 ? 1 : Math.exp((-Math.LN2 * dt) / halfLife);
}

/** `cv` drawn towards 1 as if PRIOR_INTERVALS more observations of variation 1 had been made beside `weight` real ones. */
function shrunk(cv: number, weight: number): number {
  const w = weight > 0 ? weight : 0;
  return (w * cv + PRIOR_INTERVALS) / (w + PRIOR_INTERVALS);
}

/** Standard deviation over mean, from the mean of squares and the mean; 0 when the mean is 0. */
function variation(meanOfSquares: number, mean: number): number {
  if (mean <= 0) return 0;
  const variance = meanOfSquares - mean * mean;
  return variance > 0 ? Math.sqrt(variance) / mean : 0;
}

/** The most keys `table` may hold under `limits`. */
export function tableLimit(limits: Readonly<ContextLimits>, table: keyof ContextTables): number {
  return table === 'sources' || table === 'destinations' ? limits.hosts : limits[table];
}

// The feature order above is CONTEXT_FEATURES' order; a mismatch is a bug worth failing loudly on.
if (CONTEXT_WIDTH !== 29) throw new Error(`context-state.ts writes 29 features but CONTEXT_FEATURES lists ${CONTEXT_WIDTH}`);
