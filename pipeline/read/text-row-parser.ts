import { BadLineError, badValue } from './log-read-error.js';
import type { LineBatch } from './line-splitter.js';
import { ownString } from './own-string.js';
import { ADDRESS_EXPECTED, isAddressAt } from './address.js';
import { PROTO_EXPECTED, transportProtoAt } from './transport-proto.js';
import { CONN_FIELDS, isKnownField, type ConnRecord, type FieldKind, type ZeekValue } from './conn-record.js';

export interface TextColumn {
  name: string;
  /** How extra (non-conn) columns are typed; conn columns always use the conn.log schema. */
  kind: FieldKind;
}

export interface TextMarkers {
  unset: string;
  empty: string;
  setSeparator: string;
  /** CSV exports write an unset value as an empty cell as well as `-`. */
  emptyCellIsUnset: boolean;
}

/**
 * One row as byte spans: field k is `bytes[starts[k]..ends[k])`. Numbers are parsed straight
 * from the bytes and only string fields become strings, cut from `text` (the latin1 view of
 * ASCII bytes, whose offsets are byte offsets) without decoding: on this hot path a string per
 * field, as `split` makes, costs more than the whole parser's budget.
 */
export class FieldSpans {
  bytes: Uint8Array = new Uint8Array(0);
  /** The bytes as text, one character per byte; null when they are not all ASCII. */
  text: string | null = null;
  count = 0;
  starts: Int32Array;
  ends: Int32Array;

  constructor(capacity = 64) {
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
  }

  /** Cuts line `i` of `batch` at every `separator`. */
  cutLine(batch: LineBatch, i: number, separator: Buffer): void {
    this.bytes = batch.bytes;
    this.text = batch.asciiText;
    const bytes = batch.bytes;
    const end = batch.ends[i]!;
    let start = batch.starts[i]!;
    let count = 0;
    if (separator.length === 1) {
      const code = separator[0]!;
      // A line has at most one field per byte, plus one.
      if (end - start + 1 > this.starts.length) this.reserve(end - start + 1);
      const starts = this.starts;
      const ends = this.ends;
      for (let at = start; at < end; at++) {
        if (bytes[at] === code) {
          starts[count] = start;
          ends[count++] = at;
          start = at + 1;
        }
      }
    } else {
      for (let at = bytes.indexOf(separator, start); at >= 0 && at < end; at = bytes.indexOf(separator, start)) {
        this.push(count++, start, at);
        start = at + separator.length;
      }
    }
    this.push(count++, start, end);
    this.count = count;
  }

  /** Lays already separated values (from csv-parse) end to end. */
  setValues(values: readonly string[]): void {
    const joined = values.join('');
    const bytes = Buffer.from(joined, 'utf8');
    this.bytes = bytes;
    this.text = bytes.length === joined.length ? joined : null;
    let start = 0;
    values.forEach((value, k) => {
      const length = Buffer.byteLength(value, 'utf8');
      this.push(k, start, start + length);
      start += length;
    });
    this.count = values.length;
  }

  /** Cuts the last field again at `joiner` (IoT-23 joins its label columns with three spaces). */
  splitLast(joiner: Buffer): void {
    const bytes = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const last = this.count - 1;
    const end = this.ends[last]!;
    let start = this.starts[last]!;
    let k = last;
    for (let at = bytes.indexOf(joiner, start); at >= 0 && at < end; at = bytes.indexOf(joiner, start)) {
      this.push(k++, start, at);
      start = at + joiner.length;
    }
    this.push(k, start, end);
    this.count = k + 1;
  }

  slice(k: number): string {
    const start = this.starts[k]!;
    const end = this.ends[k]!;
    if (this.text !== null) return this.text.slice(start, end);
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString('utf8', start, end);
  }

  /** Whether field k is exactly `marker` (given as bytes). */
  equals(k: number, marker: Uint8Array): boolean {
    const start = this.starts[k]!;
    if (this.ends[k]! - start !== marker.length) return false;
    for (let i = 0; i < marker.length; i++) if (this.bytes[start + i] !== marker[i]) return false;
    return true;
  }

  private push(k: number, start: number, end: number): void {
    if (k >= this.starts.length) this.reserve(k + 1);
    this.starts[k] = start;
    this.ends[k] = end;
  }

  private reserve(capacity: number): void {
    if (capacity <= this.starts.length) return;
    const size = Math.max(capacity, this.starts.length * 2);
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    starts.set(this.starts);
    ends.set(this.ends);
    this.starts = starts;
    this.ends = ends;
  }
}

export type TextRowParser = (row: FieldSpans) => ConnRecord;

/**
 * Builds the function that turns one row into a record. It is built once per header so that
 * the per-row work is index lookups and one object literal of a fixed shape, which V8 keeps fast.
 */
export function buildTextRowParser(columns: readonly TextColumn[], markers: TextMarkers): TextRowParser {
  const { empty, setSeparator, emptyCellIsUnset } = markers;
  const unsetBytes = Buffer.from(markers.unset, 'utf8');
  const emptyBytes = Buffer.from(empty, 'utf8');
  const indexOf = new Map(columns.map((c, i) => [c.name, i]));
  const at = (name: string): number => indexOf.get(name) ?? -1;
  const extras = columns.map((c, index) => ({ ...c, index })).filter((c) => !isKnownField(c.name));

  // Zeek's unset marker is '-': one byte compared is the common case.
  const unsetByte = unsetBytes.length === 1 ? unsetBytes[0]! : -1;
  function isUnset(row: FieldSpans, k: number): boolean {
    if (k < 0) return true;
    const start = row.starts[k]!;
    const length = row.ends[k]! - start;
    if (length === 0) return emptyCellIsUnset;
    if (unsetByte >= 0) return length === 1 && row.bytes[start] === unsetByte;
    return row.equals(k, unsetBytes);
  }
  function number(row: FieldSpans, k: number): number {
    return decimalAt(row.bytes, row.starts[k]!, row.ends[k]!);
  }
  function time(row: FieldSpans, k: number, field: string): number | null {
    if (isUnset(row, k)) return null;
    const n = number(row, k);
    if (!Number.isFinite(n)) throw badValue(field, row.slice(k), 'a time in epoch seconds');
    return n;
  }
  function count(row: FieldSpans, k: number, field: string, max: number): number | null {
    if (isUnset(row, k)) return null;
    const n = number(row, k);
    if (!Number.isInteger(n) || n < 0 || n > max) {
      throw badValue(field, row.slice(k), max === 65535 ? 'a port number from 0 to 65535' : 'a whole number of 0 or more');
    }
    return n;
  }
  function interval(row: FieldSpans, k: number, field: string): number | null {
    if (isUnset(row, k)) return null;
    const n = number(row, k);
    if (!Number.isFinite(n)) throw badValue(field, row.slice(k), 'a duration in seconds');
    return n;
  }
  function bool(row: FieldSpans, k: number, field: string): boolean | null {
    if (isUnset(row, k)) return null;
    const start = row.starts[k]!;
    if (row.ends[k]! - start === 1) {
      const c = row.bytes[start];
      if (c === 84 /* T */) return true;
      if (c === 70 /* F */) return false;
    }
    throw badValue(field, row.slice(k), "'T' or 'F'");
  }
  function text(row: FieldSpans, k: number): string | null {
    if (isUnset(row, k)) return null;
    return row.equals(k, emptyBytes) ? '' : unescapeZeek(row.slice(k));
  }
  // Uids hold nothing Zeek escapes.
  function plain(row: FieldSpans, k: number): string | null {
    return isUnset(row, k) ? null : row.slice(k);
  }
  // Checked where it lies in the chunk, so only a good address is cut out (and a bad one only to show it).
  function address(row: FieldSpans, k: number, field: string): string | null {
    if (isUnset(row, k)) return null;
    if (!isAddressAt(row.bytes, row.starts[k]!, row.ends[k]!)) throw badValue(field, row.slice(k), ADDRESS_EXPECTED);
    return row.slice(k);
  }
  // The enum's own constant comes back: no string is cut for it.
  function proto(row: FieldSpans, k: number): string | null {
    if (isUnset(row, k)) return null;
    const name = transportProtoAt(row.bytes, row.starts[k]!, row.ends[k]!);
    if (name === null) throw badValue('proto', row.slice(k), PROTO_EXPECTED);
    return name;
  }
  /**
   * Columns with few distinct values (service, conn_state, history) return a string seen
   * before when the bytes match: no allocation for most rows, and records share their strings.
   */
  function interned(row: FieldSpans, k: number, table: InternTable): string | null {
    if (isUnset(row, k)) return null;
    return table.lookup(row, k) ?? text(row, k);
  }
  function set(row: FieldSpans, k: number): string[] | null {
    if (isUnset(row, k)) return null;
    return row.equals(k, emptyBytes) ? [] : row.slice(k).split(setSeparator).map(unescapeZeek);
  }
  function required<T>(value: T | null, field: string): T {
    if (value === null) throw new BadLineError(`required field '${field}' is unset`);
    return value;
  }
  // A value of an extra column that does not fit its type is kept as text, except an address:
  // what the file types as `addr` is shown and keyed as one, so it must be one.
  function extraValue(row: FieldSpans, k: number, kind: FieldKind, name: string): ZeekValue {
    if (isUnset(row, k)) return null;
    switch (kind) {
      case 'addr':
        return address(row, k, name);
      case 'set':
        return set(row, k);
      case 'bool': {
        const value = row.slice(k);
        return value === 'T' ? true : value === 'F' ? false : value;
      }
      case 'time':
      case 'interval':
      case 'port':
      case 'count':
      case 'int':
      case 'double': {
        const n = number(row, k);
        return Number.isFinite(n) ? n : row.slice(k);
      }
      default:
        return text(row, k);
    }
  }
  function extrasOf(row: FieldSpans): Record<string, ZeekValue> | null {
    if (extras.length === 0) return null;
    const out: Record<string, ZeekValue> = {};
    for (const column of extras) out[column.name] = extraValue(row, column.index, column.kind, column.name);
    return out;
  }

  const iTs = at('ts');
  const iUid = at('uid');
  const iOrigH = at('id.orig_h');
  const iOrigP = at('id.orig_p');
  const iRespH = at('id.resp_h');
  const iRespP = at('id.resp_p');
  const iProto = at('proto');
  const iService = at('service');
  const iDuration = at('duration');
  const iOrigBytes = at('orig_bytes');
  const iRespBytes = at('resp_bytes');
  const iConnState = at('conn_state');
  const iLocalOrig = at('local_orig');
  const iLocalResp = at('local_resp');
  const iMissed = at('missed_bytes');
  const iHistory = at('history');
  const iOrigPkts = at('orig_pkts');
  const iOrigIpBytes = at('orig_ip_bytes');
  const iRespPkts = at('resp_pkts');
  const iRespIpBytes = at('resp_ip_bytes');
  const iTunnel = at('tunnel_parents');
  const iIpProto = at('ip_proto');
  // Zeek counts are 64-bit: above 2^53 they lose precision as doubles, but they are not bad values.
  const MAX_COUNT = 2 ** 64;
  const MAX_PORT = 65535;
  const services = new InternTable();
  const states = new InternTable();
  const histories = new InternTable();

  return (row) => ({
    ts: required(time(row, iTs, 'ts'), 'ts'),
    uid: plain(row, iUid),
    'id.orig_h': required(address(row, iOrigH, 'id.orig_h'), 'id.orig_h'),
    'id.orig_p': required(count(row, iOrigP, 'id.orig_p', MAX_PORT), 'id.orig_p'),
    'id.resp_h': required(address(row, iRespH, 'id.resp_h'), 'id.resp_h'),
    'id.resp_p': required(count(row, iRespP, 'id.resp_p', MAX_PORT), 'id.resp_p'),
    proto: required(proto(row, iProto), 'proto'),
    service: interned(row, iService, services),
    duration: interval(row, iDuration, 'duration'),
    orig_bytes: count(row, iOrigBytes, 'orig_bytes', MAX_COUNT),
    resp_bytes: count(row, iRespBytes, 'resp_bytes', MAX_COUNT),
    conn_state: interned(row, iConnState, states),
    local_orig: bool(row, iLocalOrig, 'local_orig'),
    local_resp: bool(row, iLocalResp, 'local_resp'),
    missed_bytes: count(row, iMissed, 'missed_bytes', MAX_COUNT),
    history: interned(row, iHistory, histories),
    orig_pkts: count(row, iOrigPkts, 'orig_pkts', MAX_COUNT),
    orig_ip_bytes: count(row, iOrigIpBytes, 'orig_ip_bytes', MAX_COUNT),
    resp_pkts: count(row, iRespPkts, 'resp_pkts', MAX_COUNT),
    resp_ip_bytes: count(row, iRespIpBytes, 'resp_ip_bytes', MAX_COUNT),
    tunnel_parents: set(row, iTunnel),
    ip_proto: count(row, iIpProto, 'ip_proto', 255),
    extras: extrasOf(row),
  });
}

/** Strings already seen in one column, found by a hash of the bytes, so a hit allocates nothing. */
class InternTable {
  private readonly byHash = new Map<number, string>();

  /** The string for field k if it was seen before (or is now remembered); null when it must be decoded. */
  lookup(row: FieldSpans, k: number): string | null {
    const text = row.text;
    if (text === null) return null;
    const bytes = row.bytes;
    const start = row.starts[k]!;
    const end = row.ends[k]!;
    let hash = end - start;
    for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + bytes[i]!) | 0;
    const seen = this.byHash.get(hash);
    if (seen !== undefined && seen.length === end - start && text.startsWith(seen, start)) return seen;
    const cut = text.slice(start, end);
    // Escaped or `(empty)` values are left to the caller; a full table stops remembering.
    if (cut.indexOf('\\') >= 0 || cut.startsWith('(') || this.byHash.size >= MAX_INTERNED_PER_COLUMN) return null;
    // Kept for the whole file, so it must own its characters: a cut of 13 or more is a view that
    // would pin this chunk's text (hundreds of kilobytes) for as long as the table lives.
    const value = ownString(cut);
    this.byHash.set(hash, value);
    return value;
  }
}

// Bounds the memory a column of unexpectedly many distinct values can take.
const MAX_INTERNED_PER_COLUMN = 4096;

/** The kind each column is read as: the conn.log schema for conn columns, the declared type for extras. */
export function columnKinds(names: readonly string[], declaredKinds: readonly FieldKind[]): TextColumn[] {
  const schema = new Map<string, FieldKind>(CONN_FIELDS.map((f) => [f.name, f.kind]));
  return names.map((name, i) => ({ name, kind: schema.get(name) ?? declaredKinds[i] ?? 'string' }));
}

/**
 * Reads the decimal in `bytes` from `start` to `end` as Zeek writes it (`80`, `0.000415`,
 * `1646089195.000415`) with a digit loop, several times faster than `Number()`. Anything
 * unusual (a sign, an exponent, more digits than a double holds exactly) goes to `Number()`,
 * but not '', ' 1 ', '0x1f' or 'Infinity', which `Number()` accepts and Zeek never writes.
 */
export function decimalAt(bytes: Uint8Array, start: number, end: number): number {
  // All digits, the point skipped, as one integer: exact while below 2^53.
  let digitsValue = 0;
  let point = -1;
  for (let i = start; i < end; i++) {
    const c = bytes[i]! - 48;
    if (c >= 0 && c <= 9) digitsValue = digitsValue * 10 + c;
    else if (c === -2 /* . */ && point < 0) point = i;
    else return strictNumber(latin1(bytes, start, end));
  }
  const decimals = point < 0 ? 0 : end - point - 1;
  const wholeDigits = point < 0 ? end - start : point - start;
  if (wholeDigits === 0 || digitsValue > Number.MAX_SAFE_INTEGER) return strictNumber(latin1(bytes, start, end));
  // One division of two exact numbers is correctly rounded: the same double Number() gives.
  return decimals === 0 ? digitsValue : digitsValue / POWERS_OF_TEN[decimals]!;
}

export function toNumber(value: string): number {
  const bytes = Buffer.from(value, 'utf8');
  return decimalAt(bytes, 0, bytes.length);
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1', start, end);
}

// 10^k is exact in a double up to 10^22.
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);

function strictNumber(v: string): number {
  const first = v.charCodeAt(0);
  const last = v.charCodeAt(v.length - 1);
  if (!((first >= 48 && first <= 57) || first === 45 || first === 46)) return NaN;
  if (!((last >= 48 && last <= 57) || last === 46)) return NaN;
  return +v;
}

/** Undoes the ASCII writer's escaping: `\xHH` for separators and non-printable bytes, `\\` for a backslash. */
export function unescapeZeek(value: string): string {
  if (value.indexOf('\\') < 0) return value;
  return value.replace(/\\(x[0-9a-fA-F]{2}|\\)/g, (_m, code: string) =>
    code === '\\' ? '\\' : String.fromCharCode(parseInt(code.slice(1), 16)),
  );
}

