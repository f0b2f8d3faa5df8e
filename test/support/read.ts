import * as assert from 'node:assert/strict';
import { readConnLog } from '../../pipeline/read/read-conn-log.js';
import type { ReadOptions, ReadSummary } from '../../pipeline/read/log-reader.js';
import { LogReadError } from '../../pipeline/read/log-read-error.js';
import type { ConnRecord } from '../../pipeline/read/conn-record.js';

/** Reads a whole log; iteration errors propagate. */
export async function readAll(file: string, options?: ReadOptions): Promise<{ records: ConnRecord[]; summary: ReadSummary }> {
  const reader = readConnLog(file, options);
  const records: ConnRecord[] = [];
  for await (const batch of reader) records.push(...batch);
  return { records, summary: reader.summary };
}

/** Reads a log that must be rejected, and returns the `LogReadError` (failing on any other outcome). */
export async function readError(
  file: string,
  options?: ReadOptions,
): Promise<LogReadError & { rowsSeen: number; summary: ReadSummary }> {
  const reader = readConnLog(file, options);
  let rowsSeen = 0;
  try {
    for await (const batch of reader) rowsSeen += batch.length;
  } catch (error) {
    if (!(error instanceof LogReadError)) throw error;
    return Object.assign(error, { rowsSeen, summary: reader.summary });
  }
  return assert.fail(`${file} was read (${rowsSeen} rows) but should have been rejected`);
}

/** The conn.log columns of Zeek ≥ 7.1, in the order Zeek writes them. */
export const CONN_FIELDS = [
  'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service', 'duration', 'orig_bytes',
  'resp_bytes', 'conn_state', 'local_orig', 'local_resp', 'missed_bytes', 'history', 'orig_pkts', 'orig_ip_bytes',
  'resp_pkts', 'resp_ip_bytes', 'tunnel_parents', 'ip_proto',
] as const;

export const CONN_TYPES = [
  'time', 'string', 'addr', 'port', 'addr', 'port', 'enum', 'string', 'interval', 'count', 'count', 'string', 'bool',
  'bool', 'count', 'string', 'count', 'count', 'count', 'count', 'set[string]', 'count',
] as const;

export type ConnFieldName = (typeof CONN_FIELDS)[number];

/** The first data line of a log written by `zeekLog` (its header is 8 lines). */
export const FIRST_DATA_LINE = 9;

/** A Zeek TSV header as the ASCII writer prints it. */
export function zeekHeader(options: { path?: string; fields?: readonly string[]; types?: readonly string[] } = {}): string {
  const fields = options.fields ?? CONN_FIELDS;
  const types = options.types ?? CONN_TYPES;
  return [
    '#separator \\x09',
    '#set_separator\t,',
    '#empty_field\t(empty)',
    '#unset_field\t-',
    `#path\t${options.path ?? 'conn'}`,
    '#open\t2024-04-19-00-00-01',
    `#fields\t${fields.join('\t')}`,
    `#types\t${types.join('\t')}`,
  ]
    .map((l) => `${l}\n`)
    .join('');
}

export const ZEEK_CLOSE = '#close\t2024-04-19-01-00-00\n';

/** The values of one plausible conn row, number `i`, with some replaced. */
export function connValues(i: number, overrides: Partial<Record<ConnFieldName, string>> = {}): string[] {
  const base: Record<ConnFieldName, string> = {
    ts: (1713484800 + i * 0.25).toFixed(6),
    uid: `C${i.toString(36).padStart(8, '0')}`,
    'id.orig_h': '10.0.0.5',
    'id.orig_p': String(40000 + (i % 20000)),
    'id.resp_h': '192.0.2.7',
    'id.resp_p': '443',
    proto: 'tcp',
    service: 'ssl',
    duration: '0.512000',
    orig_bytes: String(i),
    resp_bytes: String(2 * i),
    conn_state: 'SF',
    local_orig: 'T',
    local_resp: 'F',
    missed_bytes: '0',
    history: 'ShADadFf',
    orig_pkts: '10',
    orig_ip_bytes: String(i + 400),
    resp_pkts: '12',
    resp_ip_bytes: String(2 * i + 500),
    tunnel_parents: '-',
    ip_proto: '6',
  };
  return CONN_FIELDS.map((f) => overrides[f] ?? base[f]);
}

export function connRow(i: number, overrides: Partial<Record<ConnFieldName, string>> = {}): string {
  return `${connValues(i, overrides).join('\t')}\n`;
}

/** A complete Zeek TSV conn log with `count` good rows. */
export function zeekLog(count: number, options: { close?: boolean; first?: number } = {}): string {
  const first = options.first ?? 0;
  let rows = '';
  for (let i = first; i < first + count; i++) rows += connRow(i);
  return zeekHeader() + rows + (options.close === false ? '' : ZEEK_CLOSE);
}

/** A deterministic pseudo-random byte source (xorshift32), so generated junk is the same on every run. */
export function pseudoRandomBytes(length: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Data lines of a log's text: lines not starting with '#', without a trailing empty line. */
export function dataLinesOf(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.filter((l) => !l.startsWith('#'));
}
