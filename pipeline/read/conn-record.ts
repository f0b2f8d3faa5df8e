import { ownString } from './own-string.js';

/** A value of a column Zeek writes: unset is `null`, sets and vectors are arrays. */
export type ZeekValue = string | number | boolean | string[] | null;

/** One row of any Zeek log, keyed by the file's own column names. */
export type ZeekRow = Record<string, ZeekValue>;

/**
 * One connection, keyed by the conn.log field names operators already know.
 * Required fields are never null: a line without them is a bad line.
 */
export interface ConnRecord {
  ts: number;
  uid: string | null;
  'id.orig_h': string;
  'id.orig_p': number;
  'id.resp_h': string;
  'id.resp_p': number;
  proto: string;
  service: string | null;
  duration: number | null;
  orig_bytes: number | null;
  resp_bytes: number | null;
  conn_state: string | null;
  local_orig: boolean | null;
  local_resp: boolean | null;
  missed_bytes: number | null;
  history: string | null;
  orig_pkts: number | null;
  orig_ip_bytes: number | null;
  resp_pkts: number | null;
  resp_ip_bytes: number | null;
  tunnel_parents: string[] | null;
  ip_proto: number | null;
  /** Columns the record type does not name (`_node_name`, `community_id`, labels, vendor fields), or null when there are none. */
  extras: Record<string, ZeekValue> | null;
}

export type FieldKind = 'time' | 'interval' | 'port' | 'count' | 'int' | 'double' | 'bool' | 'addr' | 'string' | 'set';

export type KnownField = Exclude<keyof ConnRecord, 'extras'>;

/** The conn.log schema as Zeek declares it; `required` fields must be set on every row. */
export const CONN_FIELDS: readonly { name: KnownField; kind: FieldKind; required: boolean }[] = [
  { name: 'ts', kind: 'time', required: true },
  { name: 'uid', kind: 'string', required: false },
  { name: 'id.orig_h', kind: 'addr', required: true },
  { name: 'id.orig_p', kind: 'port', required: true },
  { name: 'id.resp_h', kind: 'addr', required: true },
  { name: 'id.resp_p', kind: 'port', required: true },
  { name: 'proto', kind: 'string', required: true },
  { name: 'service', kind: 'string', required: false },
  { name: 'duration', kind: 'interval', required: false },
  { name: 'orig_bytes', kind: 'count', required: false },
  { name: 'resp_bytes', kind: 'count', required: false },
  { name: 'conn_state', kind: 'string', required: false },
  { name: 'local_orig', kind: 'bool', required: false },
  { name: 'local_resp', kind: 'bool', required: false },
  { name: 'missed_bytes', kind: 'count', required: false },
  { name: 'history', kind: 'string', required: false },
  { name: 'orig_pkts', kind: 'count', required: false },
  { name: 'orig_ip_bytes', kind: 'count', required: false },
  { name: 'resp_pkts', kind: 'count', required: false },
  { name: 'resp_ip_bytes', kind: 'count', required: false },
  { name: 'tunnel_parents', kind: 'set', required: false },
  { name: 'ip_proto', kind: 'count', required: false },
];

export const REQUIRED_FIELDS: readonly KnownField[] = CONN_FIELDS.filter((f) => f.required).map((f) => f.name);

const KNOWN_NAMES = new Set<string>(CONN_FIELDS.map((f) => f.name));

export function isKnownField(name: string): name is KnownField {
  return KNOWN_NAMES.has(name);
}

/**
 * Zeek's `Log::default_scope_sep` can turn `id.orig_h` into `id_orig_h`, and some
 * exporters flatten it the same way; both mean the same column.
 */
export function canonicalFieldName(name: string): string {
  if (name.startsWith('id_') && KNOWN_NAMES.has(`id.${name.slice(3)}`)) return `id.${name.slice(3)}`;
  return name;
}

/** Maps a `#types` token (`count`, `set[string]`, `table[string]`, `vector[addr]`) to how its values are read. */
export function kindOfZeekType(type: string | undefined): FieldKind {
  if (type === undefined) return 'string';
  if (type.startsWith('set[') || type.startsWith('vector[') || type.startsWith('table[')) return 'set';
  switch (type) {
    case 'time':
    case 'interval':
    case 'port':
    case 'count':
    case 'int':
    case 'double':
    case 'bool':
    case 'addr':
      return type;
    default:
      return 'string';
  }
}

// A dns.log or http.log also has ts, id.* and proto; these columns only a conn log has.
const CONN_ONLY_FIELDS: readonly KnownField[] = ['conn_state', 'history', 'orig_pkts', 'orig_bytes', 'duration'];

/** Why a column list is not a conn log's, or null when it is one. */
export function whyNotConnColumns(fields: readonly string[]): string | null {
  const present = new Set(fields);
  const missing = REQUIRED_FIELDS.filter((f) => !present.has(f));
  if (missing.length > 0) return `it has no ${missing.join(', ')} column${missing.length > 1 ? 's' : ''}, which every conn log has`;
  if (!CONN_ONLY_FIELDS.some((f) => present.has(f))) {
    return `it has none of the columns only a conn log has (${CONN_ONLY_FIELDS.join(', ')})`;
  }
  return null;
}

/**
 * A copy of `record` that owns its strings, without extras. The reader cuts strings out of each
 * chunk's text, and V8 keeps a cut of 13 characters or more as a view into its parent: one
 * retained uid would pin a whole chunk. Anything that keeps records beyond their batch (a
 * training sample, scoring candidates) keeps these copies instead.
 */
export function detachedRecord(record: ConnRecord): ConnRecord {
  return {
    ...record,
    uid: own(record.uid),
    'id.orig_h': own(record['id.orig_h']),
    'id.resp_h': own(record['id.resp_h']),
    tunnel_parents: record.tunnel_parents === null ? null : record.tunnel_parents.map(own),
    extras: null,
  };
}

function own<T extends string | null>(text: T): T {
  return (text === null ? null : ownString(text)) as T;
}
