import { BadLineError, badValue } from './log-read-error.js';
import { ADDRESS_EXPECTED, isAddress } from './address.js';
import { PROTO_EXPECTED, transportProto } from './transport-proto.js';
import type { ZeekValue } from './conn-record.js';

/**
 * The values of a Zeek JSON line (`LogAscii::use_json=T`) read as Zeek types. JSON says no type,
 * so each is taken as Zeek's JSON writer (and the exporters seen in the wild) give it: numbers
 * as numbers or numeric strings, booleans as true/false or T/F, times as epoch seconds, epoch
 * milliseconds or ISO 8601. Each returns null for a missing or null value and throws a
 * `BadLineError` naming the field and the value for one that does not fit.
 */

// Above this an epoch number must be milliseconds: 1e11 seconds is the year 5138.
const EPOCH_MS_THRESHOLD = 1e11;
const ISO_8601 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

/** `LogAscii::json_timestamps` may write epoch seconds, epoch milliseconds or ISO 8601; all become epoch seconds. */
export function jsonTime(v: unknown, field: string): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' && Number.isFinite(v)) return v > EPOCH_MS_THRESHOLD ? v / 1000 : v;
  if (typeof v === 'string') {
    const numeric = Number(v);
    if (v !== '' && Number.isFinite(numeric)) return numeric > EPOCH_MS_THRESHOLD ? numeric / 1000 : numeric;
    const iso = ISO_8601.exec(v);
    if (iso) {
      // Date.parse keeps milliseconds only; Zeek writes microseconds.
      const seconds = Date.parse(`${iso[1]}${iso[3] ?? 'Z'}`) / 1000;
      if (Number.isFinite(seconds)) return seconds + (iso[2] ? Number(`0${iso[2]}`) : 0);
    }
  }
  throw badValue(field, show(v), 'epoch seconds, epoch milliseconds or an ISO 8601 time');
}

export function jsonCount(v: unknown, field: string, max = 2 ** 64): number | null {
  if (v === undefined || v === null) return null;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw badValue(field, show(v), max === 65535 ? 'a port number from 0 to 65535' : 'a whole number of 0 or more');
  }
  return n;
}

export function jsonInterval(v: unknown, field: string): number | null {
  if (v === undefined || v === null) return null;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw badValue(field, show(v), 'a duration in seconds');
  return n;
}

export function jsonBool(v: unknown, field: string): boolean | null {
  if (v === undefined || v === null) return null;
  if (v === true || v === 'T' || v === 'true') return true;
  if (v === false || v === 'F' || v === 'false') return false;
  throw badValue(field, show(v), 'true or false');
}

export function jsonText(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  throw badValue(field, JSON.stringify(v), 'a string');
}

export function jsonAddress(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' && isAddress(v)) return v;
  throw badValue(field, show(v), ADDRESS_EXPECTED);
}

export function jsonProto(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  const name = typeof v === 'string' ? transportProto(v) : null;
  if (name === null) throw badValue(field, show(v), PROTO_EXPECTED);
  return name;
}

export function jsonSet(v: unknown, field: string): string[] | null {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  throw badValue(field, JSON.stringify(v), 'an array of strings');
}

/**
 * A value whose type nothing declares, kept as JSON gives it; an array's items become strings
 * (a vector of counts is `["1","2"]`) and a nested object its JSON text, as `ZeekValue` has neither.
 */
export function jsonValue(value: unknown): ZeekValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return JSON.stringify(value);
}

export function required<T>(value: T | null, field: string): T {
  if (value === null) throw new BadLineError(`required field '${field}' is missing`);
  return value;
}

export function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
