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

export type TextRowParser = (values: readonly string[]) => ConnRecord;

/**
 * Builds the function that turns one row's text values into a record. It is built once per
 * header so that the per-row work is index lookups and one object literal of a fixed shape,
 * which V8 keeps fast.
 */
export function buildTextRowParser(columns: readonly TextColumn[], markers: TextMarkers): TextRowParser {
  const { unset, empty, setSeparator, emptyCellIsUnset } = markers;
  const indexOf = new Map(columns.map((c, i) => [c.name, i]));
  const at = (name: string): number => indexOf.get(name) ?? -1;
  const extras = columns.map((c, index) => ({ ...c, index })).filter((c) => !isKnownField(c.name));

  const isUnset = (v: string | undefined): v is undefined => v === undefined || v === unset || (emptyCellIsUnset && v === '');

  function time(v: string | undefined, field: string): number | null {
    if (isUnset(v)) return null;
    const n = toNumber(v);
    if (!Number.isFinite(n)) throw badValue(field, v, 'a time in epoch seconds');
    return n;
  }
  function count(v: string | undefined, field: string, max: number): number | null {
    if (isUnset(v)) return null;
    const n = toNumber(v);
    if (!Number.isInteger(n) || n < 0 || n > max) {
      throw badValue(field, v, max === 65535 ? 'a port number from 0 to 65535' : 'a whole number of 0 or more');
    }
    return n;
  }
  function interval(v: string | undefined, field: string): number | null {
    if (isUnset(v)) return null;
    const n = toNumber(v);
    if (!Number.isFinite(n)) throw badValue(field, v, 'a duration in seconds');
    return n;
  }
  function bool(v: string | undefined, field: string): boolean | null {
    if (isUnset(v)) return null;
    if (v === 'T') return true;
    if (v === 'F') return false;
    throw badValue(field, v, "'T' or 'F'");
  }
  function text(v: string | undefined): string | null {
    if (isUnset(v)) return null;
    if (v === empty) return '';
    return unescapeZeek(v);
  }
  function set(v: string | undefined): string[] | null {
    if (isUnset(v)) return null;
    if (v === empty) return [];
    return v.split(setSeparator).map(unescapeZeek);
  }
  function required<T>(value: T | null, field: string): T {
    if (value === null) throw new BadLineError(`required field '${field}' is unset`);
    return value;
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

  function extrasOf(values: readonly string[]): Record<string, ZeekValue> | null {
    if (extras.length === 0) return null;
    const out: Record<string, ZeekValue> = {};
    for (const column of extras) out[column.name] = extraValue(values[column.index], column.kind);
    return out;
  }
  // Extra columns are never a reason to drop a row: a value that does not fit its type is kept as text.
  function extraValue(v: string | undefined, kind: FieldKind): ZeekValue {
    if (isUnset(v)) return null;
    switch (kind) {
      case 'set':
        return set(v);
      case 'bool':
        return v === 'T' ? true : v === 'F' ? false : v;
      case 'time':
      case 'interval':
      case 'port':
      case 'count':
      case 'int':
      case 'double': {
        const n = toNumber(v);
        return Number.isFinite(n) ? n : v;
      }
      default:
        return text(v);
    }
  }

  return (v) => ({
    ts: required(time(v[iTs], 'ts'), 'ts'),
    uid: text(v[iUid]),
    'id.orig_h': required(text(v[iOrigH]), 'id.orig_h'),
    'id.orig_p': required(count(v[iOrigP], 'id.orig_p', 65535), 'id.orig_p'),
    'id.resp_h': required(text(v[iRespH]), 'id.resp_h'),
    'id.resp_p': required(count(v[iRespP], 'id.resp_p', 65535), 'id.resp_p'),
    proto: required(text(v[iProto]), 'proto'),
    service: text(v[iService]),
    duration: interval(v[iDuration], 'duration'),
    orig_bytes: count(v[iOrigBytes], 'orig_bytes', MAX_COUNT),
    resp_bytes: count(v[iRespBytes], 'resp_bytes', MAX_COUNT),
    conn_state: text(v[iConnState]),
    local_orig: bool(v[iLocalOrig], 'local_orig'),
    local_resp: bool(v[iLocalResp], 'local_resp'),
    missed_bytes: count(v[iMissed], 'missed_bytes', MAX_COUNT),
    history: text(v[iHistory]),
    orig_pkts: count(v[iOrigPkts], 'orig_pkts', MAX_COUNT),
    orig_ip_bytes: count(v[iOrigIpBytes], 'orig_ip_bytes', MAX_COUNT),
    resp_pkts: count(v[iRespPkts], 'resp_pkts', MAX_COUNT),
    resp_ip_bytes: count(v[iRespIpBytes], 'resp_ip_bytes', MAX_COUNT),
    tunnel_parents: set(v[iTunnel]),
    ip_proto: count(v[iIpProto], 'ip_proto', 255),
    extras: extrasOf(v),
  });
}

/** The kind each column is read as: the conn.log schema for conn columns, the declared type for extras. */
export function columnKinds(names: readonly string[], declaredKinds: readonly FieldKind[]): TextColumn[] {
  const schema = new Map<string, FieldKind>(CONN_FIELDS.map((f) => [f.name, f.kind]));
  return names.map((name, i) => ({ name, kind: schema.get(name) ?? declaredKinds[i] ?? 'string' }));
}

/**
 * `Number()` accepts '', ' 1 ', '0x1f' and 'Infinity', none of which Zeek writes: a value must
 * start with a digit, '-' or '.', and end with a digit or '.'.
 */
export function toNumber(v: string): number {
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
