import type { ConnRecord } from '../pipeline/read/conn-record.js';

/** Numeric conn.log columns; unset counts as 0. */
export type NumericColumn =
  | 'id.orig_p'
  | 'id.resp_p'
  | 'duration'
  | 'orig_bytes'
  | 'resp_bytes'
  | 'missed_bytes'
  | 'orig_pkts'
  | 'orig_ip_bytes'
  | 'resp_pkts'
  | 'resp_ip_bytes'
  | 'ip_proto';

/** Columns whose values are categories; unset is the category `-`. */
export type CategoryColumn = 'proto' | 'service' | 'conn_state' | 'local_orig' | 'local_resp' | 'history' | 'id.resp_p';

export type AddressColumn = 'id.orig_h' | 'id.resp_h';
export type HashedColumn = 'uid' | 'history';

/** `log1p` compresses counts that span orders of magnitude (bytes, packets, durations). */
export type Scale = 'linear' | 'log1p';

/**
 * One feature: where its value comes from and how it is encoded. A feature writes one output
 * column, except `one-hot`, which writes one per category plus one for categories not seen
 * when fitting (`<other>`).
 */
export type FeatureSpec =
  | { name: string; kind: 'numeric'; column: NumericColumn; scale: Scale }
  | { name: string; kind: 'ratio'; numerator: NumericColumn; denominator: NumericColumn; scale: Scale }
  | { name: string; kind: 'address-int'; column: AddressColumn }
  | { name: string; kind: 'hash'; column: HashedColumn; buckets: number }
  | { name: string; kind: 'one-hot'; column: CategoryColumn; maxCategories: number }
  | { name: string; kind: 'flag'; column: 'local_orig' | 'local_resp' | 'private-orig' | 'private-resp' };

export type FeatureKind = FeatureSpec['kind'];

export interface Preset {
  name: string;
  description: string;
  features: readonly FeatureSpec[];
}

/**
 * Reads one numeric column, with unset as 0. A function per column, each naming its property: a
 * load V8 specialises, where `record[column]` in one function shared by every column is not.
 */
export function numericReader(column: NumericColumn): (record: ConnRecord) => number {
  switch (column) {
    case 'id.orig_p':
      return (r) => r['id.orig_p'];
    case 'id.resp_p':
      return (r) => r['id.resp_p'];
    case 'duration':
      return (r) => r.duration ?? 0;
    case 'orig_bytes':
      return (r) => r.orig_bytes ?? 0;
    case 'resp_bytes':
      return (r) => r.resp_bytes ?? 0;
    case 'missed_bytes':
      return (r) => r.missed_bytes ?? 0;
    case 'orig_pkts':
      return (r) => r.orig_pkts ?? 0;
    case 'orig_ip_bytes':
      return (r) => r.orig_ip_bytes ?? 0;
    case 'resp_pkts':
      return (r) => r.resp_pkts ?? 0;
    case 'resp_ip_bytes':
      return (r) => r.resp_ip_bytes ?? 0;
    case 'ip_proto':
      return (r) => r.ip_proto ?? 0;
  }
}

/** Reads a category column as text, with unset as `-` (Zeek's own unset marker). */
export function categoryValue(record: ConnRecord, column: CategoryColumn): string {
  const value = record[column];
  if (value === null) return '-';
  if (typeof value === 'boolean') return value ? 'T' : 'F';
  return String(value);
}
