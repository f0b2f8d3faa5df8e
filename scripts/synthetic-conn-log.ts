import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ConnRecord } from '../pipeline/read/conn-record.js';
import { seededRandom } from '../model/random.js';

export interface SyntheticOptions {
  rows: number;
  seed?: number;
  /** Epoch seconds of the first row's hour; `#open` is written from it. */
  startTs?: number;
  /** The span the rows' timestamps are spread over (a rotation interval). */
  durationSeconds?: number;
}

export type Rng = () => number;

export const DEFAULT_SEED = 1;
// 2024-04-19 00:00:01 UTC: Zeek's first rotation of a day opens a second after midnight.
export const DEFAULT_START_TS = 1713484801;
export const DEFAULT_DURATION_SECONDS = 3600;

/** The 21 columns of a Zeek 6 conn.log (later releases append ip_proto, which 6 does not write). */
export const CONN_TSV_FIELDS = [
  'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service', 'duration',
  'orig_bytes', 'resp_bytes', 'conn_state', 'local_orig', 'local_resp', 'missed_bytes', 'history',
  'orig_pkts', 'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes', 'tunnel_parents',
] as const;

export const CONN_TSV_TYPES = [
  'time', 'string', 'addr', 'port', 'addr', 'port', 'enum', 'string', 'interval',
  'count', 'count', 'string', 'bool', 'bool', 'count', 'string',
  'count', 'count', 'count', 'count', 'set[string]',
] as const;

/** Lines of a synthetic file that are not rows: the 8 header lines and `#close`. */
export const SYNTHETIC_NON_DATA_LINES = 9;

/** mulberry32 (model/random.ts): tiny, fast and good enough for test data; the same seed always gives the same file. */
export const mulberry32: (seed: number) => Rng = seededRandom;

// ---------------------------------------------------------------------------------------------
// Small random helpers

export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

export function between(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

function normal(rng: Rng): number {
  // Box-Muller; 1 - u keeps the logarithm's argument away from zero.
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** Byte counts and durations of real traffic are heavy-tailed: a few flows carry most of the bytes. */
export function logNormal(rng: Rng, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(rng));
}

export type Weighted<T> = readonly (readonly [number, T])[];

export function weighted<T>(rng: Rng, table: Weighted<T>): T {
  let total = 0;
  for (const [w] of table) total += w;
  let r = rng() * total;
  for (const [w, value] of table) {
    r -= w;
    if (r < 0) return value;
  }
  const last = table[table.length - 1];
  if (last === undefined) throw new Error('weighted pick from an empty table');
  return last[1];
}

/** Zeek logs time and interval with microsecond precision; rounding here makes a read record equal the generated one. */
export function micro(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

/** A positive interval: Zeek only logs duration (and the byte counts with it) when it is above zero. */
export function positiveMicro(seconds: number): number {
  return Math.max(1e-6, micro(seconds));
}

// ---------------------------------------------------------------------------------------------
// Hosts. Derived from an index by hashing rather than stored, so pools cost no memory and a
// skewed index gives the few busy hosts and popular servers real networks have.

function hash32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

const INTERNAL_HOSTS = 2000;
const EXTERNAL_SERVERS = 250_000;
const DNS_RESOLVER = '10.1.0.53';
const GATEWAY = '10.1.0.1';
const GATEWAY_V6 = 'fd3c:9a1e:77b0:1::1';
const PUBLIC_RESOLVERS = ['8.8.8.8', '1.1.1.1', '9.9.9.9', '208.67.222.222'] as const;

function internalIndex(rng: Rng): number {
  const u = rng();
  return Math.floor(INTERNAL_HOSTS * u * u);
}

function internalV4(index: number): string {
  // Most of the estate on a routed 10/8 campus, the rest on a branch office's 192.168/16.
  if (index < 1500) return `10.1.${1 + Math.floor(index / 250)}.${(index % 250) + 2}`;
  const k = index - 1500;
  return `192.168.${1 + Math.floor(k / 250)}.${(k % 250) + 2}`;
}

function internalV6(index: number): string {
  return `fd3c:9a1e:77b0:${(1 + Math.floor(index / 250)).toString(16)}::${(hash32(index) & 0xffff).toString(16)}`;
}

function isReservedV4(a: number, b: number): boolean {
  return (
    a === 0 || a === 10 || a === 127 || a >= 224 ||
    (a === 100 && b >= 64 && b < 128) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b < 32) ||
    (a === 192 && (b === 168 || b === 0)) ||
    (a === 198 && (b === 18 || b === 19 || b === 51)) ||
    (a === 203 && b === 0)
  );
}

function externalV4(index: number): string {
  let h = hash32(index + 0x9e3779b9);
  for (;;) {
    const a = h >>> 24;
    const b = (h >>> 16) & 0xff;
    if (!isReservedV4(a, b)) return `${a}.${b}.${(h >>> 8) & 0xff}.${h & 0xff}`;
    h = hash32(h);
  }
}

const V6_PREFIXES = ['2606:4700', '2a00:1450', '2620:1ec', '2a03:2880', '2604:a880', '2001:67c'] as const;

function externalV6(index: number): string {
  const h = hash32(index + 0x51ed27);
  const prefix = V6_PREFIXES[h % V6_PREFIXES.length] ?? '2001:67c';
  return `${prefix}:${((h >>> 8) & 0xfff).toString(16)}::${(hash32(h) & 0xffff).toString(16)}`;
}

function externalServer(rng: Rng, v6: boolean): string {
  const u = rng();
  // Popular destinations (CDNs, SaaS) dominate; a fifth of flows go to the long tail.
  const index = rng() < 0.8 ? Math.floor(EXTERNAL_SERVERS * u * u * u * u) : Math.floor(u * 0xffffffff);
  return v6 ? externalV6(index) : externalV4(index);
}

export function ephemeralPort(rng: Rng): number {
  // Windows hands out 49152-65535, Linux 32768-60999.
  return rng() < 0.6 ? between(rng, 49152, 65535) : between(rng, 32768, 60999);
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Zeek's uid is 'C' and a 96-bit random number in base 62, so it is one character short when that number is small. */
export function zeekUid(rng: Rng): string {
  const length = rng() < 1 / 62 ? 16 : 17;
  let uid = 'C';
  for (let i = 0; i < length; i++) uid += BASE62[Math.floor(rng() * 62)] ?? '0';
  return uid;
}

// ---------------------------------------------------------------------------------------------
// Flow shapes: what a conn.log row says about a connection apart from its endpoints.

export interface Shape {
  service: string | null;
  duration: number | null;
  orig_bytes: number | null;
  resp_bytes: number | null;
  conn_state: string;
  history: string | null;
  orig_pkts: number;
  orig_ip_bytes: number;
  resp_pkts: number;
  resp_ip_bytes: number;
}

export interface Payload {
  service: string;
  /** Medians and spreads of the log-normal byte counts and duration of a completed connection. */
  orig: readonly [number, number];
  resp: readonly [number, number];
  duration: readonly [number, number];
}

export const SSL: Payload = { service: 'ssl', orig: [1400, 1.2], resp: [6000, 2.0], duration: [2.5, 2.0] };
export const HTTP: Payload = { service: 'http', orig: [480, 0.8], resp: [3500, 2.2], duration: [0.4, 1.8] };
const SSH: Payload = { service: 'ssh', orig: [3200, 1.6], resp: [4200, 1.8], duration: [45, 2.0] };
const SMTP: Payload = { service: 'smtp', orig: [9000, 1.8], resp: [600, 0.6], duration: [1.5, 1.2] };
const PROXY: Payload = { service: 'http,ssl', orig: [2500, 1.4], resp: [12000, 2.0], duration: [8, 2.0] };
const UNKNOWN_TCP: Payload = { service: '-', orig: [300, 1.8], resp: [900, 2.2], duration: [1.2, 2.2] };

export type TcpState = 'SF' | 'S0' | 'REJ' | 'RSTO' | 'RSTR' | 'RSTOS0' | 'RSTRH' | 'SH' | 'SHR' | 'S1' | 'S2' | 'S3' | 'OTH';

// Histories as Zeek builds them for each state (upper case: originator; see conn_state() in base/protocols/conn).
const TCP_HISTORIES: Record<TcpState, readonly string[]> = {
  SF: ['ShADadFf', 'ShADadfF', 'ShADdaFf', 'ShAdDaFf', 'ShAdDafF', 'ShADadtFf', 'ShADFadf', 'ShADaFdf'],
  S0: ['S'],
  REJ: ['Sr'],
  RSTO: ['ShADadR', 'ShAdDaR', 'ShADaR', 'ShADadFR'],
  RSTR: ['ShADadr', 'ShAdDar', 'ShADadFr'],
  RSTOS0: ['SR'],
  RSTRH: ['^hr', 'hr'],
  SH: ['F', 'Fa', 'SF'],
  SHR: ['^hf', 'hf'],
  S1: ['ShADad', 'ShAdDa', 'ShAD'],
  S2: ['ShADadF'],
  S3: ['ShADadf'],
  OTH: ['DdA', 'Dd', 'DadA', '^dA', 'DdAa'],
};

// An outbound client connection: mostly completed, with the failures a busy network shows.
const CLIENT_TCP_STATES: Weighted<TcpState> = [
  [72, 'SF'], [6, 'S0'], [3, 'REJ'], [6, 'RSTO'], [3, 'RSTR'], [2, 'SH'], [2, 'S1'],
  [3, 'OTH'], [0.6, 'S3'], [0.6, 'S2'], [0.4, 'RSTOS0'], [0.2, 'RSTRH'], [0.2, 'SHR'],
];

const MSS = 1448;

function tcpHeader(v6: boolean): number {
  // IP plus a TCP header with the timestamp option, as Linux and Windows send after the handshake.
  return v6 ? 72 : 52;
}

function withData(rng: Rng, p: Payload, v6: boolean, state: TcpState, history: string): Shape {
  let ob = Math.round(logNormal(rng, p.orig[0], p.orig[1]));
  let rb = Math.round(logNormal(rng, p.resp[0], p.resp[1]));
  let duration = logNormal(rng, p.duration[0], p.duration[1]);
  if (state === 'RSTO' || state === 'RSTR' || state === 'S1' || state === 'S2' || state === 'S3') {
    // Cut short, or still open when the log rotated: part of a transfer.
    const part = rng();
    ob = Math.round(ob * part);
    rb = Math.round(rb * part);
  }
  if (state === 'S1') duration *= 20;
  ob = Math.min(ob, 2 ** 36);
  rb = Math.min(rb, 2 ** 38);
  const oData = Math.ceil(ob / MSS);
  const rData = Math.ceil(rb / MSS);
  const origPkts = oData + Math.ceil(rData / 2) + 3;
  const respPkts = rData + Math.ceil(oData / 2) + 2;
  const header = tcpHeader(v6);
  // A handful of completed flows go unidentified: too short for the analyzer to confirm its protocol.
  const service = p.service === '-' || (state === 'SF' && rng() < 0.05) ? null : p.service;
  return {
    service,
    duration: positiveMicro(duration),
    orig_bytes: ob,
    resp_bytes: rb,
    conn_state: state,
    history,
    orig_pkts: origPkts,
    orig_ip_bytes: ob + origPkts * header,
    resp_pkts: respPkts,
    resp_ip_bytes: rb + respPkts * header,
  };
}

export function tcpShape(rng: Rng, state: TcpState, p: Payload, v6: boolean, scanner = false): Shape {
  const history = pick(rng, TCP_HISTORIES[state]);
  const syn = scanner ? (rng() < 0.5 ? 40 : 44) : v6 ? 80 : 60;
  const empty = { service: null, orig_bytes: 0, resp_bytes: 0, conn_state: state, history };
  switch (state) {
    case 'S0': {
      // Zeek leaves duration and bytes unset when it saw a single packet; SYN retries (1 s, 3 s) set them.
      const pkts = scanner ? 1 : weighted(rng, [[60, 1], [25, 2], [15, 3]] as const);
      if (pkts === 1) {
        return { ...empty, duration: null, orig_bytes: null, resp_bytes: null, orig_pkts: 1, orig_ip_bytes: syn, resp_pkts: 0, resp_ip_bytes: 0 };
      }
      const duration = (pkts === 2 ? 1 : 3) + rng() * 0.05;
      return { ...empty, duration: positiveMicro(duration), orig_pkts: pkts, orig_ip_bytes: pkts * syn, resp_pkts: 0, resp_ip_bytes: 0 };
    }
    case 'REJ':
      return {
        ...empty,
        duration: positiveMicro(logNormal(rng, scanner ? 0.0004 : 0.02, 1.5)),
        orig_pkts: 1,
        orig_ip_bytes: syn,
        resp_pkts: 1,
        resp_ip_bytes: v6 ? 60 : 40,
      };
    case 'RSTOS0':
      return {
        ...empty,
        duration: positiveMicro(logNormal(rng, 0.05, 1.2)),
        orig_pkts: 2,
        orig_ip_bytes: syn + (v6 ? 60 : 40),
        resp_pkts: 0,
        resp_ip_bytes: 0,
      };
    case 'RSTRH':
    case 'SHR':
    case 'SH': {
      // Half-seen connections: one side only, often a flow whose start predates the capture.
      const one = between(rng, 1, 3);
      const other = state === 'SH' && history === 'Fa' ? 1 : 0;
      const oneSideIsOrig = state === 'SH';
      const header = tcpHeader(v6);
      return {
        ...empty,
        duration: one + other > 1 ? positiveMicro(logNormal(rng, 0.3, 2)) : null,
        orig_bytes: one + other > 1 ? 0 : null,
        resp_bytes: one + other > 1 ? 0 : null,
        orig_pkts: oneSideIsOrig ? one : other,
        orig_ip_bytes: (oneSideIsOrig ? one : other) * header,
        resp_pkts: oneSideIsOrig ? other : one,
        resp_ip_bytes: (oneSideIsOrig ? other : one) * header,
      };
    }
    case 'OTH': {
      // Picked up mid-stream (the sensor started, or the SYN was lost): data but no handshake.
      const shape = withData(rng, UNKNOWN_TCP, v6, 'OTH', history);
      return { ...shape, service: null };
    }
    case 'SF':
    case 'RSTO':
    case 'RSTR':
    case 'S1':
    case 'S2':
    case 'S3':
      return withData(rng, p, v6, state, history);
  }
}

function udpHeader(v6: boolean): number {
  return v6 ? 48 : 28;
}

/** A request/response exchange (DNS, NTP, DHCP) or a longer datagram flow. */
export function udpShape(
  rng: Rng,
  v6: boolean,
  service: string | null,
  request: readonly [number, number],
  response: readonly [number, number],
  exchanges: number,
  answered: number,
  /** A DNS answer repeats the question, so it is never shorter than the request. */
  responseRepeatsRequest = false,
): Shape {
  const header = udpHeader(v6);
  const origPkts = exchanges;
  const oneRequest = Math.max(8, Math.round(logNormal(rng, request[0], request[1])));
  const ob = oneRequest * origPkts;
  if (rng() >= answered) {
    // Unanswered: S0; a lone datagram has no duration, so Zeek leaves duration and bytes unset.
    const duration = origPkts > 1 ? positiveMicro(logNormal(rng, 4, 0.8)) : null;
    return {
      // The analyzer confirms DNS or NTP from the request alone.
      service,
      duration,
      orig_bytes: duration === null ? null : ob,
      resp_bytes: duration === null ? null : 0,
      conn_state: 'S0',
      history: 'D',
      orig_pkts: origPkts,
      orig_ip_bytes: ob + origPkts * header,
      resp_pkts: 0,
      resp_ip_bytes: 0,
    };
  }
  const respPkts = Math.max(1, Math.round(origPkts * (0.6 + rng() * 0.8)));
  const oneResponse = Math.max(8, Math.round(logNormal(rng, response[0], response[1])));
  const rb = (responseRepeatsRequest ? oneRequest + oneResponse : oneResponse) * respPkts;
  return {
    service,
    duration: positiveMicro(logNormal(rng, exchanges > 2 ? 20 : 0.02, 1.4)),
    orig_bytes: ob,
    resp_bytes: rb,
    conn_state: 'SF',
    history: 'Dd',
    orig_pkts: origPkts,
    orig_ip_bytes: ob + origPkts * header,
    resp_pkts: respPkts,
    resp_ip_bytes: rb + respPkts * header,
  };
}

// ---------------------------------------------------------------------------------------------
// Flow kinds: who talks to whom on which port, and how it went.

interface Flow extends Shape {
  orig_h: string;
  orig_p: number;
  resp_h: string;
  resp_p: number;
  proto: 'tcp' | 'udp' | 'icmp';
  local_orig: boolean;
  local_resp: boolean;
}

type FlowKind = (rng: Rng, v6: boolean) => Flow;

function outbound(rng: Rng, v6: boolean, respP: number, proto: Flow['proto'], shape: Shape): Flow {
  const i = internalIndex(rng);
  return {
    ...shape,
    orig_h: v6 ? internalV6(i) : internalV4(i),
    orig_p: ephemeralPort(rng),
    resp_h: externalServer(rng, v6),
    resp_p: respP,
    proto,
    local_orig: true,
    local_resp: false,
  };
}

function internal(rng: Rng, v6: boolean, respH: string | null, respP: number, proto: Flow['proto'], shape: Shape): Flow {
  const i = internalIndex(rng);
  let j = internalIndex(rng);
  if (j === i) j = (j + 1) % INTERNAL_HOSTS;
  return {
    ...shape,
    orig_h: v6 ? internalV6(i) : internalV4(i),
    orig_p: ephemeralPort(rng),
    resp_h: respH ?? (v6 ? internalV6(j) : internalV4(j)),
    resp_p: respP,
    proto,
    local_orig: true,
    local_resp: true,
  };
}

const dns: FlowKind = (rng, v6) => {
  const exchanges = weighted(rng, [[88, 1], [9, 2], [3, 4]] as const);
  const shape = udpShape(rng, v6, 'dns', [44, 0.25], [80, 0.9], exchanges, 0.96, true);
  const where = rng();
  // Clients ask the site resolver; it, and the odd hard-coded client, ask the Internet.
  if (where < 0.7 && !v6) return internal(rng, v6, DNS_RESOLVER, 53, 'udp', shape);
  if (where < 0.9 && !v6) {
    return { ...shape, orig_h: DNS_RESOLVER, orig_p: ephemeralPort(rng), resp_h: externalServer(rng, false), resp_p: 53, proto: 'udp', local_orig: true, local_resp: false };
  }
  const flow = outbound(rng, v6, 53, 'udp', shape);
  return v6 ? flow : { ...flow, resp_h: pick(rng, PUBLIC_RESOLVERS) };
};

const https: FlowKind = (rng, v6) => outbound(rng, v6, rng() < 0.97 ? 443 : 8443, 'tcp', tcpShape(rng, weighted(rng, CLIENT_TCP_STATES), SSL, v6));

const http: FlowKind = (rng, v6) => outbound(rng, v6, rng() < 0.9 ? 80 : 8080, 'tcp', tcpShape(rng, weighted(rng, CLIENT_TCP_STATES), HTTP, v6));

const ssh: FlowKind = (rng, v6) => {
  const shape = tcpShape(rng, weighted(rng, CLIENT_TCP_STATES), SSH, v6);
  return rng() < 0.7 ? internal(rng, v6, null, 22, 'tcp', shape) : outbound(rng, v6, 22, 'tcp', shape);
};

const smtp: FlowKind = (rng, v6) => outbound(rng, v6, pick(rng, [25, 587] as const), 'tcp', tcpShape(rng, weighted(rng, CLIENT_TCP_STATES), SMTP, v6));

// An explicit proxy: Zeek sees the CONNECT in HTTP, then TLS inside the same connection.
const proxied: FlowKind = (rng, v6) => internal(rng, v6, '10.1.0.8', pick(rng, [3128, 8080] as const), 'tcp', tcpShape(rng, 'SF', PROXY, v6));

const otherTcp: FlowKind = (rng, v6) => {
  const port = weighted(rng, [[6, 445], [3, 3389], [2, 8000], [2, 5222], [2, 993], [1, 3306], [1, 9100], [4, 0]] as const);
  const state = weighted(rng, [[55, 'SF'], [12, 'S0'], [10, 'REJ'], [8, 'RSTO'], [5, 'RSTR'], [6, 'OTH'], [4, 'S1']] as const);
  const shape = tcpShape(rng, state, UNKNOWN_TCP, v6);
  const respP = port === 0 ? between(rng, 1024, 65535) : port;
  return rng() < 0.5 ? internal(rng, v6, null, respP, 'tcp', shape) : outbound(rng, v6, respP, 'tcp', shape);
};

const ntp: FlowKind = (rng, v6) => {
  const shape = udpShape(rng, v6, 'ntp', [48, 0.01], [48, 0.01], 1, 0.95);
  return outbound(rng, v6, 123, 'udp', shape);
};

const dhcp: FlowKind = (rng) => {
  const shape = udpShape(rng, false, 'dhcp', [300, 0.05], [300, 0.05], weighted(rng, [[70, 1], [30, 2]] as const), 0.97);
  const i = internalIndex(rng);
  return { ...shape, orig_h: internalV4(i), orig_p: 68, resp_h: GATEWAY, resp_p: 67, proto: 'udp', local_orig: true, local_resp: true };
};

const otherUdp: FlowKind = (rng, v6) => {
  const kind = rng();
  const i = internalIndex(rng);
  const origH = v6 ? internalV6(i) : internalV4(i);
  if (kind < 0.35) {
    // Link-local discovery chatter to multicast groups: never answered, never local.
    const mdns = rng() < 0.6;
    const shape = udpShape(rng, v6, mdns ? 'dns' : null, mdns ? [90, 0.6] : [170, 0.2], [1, 0], 1, 0);
    return {
      ...shape,
      orig_h: origH,
      orig_p: mdns ? 5353 : ephemeralPort(rng),
      resp_h: v6 ? (mdns ? 'ff02::fb' : 'ff02::c') : mdns ? '224.0.0.251' : '239.255.255.250',
      resp_p: mdns ? 5353 : 1900,
      proto: 'udp',
      local_orig: true,
      local_resp: false,
    };
  }
  // Voice, video and QUIC: long datagram flows to the Internet, no analyzer confirms them.
  const exchanges = Math.max(1, Math.round(logNormal(rng, 30, 1.5)));
  const shape = udpShape(rng, v6, null, [600, 0.6], [900, 0.6], exchanges, 0.85);
  const port = weighted(rng, [[5, 443], [2, 3478], [1, 19302], [2, 0]] as const);
  return outbound(rng, v6, port === 0 ? between(rng, 1024, 65535) : port, 'udp', shape);
};

const SCANNED_PORTS = [22, 23, 80, 443, 445, 3389, 8080, 5900, 1433, 3306, 25, 21, 6379, 8443, 2323] as const;

/** The Internet knocking on the perimeter: mostly unanswered SYNs and resets. */
const inboundScan: FlowKind = (rng, v6) => {
  const state = weighted(rng, [[62, 'S0'], [30, 'REJ'], [3, 'RSTOS0'], [5, 'SF']] as const);
  const port = state === 'SF' ? 22 : rng() < 0.9 ? pick(rng, SCANNED_PORTS) : between(rng, 1, 65535);
  const shape = state === 'SF' ? tcpShape(rng, 'SF', { ...SSH, duration: [3, 1.2], orig: [1500, 0.5], resp: [2000, 0.5] }, v6) : tcpShape(rng, state, UNKNOWN_TCP, v6, true);
  const i = internalIndex(rng);
  return {
    ...shape,
    orig_h: externalServer(rng, v6),
    orig_p: ephemeralPort(rng),
    resp_h: v6 ? internalV6(i) : internalV4(i),
    resp_p: port,
    proto: 'tcp',
    local_orig: false,
    local_resp: true,
  };
};

/** ICMP "ports" are the message type (orig_p) and code (resp_p); Zeek keeps no history for them. */
const icmp: FlowKind = (rng, v6) => {
  const header = v6 ? 48 : 28;
  const kind = rng();
  if (kind < 0.6) {
    const pkts = weighted(rng, [[50, 1], [30, 4], [20, between(rng, 5, 60)]] as const);
    const payload = rng() < 0.5 ? 56 : 32;
    const answered = rng() < 0.85;
    const shape: Shape = {
      service: null,
      duration: pkts > 1 ? positiveMicro(pkts - 1 + rng() * 0.05) : answered ? positiveMicro(logNormal(rng, 0.02, 1.2)) : null,
      orig_bytes: null,
      resp_bytes: null,
      conn_state: 'OTH',
      history: null,
      orig_pkts: pkts,
      orig_ip_bytes: pkts * (payload + header),
      resp_pkts: answered ? pkts : 0,
      resp_ip_bytes: answered ? pkts * (payload + header) : 0,
    };
    if (shape.duration !== null) {
      shape.orig_bytes = pkts * payload;
      shape.resp_bytes = answered ? pkts * payload : 0;
    }
    const flow = rng() < 0.7 ? outbound(rng, v6, 0, 'icmp', shape) : internal(rng, v6, null, 0, 'icmp', shape);
    return { ...flow, orig_p: v6 ? 128 : 8, resp_p: 0 };
  }
  // Errors quote the offending packet: one message, no duration.
  const [type, code] = v6 ? pick(rng, [[1, 4], [1, 0], [3, 0], [135, 0], [136, 0]] as const) : pick(rng, [[3, 3], [3, 1], [3, 13], [11, 0], [3, 10]] as const);
  const size = between(rng, 56, 576);
  const shape: Shape = {
    service: null,
    duration: null,
    orig_bytes: null,
    resp_bytes: null,
    conn_state: 'OTH',
    history: null,
    orig_pkts: 1,
    orig_ip_bytes: size,
    resp_pkts: 0,
    resp_ip_bytes: 0,
  };
  const i = internalIndex(rng);
  const fromOutside = rng() < 0.6;
  return {
    ...shape,
    orig_h: fromOutside ? externalServer(rng, v6) : v6 ? GATEWAY_V6 : GATEWAY,
    orig_p: type,
    resp_h: v6 ? internalV6(i) : internalV4(i),
    resp_p: code,
    proto: 'icmp',
    local_orig: !fromOutside,
    local_resp: true,
  };
};

const FLOW_KINDS: Weighted<FlowKind> = [
  [30, dns], [28, https], [8, http], [2, ssh], [1, smtp], [0.3, proxied], [8, otherTcp],
  [3, ntp], [0.5, dhcp], [6, otherUdp], [6, inboundScan], [3, icmp],
];

/**
 * One connection as a Zeek 6 sensor would log it, with `ts` as given. Deterministic in the
 * state of `rng`, so a caller that injects attacks can interleave its own rows reproducibly.
 * The record is exactly what `readConnLog` returns for the line `formatConnRow` writes.
 */
export function syntheticConnRow(rng: Rng, ts: number): ConnRecord {
  const v6 = rng() < 0.02;
  const flow = weighted(rng, FLOW_KINDS)(rng, v6);
  const uid = zeekUid(rng);
  const tunnel = rng();
  let missed = 0;
  if (flow.orig_bytes !== null && flow.orig_bytes + (flow.resp_bytes ?? 0) > 100_000 && rng() < 0.02) {
    // Capture loss hits long transfers: whole segments go missing.
    missed = MSS * between(rng, 1, 40);
  }
  return {
    ts: micro(ts),
    uid,
    'id.orig_h': flow.orig_h,
    'id.orig_p': flow.orig_p,
    'id.resp_h': flow.resp_h,
    'id.resp_p': flow.resp_p,
    proto: flow.proto,
    service: flow.service,
    duration: flow.duration,
    orig_bytes: flow.orig_bytes,
    resp_bytes: flow.resp_bytes,
    conn_state: flow.conn_state,
    local_orig: flow.local_orig,
    local_resp: flow.local_resp,
    missed_bytes: missed,
    history: flow.history,
    orig_pkts: flow.orig_pkts,
    orig_ip_bytes: flow.orig_ip_bytes,
    resp_pkts: flow.resp_pkts,
    resp_ip_bytes: flow.resp_ip_bytes,
    // Zeek 6 leaves it unset unless tunnelled; Bro-era datasets wrote (empty), which readers must also take.
    tunnel_parents: tunnel < 0.002 ? [zeekUid(rng)] : tunnel < 0.003 ? [] : null,
    ip_proto: null,
    extras: null,
  };
}

// ---------------------------------------------------------------------------------------------
// Zeek ASCII writer format

const UNSET = '-';
const EMPTY = '(empty)';

function str(v: string | null): string {
  if (v === null) return UNSET;
  return v === '' ? EMPTY : v;
}

function num(v: number | null): string {
  return v === null ? UNSET : String(v);
}

function seconds(v: number | null): string {
  return v === null ? UNSET : v.toFixed(6);
}

function bool(v: boolean | null): string {
  return v === null ? UNSET : v ? 'T' : 'F';
}

function set(v: string[] | null): string {
  if (v === null) return UNSET;
  return v.length === 0 ? EMPTY : v.join(',');
}

/** One data line in Zeek 6's 21-column layout. Values never hold tabs or commas here, so nothing needs escaping. */
export function formatConnRow(r: ConnRecord): string {
  return [
    seconds(r.ts),
    str(r.uid),
    r['id.orig_h'],
    String(r['id.orig_p']),
    r['id.resp_h'],
    String(r['id.resp_p']),
    r.proto,
    str(r.service),
    seconds(r.duration),
    num(r.orig_bytes),
    num(r.resp_bytes),
    str(r.conn_state),
    bool(r.local_orig),
    bool(r.local_resp),
    num(r.missed_bytes),
    str(r.history),
    num(r.orig_pkts),
    num(r.orig_ip_bytes),
    num(r.resp_pkts),
    num(r.resp_ip_bytes),
    set(r.tunnel_parents),
  ].join('\t');
}

/** Zeek's `#open`/`#close` stamp (`%Y-%m-%d-%H-%M-%S`), in UTC as a sensor set to UTC writes it. */
export function zeekLogTime(epochSeconds: number): string {
  const d = new Date(Math.floor(epochSeconds) * 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}-${two(d.getUTCHours())}-${two(d.getUTCMinutes())}-${two(d.getUTCSeconds())}`;
}

export function syntheticHeader(startTs = DEFAULT_START_TS): string[] {
  return [
    '#separator \\x09',
    '#set_separator\t,',
    `#empty_field\t${EMPTY}`,
    `#unset_field\t${UNSET}`,
    '#path\tconn',
    `#open\t${zeekLogTime(startTs)}`,
    `#fields\t${CONN_TSV_FIELDS.join('\t')}`,
    `#types\t${CONN_TSV_TYPES.join('\t')}`,
  ];
}

/** The whole file, line by line without newlines: header, `rows` rows in time order, `#close`. */
export function* syntheticConnLines(options: SyntheticOptions): Generator<string> {
  const rows = Math.max(0, Math.floor(options.rows));
  const startTs = options.startTs ?? DEFAULT_START_TS;
  const span = options.durationSeconds ?? DEFAULT_DURATION_SECONDS;
  const rng = mulberry32(options.seed ?? DEFAULT_SEED);
  yield* syntheticHeader(startTs);
  // One row per equal slot, jittered inside it: increasing, inside the span, and no need to
  // know all the gaps in advance as a normalized Poisson process would.
  const slot = rows > 0 ? span / rows : 0;
  for (let i = 0; i < rows; i++) {
    yield formatConnRow(syntheticConnRow(rng, startTs + (i + rng()) * slot));
  }
  yield `#close\t${zeekLogTime(startTs + span)}`;
}

const WRITE_CHUNK_CHARS = 1024 * 1024;

function* joinedChunks(lines: Iterable<string>): Generator<string> {
  let parts: string[] = [];
  let size = 0;
  for (const line of lines) {
    parts.push(line);
    size += line.length + 1;
    if (size >= WRITE_CHUNK_CHARS) {
      parts.push('');
      yield parts.join('\n');
      parts = [];
      size = 0;
    }
  }
  if (parts.length > 0) {
    parts.push('');
    yield parts.join('\n');
  }
}

/**
 * Streams a synthetic conn log to `path`, gzip-compressed or plain, in memory that does not
 * grow with `rows`. It is written under a temporary name and renamed at the end, so a file at
 * `path` is always complete: callers may cache it by its existence.
 */
export async function writeSyntheticConnLog(path: string, options: SyntheticOptions & { gzip: boolean }): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.partial`;
  // highWaterMark 1: the generator runs only as fast as the disk (and gzip) take its chunks.
  const source = Readable.from(joinedChunks(syntheticConnLines(options)), { objectMode: true, highWaterMark: 1 });
  const sink = createWriteStream(temporary);
  try {
    if (options.gzip) await pipeline(source, createGzip(), sink);
    else await pipeline(source, sink);
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
