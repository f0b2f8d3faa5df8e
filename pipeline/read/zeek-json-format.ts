import { BadLineError, LogReadError, badValue } from './log-read-error.js';
import { canonicalFieldName, isKnownField, whyNotConnColumns, type ConnRecord, type ZeekValue } from './conn-record.js';
import { readLineByLine, type FormatParser, type RowSink } from './line-format.js';
import { ADDRESS_EXPECTED, isAddress } from './address.js';
import { PROTO_EXPECTED, transportProto } from './transport-proto.js';
import type { LineBatch } from './line-splitter.js';

type JsonObject = Record<string, unknown>;

// Above this an epoch number must be milliseconds: 1e11 seconds is the year 5138.
const EPOCH_MS_THRESHOLD = 1e11;
const ISO_8601 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;
const MAX_TRACKED_FIELDS = 1000;

/** Zeek JSON lines (`LogAscii::use_json=T`): one object per line, unset fields left out. */
export class ZeekJsonFormat implements FormatParser {
  readonly format = 'zeek-json';
  private readonly seenFields = new Set<string>();
  private declaredPath: string | null = null;
  private checkedColumns = false;

  constructor(private readonly file: string) {}

  readBatch(batch: LineBatch, sink: RowSink): void {
    readLineByLine((line, lineNumber) => this.parse(line, lineNumber), batch, sink);
  }

  end(): Promise<void> {
    return Promise.resolve();
  }

  private parse(line: string, lineNumber: number): ConnRecord | null {
    if (line.length === 0 || isBlank(line)) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw new BadLineError(`not valid JSON (${(error as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new BadLineError('a JSON line must hold one object');
    }
    const object = flattenIds(parsed as JsonObject);
    this.checkPath(object, lineNumber);
    this.trackFields(object, lineNumber);
    return toRecord(object);
  }

  fields(): string[] {
    return [...this.seenFields];
  }

  path(): string | null {
    return this.declaredPath;
  }

  cutShort(endedMidLine: boolean): boolean {
    return endedMidLine;
  }

  private checkPath(object: JsonObject, lineNumber: number): void {
    const path = object._path;
    if (path === undefined) return;
    if (typeof path === 'string' && this.declaredPath === null) this.declaredPath = path;
    if (path !== 'conn') {
      throw new LogReadError({
        code: 'wrong-log-type',
        file: this.file,
        line: lineNumber,
        message: `this is a Zeek '${show(path)}' log ("_path": ${JSON.stringify(path)}), not a conn log`,
      });
    }
  }

  private trackFields(object: JsonObject, lineNumber: number): void {
    if (this.seenFields.size < MAX_TRACKED_FIELDS) for (const key in object) this.seenFields.add(key);
    if (this.checkedColumns) return;
    this.checkedColumns = true;
    // JSON leaves unset fields out, so only the first record's shape can tell a dns.log apart.
    const why = whyNotConnColumns(Object.keys(object));
    if (why !== null) {
      throw new LogReadError({ code: 'missing-columns', file: this.file, line: lineNumber, message: `not a conn log: ${why}` });
    }
  }
}

function toRecord(o: JsonObject): ConnRecord {
  return {
    ts: required(time(o.ts), 'ts'),
    uid: text(o.uid, 'uid'),
    'id.orig_h': required(address(o['id.orig_h'], 'id.orig_h'), 'id.orig_h'),
    'id.orig_p': required(count(o['id.orig_p'], 'id.orig_p', 65535), 'id.orig_p'),
    'id.resp_h': required(address(o['id.resp_h'], 'id.resp_h'), 'id.resp_h'),
    'id.resp_p': required(count(o['id.resp_p'], 'id.resp_p', 65535), 'id.resp_p'),
    proto: required(proto(o.proto), 'proto'),
    service: text(o.service, 'service'),
    duration: interval(o.duration, 'duration'),
    orig_bytes: count(o.orig_bytes, 'orig_bytes'),
    resp_bytes: count(o.resp_bytes, 'resp_bytes'),
    conn_state: text(o.conn_state, 'conn_state'),
    local_orig: bool(o.local_orig, 'local_orig'),
    local_resp: bool(o.local_resp, 'local_resp'),
    missed_bytes: count(o.missed_bytes, 'missed_bytes'),
    history: text(o.history, 'history'),
    orig_pkts: count(o.orig_pkts, 'orig_pkts'),
    orig_ip_bytes: count(o.orig_ip_bytes, 'orig_ip_bytes'),
    resp_pkts: count(o.resp_pkts, 'resp_pkts'),
    resp_ip_bytes: count(o.resp_ip_bytes, 'resp_ip_bytes'),
    tunnel_parents: set(o.tunnel_parents, 'tunnel_parents'),
    ip_proto: count(o.ip_proto, 'ip_proto', 255),
    extras: extrasOf(o),
  };
}

/** Some exporters nest the connection id (`{"id": {"orig_h": …}}`); Zeek itself writes dotted keys. */
function flattenIds(o: JsonObject): JsonObject {
  const id = o.id;
  if (typeof id !== 'object' || id === null || Array.isArray(id)) {
    if (!('id_orig_h' in o)) return o;
  }
  const flat: JsonObject = {};
  for (const [key, value] of Object.entries(o)) {
    if (key === 'id' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value as JsonObject)) flat[`id.${inner}`] = innerValue;
    } else {
      flat[canonicalFieldName(key)] = value;
    }
  }
  return flat;
}

function extrasOf(o: JsonObject): Record<string, ZeekValue> | null {
  let extras: Record<string, ZeekValue> | null = null;
  for (const key in o) {
    if (isKnownField(key)) continue;
    extras ??= {};
    extras[key] = jsonExtra(o[key]);
  }
  return extras;
}

function jsonExtra(value: unknown): ZeekValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return JSON.stringify(value);
}

function time(v: unknown): number | null {
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
  throw badValue('ts', show(v), 'epoch seconds, epoch milliseconds or an ISO 8601 time');
}

function count(v: unknown, field: string, max = 2 ** 64): number | null {
  if (v === undefined || v === null) return null;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw badValue(field, show(v), max === 65535 ? 'a port number from 0 to 65535' : 'a whole number of 0 or more');
  }
  return n;
}

function interval(v: unknown, field: string): number | null {
  if (v === undefined || v === null) return null;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw badValue(field, show(v), 'a duration in seconds');
  return n;
}

function bool(v: unknown, field: string): boolean | null {
  if (v === undefined || v === null) return null;
  if (v === true || v === 'T' || v === 'true') return true;
  if (v === false || v === 'F' || v === 'false') return false;
  throw badValue(field, show(v), 'true or false');
}

function text(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  throw badValue(field, JSON.stringify(v), 'a string');
}

function address(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' && isAddress(v)) return v;
  throw badValue(field, show(v), ADDRESS_EXPECTED);
}

function proto(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  const name = typeof v === 'string' ? transportProto(v) : null;
  if (name === null) throw badValue('proto', show(v), PROTO_EXPECTED);
  return name;
}

function set(v: unknown, field: string): string[] | null {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  throw badValue(field, JSON.stringify(v), 'an array of strings');
}

function required<T>(value: T | null, field: string): T {
  if (value === null) throw new BadLineError(`required field '${field}' is missing`);
  return value;
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function isBlank(line: string): boolean {
  return line.trim().length === 0;
}
