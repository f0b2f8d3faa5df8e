import { BadLineError, badValue } from './log-read-error.js';
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
 * One row as positions in its text: field k is `text.slice(starts[k], ends[k])`. Numbers are
 * parsed straight from the text and only string fields are cut out, which saves a string per
 * numeric field: `split` alone costs more than this whole parser's budget.
 */
export class FieldSpans {
  text = '';
  count = 0;
  starts: Int32Array;
  ends: Int32Array;

  constructor(capacity = 64) {
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
  }

  /** Cuts `line` at every `separator`. */
  cut(line: string, separator: string): void {
    this.text = line;
    if (separator.length !== 1) {
      this.cutAtString(line, separator);
      return;
    }
    // A char-code loop beats one indexOf call per field on lines this short.
    const code = separator.charCodeAt(0);
    let count = 0;
    let start = 0;
    const length = line.length;
    for (let i = 0; i < length; i++) {
      if (line.charCodeAt(i) === code) {
        this.push(count++, start, i);
        start = i + 1;
      }
    }
    this.push(count++, start, length);
    this.count = count;
  }

  private cutAtString(line: string, separator: string): void {
    let count = 0;
    let start = 0;
    for (let at = line.indexOf(separator); at >= 0; at = line.indexOf(separator, start)) {
      this.push(count++, start, at);
      start = at + separator.length;
    }
    this.push(count++, start, line.length);
    this.count = count;
  }

  /** Lays already separated values (from csv-parse) end to end. */
  setValues(values: readonly string[]): void {
    this.text = values.join('');
    let start = 0;
    values.forEach((value, k) => {
      this.push(k, start, start + value.length);
      start += value.length;
    });
    this.count = values.length;
  }

  /** Cuts the last field again at `joiner` (IoT-23 joins its label columns with three spaces). */
  splitLast(joiner: string): void {
    const last = this.count - 1;
    const end = this.ends[last]!;
    let start = this.starts[last]!;
    let k = last;
    for (let at = this.text.indexOf(joiner, start); at >= 0 && at < end; at = this.text.indexOf(joiner, start)) {
      this.push(k++, start, at);
      start = at + joiner.length;
    }
    this.push(k, start, end);
    this.count = k + 1;
  }

  slice(k: number): string {
    return this.text.slice(this.starts[k], this.ends[k]);
  }

  private push(k: number, start: number, end: number): void {
    if (k >= this.starts.length) {
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
    }
    this.starts[k] = start;
    this.ends[k] = end;
  }
}

export type TextRowParser = (row: FieldSpans) => ConnRecord;

/**
 * Builds the function that turns one row into a record. It is built once per header so that
 * the per-row work is index lookups and one object literal of a fixed shape, which V8 keeps fast.
 */
export function buildTextRowParser(columns: readonly TextColumn[], markers: TextMarkers): TextRowParser {
  const { unset, empty, setSeparator, emptyCellIsUnset } = markers;
  const indexOf = new Map(columns.map((c, i) => [c.name, i]));
  const at = (name: string): number => indexOf.get(name) ?? -1;
  const extras = columns.map((c, index) => ({ ...c, index })).filter((c) => !isKnownField(c.name));

  function isUnset(row: FieldSpans, k: number): boolean {
    if (k < 0) return true;
    const start = row.starts[k]!;
    const length = row.ends[k]! - start;
    if (length === 0) return emptyCellIsUnset;
    return length === unset.length && row.text.startsWith(unset, start);
  }
  function number(row: FieldSpans, k: number): number {
    return decimalAt(row.text, row.starts[k]!, row.ends[k]!);
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
      const c = row.text.charCodeAt(start);
      if (c === 84 /* T */) return true;
      if (c === 70 /* F */) return false;
    }
    throw badValue(field, row.slice(k), "'T' or 'F'");
  }
  function text(row: FieldSpans, k: number): string | null {
    if (isUnset(row, k)) return null;
    const value = row.slice(k);
    return value === empty ? '' : unescapeZeek(value);
  }
  // Addresses, uids and protocol names hold nothing Zeek escapes.
  function plain(row: FieldSpans, k: number): string | null {
    return isUnset(row, k) ? null : row.slice(k);
  }
  /**
   * Columns with few distinct values (proto, service, conn_state, history) return a string seen
   * before when the text matches: no allocation for most rows, and records share their strings.
   */
  function interned(row: FieldSpans, k: number, seen: string[]): string | null {
    if (isUnset(row, k)) return null;
    const start = row.starts[k]!;
    const length = row.ends[k]! - start;
    const source = row.text;
    for (let i = 0; i < seen.length; i++) {
      const candidate = seen[i]!;
      if (candidate.length === length && source.startsWith(candidate, start)) {
        return i === 0 ? candidate : promote(seen, i);
      }
    }
    const raw = row.slice(k);
    const value = raw === empty ? '' : unescapeZeek(raw);
    if (raw !== value) return value;
    seen.unshift(value);
    if (seen.length > INTERNED_PER_COLUMN) seen.pop();
    return value;
  }
  function set(row: FieldSpans, k: number): string[] | null {
    if (isUnset(row, k)) return null;
    const value = row.slice(k);
    return value === empty ? [] : value.split(setSeparator).map(unescapeZeek);
  }
  function required<T>(value: T | null, field: string): T {
    if (value === null) throw new BadLineError(`required field '${field}' is unset`);
    return value;
  }
  // Extra columns are never a reason to drop a row: a value that does not fit its type is kept as text.
  function extraValue(row: FieldSpans, k: number, kind: FieldKind): ZeekValue {
    if (isUnset(row, k)) return null;
    switch (kind) {
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
    for (const column of extras) out[column.name] = extraValue(row, column.index, column.kind);
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
  const MAX_COUNT = Number.MAX_SAFE_INTEGER;
  const MAX_PORT = 65535;
  const protos: string[] = [];
  const services: string[] = [];
  const states: string[] = [];
  const histories: string[] = [];

  return (row) => ({
    ts: required(time(row, iTs, 'ts'), 'ts'),
    uid: plain(row, iUid),
    'id.orig_h': required(plain(row, iOrigH), 'id.orig_h'),
    'id.orig_p': required(count(row, iOrigP, 'id.orig_p', MAX_PORT), 'id.orig_p'),
    'id.resp_h': required(plain(row, iRespH), 'id.resp_h'),
    'id.resp_p': required(count(row, iRespP, 'id.resp_p', MAX_PORT), 'id.resp_p'),
    proto: required(interned(row, iProto, protos), 'proto'),
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

// Small enough that a miss costs little; the common values stay at the front.
const INTERNED_PER_COLUMN = 16;

/** Moves a hit one place forward, so the frequent values end up first. */
function promote(seen: string[], i: number): string {
  const value = seen[i]!;
  seen[i] = seen[i - 1]!;
  seen[i - 1] = value;
  return value;
}

/** The kind each column is read as: the conn.log schema for conn columns, the declared type for extras. */
export function columnKinds(names: readonly string[], declaredKinds: readonly FieldKind[]): TextColumn[] {
  const schema = new Map<string, FieldKind>(CONN_FIELDS.map((f) => [f.name, f.kind]));
  return names.map((name, i) => ({ name, kind: schema.get(name) ?? declaredKinds[i] ?? 'string' }));
}

/**
 * Reads the decimal in `text` from `start` to `end` as Zeek writes it (`80`, `0.000415`,
 * `1646089195.000415`) with a digit loop, several times faster than `Number()`. Anything
 * unusual (a sign, an exponent, more digits than a double holds exactly) goes to `Number()`,
 * but not '', ' 1 ', '0x1f' or 'Infinity', which `Number()` accepts and Zeek never writes.
 */
export function decimalAt(text: string, start: number, end: number): number {
  // All digits, the point skipped, as one integer: exact while below 2^53.
  let digitsValue = 0;
  let point = -1;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c >= 0 && c <= 9) digitsValue = digitsValue * 10 + c;
    else if (c === -2 /* . */ && point < 0) point = i;
    else return strictNumber(text.slice(start, end));
  }
  const decimals = point < 0 ? 0 : end - point - 1;
  const wholeDigits = point < 0 ? end - start : point - start;
  if (wholeDigits === 0 || digitsValue > Number.MAX_SAFE_INTEGER) return strictNumber(text.slice(start, end));
  // One division of two exact numbers is correctly rounded: the same double Number() gives.
  return decimals === 0 ? digitsValue : digitsValue / POWERS_OF_TEN[decimals]!;
}

export function toNumber(value: string): number {
  return decimalAt(value, 0, value.length);
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

function grow(array: Int32Array): Int32Array {
  const bigger = new Int32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}
