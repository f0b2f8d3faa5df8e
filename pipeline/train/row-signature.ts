import type { ConnRecord } from '../read/conn-record.js';
import { CONTEXT_FEATURE_NAMES } from '../context/context-features.js';

/**
 * The group a training row falls in for the stratified sample: rows with the same signature are
 * taken as repeats of one another, so a large group can be sampled down without the models losing
 * a kind of traffic, while a small one is kept whole.
 *
 * What goes in, and why:
 * - `proto`, `service`, `conn_state`, `local_orig`, `local_resp`: one-hot inputs of the
 *   per-connection model; a value seen a handful of times is exactly what a uniform sample loses.
 * - `history`: hashed into its own input, and the shape of a connection (a handshake and nothing
 *   else, a reset, a half-open); its distinct values are few.
 * - the responder port: exact below 1024, where ports name services; above, only whether it is
 *   registered or ephemeral, since high ports are mostly arbitrary and would split groups to single rows.
 * - bytes each way and the duration, in factor-of-eight buckets: the models see them log-scaled,
 *   so a step of one bucket is a step of the same size in what they see. Factor-of-four buckets
 *   split the 1M-row bench file into 99,616 groups, 55,385 of them a single row, which left the
 *   common traffic less than half of a 200,000-row sample; factor eight, 51,100 groups.
 * - two coarse context values, for the context model: whether the pair is a first contact of the
 *   last hour or so, and the source's connection rate over a minute (a burst, a scan) in
 *   factor-of-eight buckets.
 *
 * Addresses and exact ports are left out: they would make nearly every row a group of its own.
 */
export function rowSignature(record: ConnRecord, context: Float32Array | null): string {
  let signature = `${record.proto}|${record.service ?? '-'}|${record.conn_state ?? '-'}|${record.history ?? '-'}|${flag(record.local_orig)}${flag(record.local_resp)}|${portClass(record['id.resp_p'])}|${bucket(record.orig_bytes)}|${bucket(record.resp_bytes)}|${bucket(record.duration === null ? null : record.duration * MS_PER_SECOND)}`;
  if (context !== null) signature += `|${context[PAIR_NEWNESS]! > NEW_PAIR ? 'n' : 'o'}${bucket(context[SRC_CONNS_1M]!)}`;
  return signature;
}

const MS_PER_SECOND = 1000;
const WELL_KNOWN_PORTS = 1024;
// IANA's split between registered and dynamic ports.
const DYNAMIC_PORTS = 49_152;
// A pair whose newness (1 at a first contact, halving every hour) is above this was first seen within the hour.
const NEW_PAIR = 0.5;
const PAIR_NEWNESS = contextIndex('pair.newness');
const SRC_CONNS_1M = contextIndex('src.conns_1m');

function contextIndex(name: string): number {
  const index = CONTEXT_FEATURE_NAMES.indexOf(name);
  if (index < 0) throw new Error(`rowSignature: no context feature '${name}'`);
  return index;
}

function flag(value: boolean | null): string {
  return value === null ? '-' : value ? 'T' : 'F';
}

function portClass(port: number): string {
  if (port < WELL_KNOWN_PORTS) return String(port);
  return port < DYNAMIC_PORTS ? 'reg' : 'dyn';
}

// Powers of two per bucket: 3 is a factor of eight.
const BUCKET_BITS = 3;

/** Factor-of-eight buckets of a count: 0 for unset or nothing, then ⌊log₈(1 + value)⌋ + 1. */
function bucket(value: number | null): number {
  if (value === null || !(value > 0)) return 0;
  return Math.floor(Math.log2(1 + value) / BUCKET_BITS) + 1;
}
