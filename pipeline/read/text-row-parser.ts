import { BadLineError } from './log-read-error.js';
import { ownString } from './own-string.js';
import { spanValues, type TextMarkers } from './span-values.js';
import { decimalAt } from './zeek-text-values.js';
import { isKnownField, kindOfZeekType, type ConnRecord, type FieldKind, type ZeekValue } from './conn-record.js';
import type { FieldSpans } from './field-spans.js';
import type { TextColumn } from './log-schema.js';

export type TextRowParser = (row: FieldSpans) => ConnRecord;

/**
 * Builds the function that turns one row of a conn log into a record. It is built once per
 * header so that the per-row work is index lookups and one object literal of a fixed shape, which
 * V8 keeps fast. Conn columns are read as the conn.log schema types them, extra columns as the
 * file declares them (as strings where it declares nothing, as in a CSV export).
 */
export function buildTextRowParser(columns: readonly TextColumn[], markers: TextMarkers): TextRowParser {
  const indexOf = new Map(columns.map((c, i) => [c.name, i]));
  const at = (name: string): number => indexOf.get(name) ?? -1;
  const extras = columns.flatMap((c, index) => (isKnownField(c.name) ? [] : [{ name: c.name, kind: kindOfZeekType(c.type ?? undefined), index }]));
  const { isUnset, time, count, interval, bool, text, plain, address, proto, set } = spanValues(markers);

  /**
   * Columns with few distinct values (service, conn_state, history) return a string seen
   * before when the bytes match: no allocation for most rows, and records share their strings.
   */
  function interned(row: FieldSpans, k: number, table: InternTable): string | null {
    if (isUnset(row, k)) return null;
    return table.lookup(row, k) ?? text(row, k);
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
        const n = decimalAt(row.bytes, row.starts[k]!, row.ends[k]!);
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
    proto: required(proto(row, iProto, 'proto'), 'proto'),
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
