import { badValue } from './log-read-error.js';
import { ADDRESS_EXPECTED, isAddressAt } from './address.js';
import { PROTO_EXPECTED, transportProtoAt } from './transport-proto.js';
import { decimalAt, unescapeZeek } from './zeek-text-values.js';
import type { FieldSpans } from './field-spans.js';

/** How a file marks an unset value, an empty one and the items of a set (Zeek's `#` directives). */
export interface TextMarkers {
  unset: string;
  empty: string;
  setSeparator: string;
  /** CSV exports write an unset value as an empty cell as well as `-`. */
  emptyCellIsUnset: boolean;
}

/**
 * Field k of a row read as a value of one Zeek type. Each returns null for an unset field (or a
 * column the file lacks, k < 0) and throws a `BadLineError` naming the column and the value for
 * one that does not fit its type.
 */
export interface SpanValues {
  isUnset: (row: FieldSpans, k: number) => boolean;
  time: (row: FieldSpans, k: number, field: string) => number | null;
  /** A whole number from 0 to `max` (65535 reads as a port). */
  count: (row: FieldSpans, k: number, field: string, max: number) => number | null;
  interval: (row: FieldSpans, k: number, field: string) => number | null;
  int: (row: FieldSpans, k: number, field: string) => number | null;
  double: (row: FieldSpans, k: number, field: string) => number | null;
  bool: (row: FieldSpans, k: number, field: string) => boolean | null;
  /** A string, unescaped; the empty marker is ''. */
  text: (row: FieldSpans, k: number) => string | null;
  /** A string as it stands, for values that hold nothing Zeek escapes (uids). */
  plain: (row: FieldSpans, k: number) => string | null;
  address: (row: FieldSpans, k: number, field: string) => string | null;
  /** A `transport_proto` name, as the enum's own constant. */
  proto: (row: FieldSpans, k: number, field: string) => string | null;
  /** A set or vector: its items unescaped; the empty marker is []. */
  set: (row: FieldSpans, k: number) => string[] | null;
}

/**
 * The readers for one header's markers, shared by the conn row parser and the any-log one. They
 * are closures over the markers, built once per header, so that the conn parser can call them as
 * local functions on its hot path, as it did when they were its own.
 */
export function spanValues(markers: TextMarkers): SpanValues {
  const { setSeparator, emptyCellIsUnset } = markers;
  const unsetBytes = Buffer.from(markers.unset, 'utf8');
  const emptyBytes = Buffer.from(markers.empty, 'utf8');
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
  function finite(row: FieldSpans, k: number, field: string, expected: string): number | null {
    if (isUnset(row, k)) return null;
    const n = number(row, k);
    if (!Number.isFinite(n)) throw badValue(field, row.slice(k), expected);
    return n;
  }
  function time(row: FieldSpans, k: number, field: string): number | null {
    return finite(row, k, field, 'a time in epoch seconds');
  }
  function interval(row: FieldSpans, k: number, field: string): number | null {
    return finite(row, k, field, 'a duration in seconds');
  }
  function double(row: FieldSpans, k: number, field: string): number | null {
    return finite(row, k, field, 'a number');
  }
  function count(row: FieldSpans, k: number, field: string, max: number): number | null {
    if (isUnset(row, k)) return null;
    const n = number(row, k);
    if (!Number.isInteger(n) || n < 0 || n > max) {
      throw badValue(field, row.slice(k), max === 65535 ? 'a port number from 0 to 65535' : 'a whole number of 0 or more');
    }
    return n;
  }
  function int(row: FieldSpans, k: number, field: string): number | null {
    if (isUnset(row, k)) return null;
    const n = number(row, k);
    if (!Number.isInteger(n)) throw badValue(field, row.slice(k), 'a whole number');
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
  function proto(row: FieldSpans, k: number, field: string): string | null {
    if (isUnset(row, k)) return null;
    const name = transportProtoAt(row.bytes, row.starts[k]!, row.ends[k]!);
    if (name === null) throw badValue(field, row.slice(k), PROTO_EXPECTED);
    return name;
  }
  function set(row: FieldSpans, k: number): string[] | null {
    if (isUnset(row, k)) return null;
    return row.equals(k, emptyBytes) ? [] : row.slice(k).split(setSeparator).map(unescapeZeek);
  }

  return { isUnset, time, count, interval, int, double, bool, text, plain, address, proto, set };
}
