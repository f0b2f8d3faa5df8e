import type { ConnRecord } from '../read/conn-record.js';
import { FAILED_STATES } from './context-features.js';
import { hashText, type Key64 } from './key-hash.js';

/**
 * What the context stage reads of each connection, for a block of rows, in columns of one buffer:
 * the two addresses' 64-bit hashes, the channel number (port and protocol), the time, whether it
 * failed, and the bytes each way. This, not the records, is what the read thread sends the scoring thread: typed
 * columns cross to another thread by handing the buffer over, where objects would be copied one
 * field at a time.
 */
export class ContextInput {
  rows = 0;
  readonly capacity: number;
  readonly buffer: ArrayBuffer;
  readonly ts: Float64Array;
  readonly bytesOut: Float64Array;
  readonly bytesIn: Float64Array;
  /** Four words a row: the source's hash (high, low), then the destination's. */
  readonly keys: Uint32Array;
  readonly channel: Uint32Array;
  readonly failed: Uint8Array;
  private readonly key: Key64 = { hi: 0, lo: 0 };

  /** Columns for `capacity` rows, in `buffer` when given (one handed back by a thread), else a new one. */
  constructor(capacity: number, buffer: ArrayBuffer = new ArrayBuffer(capacity * ROW_BYTES)) {
    if (buffer.byteLength !== capacity * ROW_BYTES) throw new Error(`ContextInput: a buffer of ${buffer.byteLength} bytes, not ${capacity * ROW_BYTES} for ${capacity} rows`);
    this.capacity = capacity;
    this.buffer = buffer;
    this.ts = new Float64Array(buffer, 0, capacity);
    this.bytesOut = new Float64Array(buffer, 8 * capacity, capacity);
    this.bytesIn = new Float64Array(buffer, 16 * capacity, capacity);
    this.keys = new Uint32Array(buffer, 24 * capacity, 4 * capacity);
    this.channel = new Uint32Array(buffer, 40 * capacity, capacity);
    this.failed = new Uint8Array(buffer, 44 * capacity, capacity);
  }

  /** Writes the columns of `records` (at most `capacity`). */
  fill(records: readonly ConnRecord[]): void {
    if (records.length > this.capacity) throw new RangeError(`ContextInput: ${records.length} rows, room for ${this.capacity}`);
    const key = this.key;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      this.ts[i] = record.ts;
      this.bytesOut[i] = record.orig_bytes ?? 0;
      this.bytesIn[i] = record.resp_bytes ?? 0;
      hashText(record['id.orig_h'], key);
      this.keys[4 * i] = key.hi;
      this.keys[4 * i + 1] = key.lo;
      hashText(record['id.resp_h'], key);
      this.keys[4 * i + 2] = key.hi;
      this.keys[4 * i + 3] = key.lo;
      this.channel[i] = channelNumber(record);
      this.failed[i] = failedFlag(record);
    }
    this.rows = records.length;
  }
}

// ts, bytes out, bytes in (f64); four key words and the channel (u32); failed (u8).
const ROW_BYTES = 3 * 8 + 5 * 4 + 1;

/** The channel's port and protocol as one number, mixed into the channel's key. */
export function channelNumber(record: ConnRecord): number {
  return record['id.resp_p'] * 4 + protoCode(record.proto);
}

/** 1 for a refused or unanswered connection. */
export function failedFlag(record: ConnRecord): 0 | 1 {
  return record.conn_state !== null && FAILED_STATES.has(record.conn_state) ? 1 : 0;
}

function protoCode(proto: string): number {
  return proto === 'tcp' ? 1 : proto === 'udp' ? 2 : proto === 'icmp' ? 3 : 0;
}
