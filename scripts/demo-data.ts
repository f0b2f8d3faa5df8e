/**
 * A demo sensor archive: what zeekctl leaves in its log directory after a few days on a small
 * office network, with a last day that holds five labeled attacks.
 *
 *   <root>/YYYY-MM-DD/conn.HH:00:00-HH+1:00:00.log.gz   24 hourly files a day (the last one is
 *                                                     conn.23:00:00-00:00:00.log.gz)
 *   <root>/demo-manifest.json                         the days, the counts and every attack row's uid
 *
 * Day folders and file names are in UTC. A real zeekctl names them in the sensor's local time,
 * so read this archive with `nameTimeZone: 'utc'` (or `TZ=UTC`) when the time in a name matters.
 * Each file is a complete Zeek 6 TSV conn log (header, rows in ts order, `#close`). Rows are
 * filed by the hour their connection started; a real sensor files a connection when it ends, so
 * there a long connection can sit in a later file than its ts.
 *
 * The network (fixed, whatever the seed, so every day teaches a model the same habits):
 * - 40 workstations, 10.1.0.100–10.1.0.139: each with its own hours (arrive 07–09, leave 16–19;
 *   ten are left on at night), its own level of activity and its own favourite SaaS/CDN
 *   addresses besides the ones everybody uses;
 * - servers: the gateway 10.1.0.1 (DHCP), the domain controller 10.1.0.10 (DNS resolver, NTP,
 *   Kerberos, LDAP, RPC; it forwards DNS to 1.1.1.1 and 9.9.9.9), the file server 10.1.0.11 (SMB,
 *   backed up every night to an online backup service), the web server 10.1.0.30 (published on
 *   443 and 80: customers, and the Internet's background scanning) and a printer 10.1.0.50.
 * Traffic follows the working day: about six times as many connections at 10:00 as at 03:00.
 * Weekends are not modelled: every day is a working day.
 * Failed connections are part of normal traffic: 2% of the workstations' outbound TCP goes
 * unanswered (S0) and 1% is refused (REJ: a SYN, a reset back, no payload), so a normal day at the
 * default size holds a few hundred refused connections from workstations to Internet :443 and :80,
 * besides the S0s and REJs of the Internet's scanning of the web server. A single refused
 * connection is nothing unusual; the remote-access trojan below is only many of them.
 *
 * The attacks (attack day only; their external hosts are in documentation ranges, which normal
 * traffic never uses):
 * - port-scan: workstation 10.1.0.123 SYN-scans ports 1–1024 of the file server in a few minutes;
 * - syn-flood: 5,000 SYNs from spoofed sources to the web server's 443 in about a minute;
 * - exfiltration: workstation 10.1.0.117 uploads hundreds of MB to 203.0.113.77:443 after hours;
 * - beacon: workstation 10.1.0.131 polls 198.51.100.23 over HTTP every 60 s ± 1.5 s all day;
 * - remote-access-trojan: from shortly after 09:00 to midnight, a trojan on workstation 10.1.0.105
 *   (left on at night) tries to reach its C2 server 192.0.2.66:443 every 5-30 s (uniformly random);
 *   the port is closed, so each of its thousands of attempts is refused (REJ, `Sr`). Each row has
 *   the shape of the office's ordinary refused connections; only their number, regularity and
 *   sameness (one host, one address, one port, all day) give it away.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import type { FindingEntity } from '../db/findings.js';
import type { ConnRecord } from '../pipeline/read/conn-record.js';
import {
  HTTP,
  SSL,
  between,
  ephemeralPort,
  formatConnRow,
  logNormal,
  micro,
  mulberry32,
  pick,
  positiveMicro,
  syntheticHeader,
  tcpShape,
  udpShape,
  weighted,
  zeekLogTime,
  zeekUid,
  type Payload,
  type Rng,
  type Shape,
  type TcpState,
  type Weighted,
} from './synthetic-conn-log.js';

// ---------------------------------------------------------------------------------------------
// Public API

export interface DemoOptions {
  /** Normal days before the attack day. */
  days: number;
  /** Append a last day with the five attacks mixed into its normal traffic. */
  attackDay: boolean;
  /** Average rows per hour over a day; busy hours get more, night hours fewer. */
  rowsPerHour: number;
  seed: number;
  /** The first day, `YYYY-MM-DD` (UTC). */
  startDate: string;
}

export type DemoAttackName = 'port-scan' | 'syn-flood' | 'exfiltration' | 'beacon' | 'remote-access-trojan';

export interface DemoAttack {
  name: DemoAttackName;
  description: string;
  /** The uid of every row the attack added, in ts order. */
  uids: string[];
  rows: number;
  /** ISO 8601 (UTC) time of the attack's first and last row. */
  start: string;
  end: string;
}

export interface DemoManifest {
  /** Every day folder written, oldest first; the attack day is the last. */
  days: string[];
  attackDay: string | null;
  files: number;
  /** Data rows in all files, normal and attack. */
  rows: number;
  attacks: DemoAttack[];
  seed: number;
  rowsPerHour: number;
}

// 2024-04-15 is a Monday: the default archive runs Monday to Thursday.
export const DEMO_DEFAULTS: Readonly<DemoOptions> = { days: 3, attackDay: true, rowsPerHour: 3000, seed: 1, startDate: '2024-04-15' };

export const DEMO_MANIFEST_FILE = 'demo-manifest.json';

/** `conn.HH:00:00-HH+1:00:00.log.gz`; the last hour of a day ends at `00:00:00`. */
export function demoLogFileName(hour: number): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `conn.${two(hour)}:00:00-${two((hour + 1) % 24)}:00:00.log.gz`;
}

const WORKSTATION_COUNT = 40;
const FIRST_WORKSTATION = 100;

/** The demo network's addresses, for a demo to print. */
export const DEMO_NETWORK = {
  localNet: '10.1.0.0/24',
  gateway: '10.1.0.1',
  domainController: '10.1.0.10',
  fileServer: '10.1.0.11',
  webServer: '10.1.0.30',
  printer: '10.1.0.50',
  workstations: `10.1.0.${FIRST_WORKSTATION}-10.1.0.${FIRST_WORKSTATION + WORKSTATION_COUNT - 1}`,
  upstreamResolvers: ['1.1.1.1', '9.9.9.9'],
  attack: {
    scanner: '10.1.0.123',
    floodTarget: '10.1.0.30:443',
    exfiltrator: '10.1.0.117',
    exfiltrationDestination: '203.0.113.77',
    beaconHost: '10.1.0.131',
    beaconDestination: '198.51.100.23',
    trojanHost: '10.1.0.105',
    trojanC2: '192.0.2.66',
    trojanC2Port: 443,
  },
} as const;

const { attack } = DEMO_NETWORK;

/** Each attack as the findings should report it: the finding type, and whether a finding's entity is the attack's. */
export const DEMO_ATTACK_FINDINGS: readonly { attack: DemoAttackName; type: string; isIt: (finding: FindingEntity) => boolean }[] = [
  { attack: 'port-scan', type: 'port-scan', isIt: (f) => f.src === attack.scanner },
  { attack: 'syn-flood', type: 'flood', isIt: (f) => `${f.dst}:${f.port}` === attack.floodTarget },
  { attack: 'exfiltration', type: 'exfiltration', isIt: (f) => f.src === attack.exfiltrator && f.dst === attack.exfiltrationDestination },
  { attack: 'beacon', type: 'beacon', isIt: (f) => f.src === attack.beaconHost && f.dst === attack.beaconDestination },
  { attack: 'remote-access-trojan', type: 'refused-retries', isIt: (f) => f.src === attack.trojanHost && f.dst === attack.trojanC2 && f.port === attack.trojanC2Port },
];

/**
 * Writes the archive under `root` (creating it; files already there with the same names are
 * replaced, others are left alone) and `demo-manifest.json` last, so a manifest means a complete
 * archive. Deterministic: the same options give the same bytes.
 */
export async function writeDemoArchive(root: string, options: Partial<DemoOptions> = {}): Promise<DemoManifest> {
  const o = resolveOptions(options);
  const startDay = parseDate(o.startDate);
  const totalDays = o.days + (o.attackDay ? 1 : 0);
  const days: string[] = [];
  for (let d = 0; d < totalDays; d++) days.push(dateName(startDay + d * DAY));

  const attacks = o.attackDay ? buildAttacks(o.seed, startDay + o.days * DAY) : [];
  const attackRows = attacks.flatMap((a) => a.records);
  attackRows.sort(byTs);

  await mkdir(root, { recursive: true });
  let files = 0;
  let rows = 0;
  // zlib compresses one hour on the thread pool while this thread makes up the next.
  let writing: Promise<void> | null = null;
  for (let d = 0; d < totalDays; d++) {
    const dayStart = startDay + d * DAY;
    const dir = join(root, dateName(dayStart));
    await mkdir(dir, { recursive: true });
    const scheduled = scheduledNormalRows(o.seed, d, dayStart);
    if (d === o.days) scheduled.push(...attackRows);
    scheduled.sort(byTs);
    const byHour = bucketByHour(scheduled, dayStart);
    for (let hour = 0; hour < 24; hour++) {
      const hourStart = dayStart + hour * HOUR;
      const normal = hourOfTraffic(o, d, hour, hourStart);
      const records = mergeByTs(normal, byHour[hour] ?? []);
      const text = logText(hourStart, records);
      if (writing !== null) await writing;
      writing = writeGzipLog(join(dir, demoLogFileName(hour)), text);
      // Handled when awaited; this only keeps a failure during the next await from counting as unhandled.
      writing.catch(() => undefined);
      files++;
      rows += records.length;
    }
  }
  if (writing !== null) await writing;

  const manifest: DemoManifest = {
    days,
    attackDay: o.attackDay ? (days[days.length - 1] ?? null) : null,
    files,
    rows,
    attacks: attacks.map(({ name, description, records }) => ({
      name,
      description,
      uids: records.map((r) => r.uid ?? ''),
      rows: records.length,
      start: isoTime(records[0]?.ts ?? 0),
      end: isoTime(records[records.length - 1]?.ts ?? 0),
    })),
    seed: o.seed,
    rowsPerHour: o.rowsPerHour,
  };
  const manifestPath = join(root, DEMO_MANIFEST_FILE);
  const temporary = `${manifestPath}.${process.pid}.partial`;
  await writeFile(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(temporary, manifestPath);
  return manifest;
}

/** Reads `<root>/demo-manifest.json`, checking that it has the manifest's shape. */
export async function loadDemoManifest(root: string): Promise<DemoManifest> {
  const path = join(root, DEMO_MANIFEST_FILE);
  const text = await readFile(path, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not JSON: ${(error as Error).message}`);
  }
  const problem = manifestProblem(value);
  if (problem !== null) throw new Error(`${path} is not a demo manifest: ${problem}`);
  return value as DemoManifest;
}

function manifestProblem(value: unknown): string | null {
  if (!isObject(value)) return 'it is not an object';
  if (!isStringArray(value.days)) return '`days` is not a list of dates';
  if (value.attackDay !== null && typeof value.attackDay !== 'string') return '`attackDay` is neither a date nor null';
  for (const key of ['files', 'rows', 'seed', 'rowsPerHour'] as const) {
    if (typeof value[key] !== 'number') return `\`${key}\` is not a number`;
  }
  if (!Array.isArray(value.attacks)) return '`attacks` is not a list';
  for (const [i, attack] of (value.attacks as unknown[]).entries()) {
    if (!isObject(attack)) return `attacks[${i}] is not an object`;
    for (const key of ['name', 'description', 'start', 'end'] as const) {
      if (typeof attack[key] !== 'string') return `attacks[${i}].${key} is not a string`;
    }
    if (!isStringArray(attack.uids)) return `attacks[${i}].uids is not a list of uids`;
    if (typeof attack.rows !== 'number') return `attacks[${i}].rows is not a number`;
  }
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function resolveOptions(options: Partial<DemoOptions>): DemoOptions {
  const o: DemoOptions = { ...DEMO_DEFAULTS };
  for (const [key, value] of Object.entries(options) as [keyof DemoOptions, unknown][]) {
    if (value !== undefined) Object.assign(o, { [key]: value });
  }
  if (!Number.isInteger(o.days) || o.days < 0) throw new RangeError(`days must be a whole number ≥ 0, not ${o.days}`);
  if (o.days === 0 && !o.attackDay) throw new RangeError('no days to write: days is 0 and attackDay is false');
  if (!Number.isFinite(o.rowsPerHour) || o.rowsPerHour <= 0) throw new RangeError(`rowsPerHour must be above 0, not ${o.rowsPerHour}`);
  if (!Number.isInteger(o.seed)) throw new RangeError(`seed must be a whole number, not ${o.seed}`);
  parseDate(o.startDate);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Time

const HOUR = 3600;
const DAY = 24 * HOUR;

/** Epoch seconds of a `YYYY-MM-DD` midnight, UTC. */
function parseDate(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(ms) || dateName(ms / 1000) !== date) throw new RangeError(`startDate must be a date as YYYY-MM-DD, not ${JSON.stringify(date)}`);
  return ms / 1000;
}

function dateName(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 10);
}

function isoTime(epochSeconds: number): string {
  return new Date(Math.round(epochSeconds * 1000)).toISOString();
}

function clock(epochSeconds: number): string {
  return new Date(Math.floor(epochSeconds) * 1000).toISOString().slice(11, 19);
}

// ---------------------------------------------------------------------------------------------
// Seeds: every hour has its own stream, so an hour's rows depend only on (seed, day, hour).

function mix(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const v of values) {
    h = Math.imul(h ^ (v >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

// ---------------------------------------------------------------------------------------------
// The network

const LAN = '10.1.0.';
const GATEWAY = DEMO_NETWORK.gateway;
const DC = DEMO_NETWORK.domainController;
const FILES = DEMO_NETWORK.fileServer;
const WEB = DEMO_NETWORK.webServer;
const PRINTER = DEMO_NETWORK.printer;
const UPSTREAM_RESOLVERS = DEMO_NETWORK.upstreamResolvers;
const NTP_SERVERS = ['162.159.200.1', '162.159.200.123'] as const;

function isLocal(address: string): boolean {
  return address.startsWith(LAN);
}

function isReservedV4(a: number, b: number, c: number): boolean {
  return (
    a === 0 || a === 10 || a === 127 || a >= 224 ||
    (a === 100 && b >= 64 && b < 128) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b < 32) ||
    (a === 192 && (b === 168 || (b === 0 && (c === 0 || c === 2)))) ||
    (a === 198 && (b === 18 || b === 19 || (b === 51 && c === 100))) ||
    (a === 203 && b === 0 && c === 113)
  );
}

/** A routable, non-documentation IPv4 address from 32 random bits. */
function publicV4(bits: number): string {
  let h = bits >>> 0;
  for (;;) {
    const a = h >>> 24;
    const b = (h >>> 16) & 0xff;
    const c = (h >>> 8) & 0xff;
    if (!isReservedV4(a, b, c)) return `${a}.${b}.${c}.${h & 0xff}`;
    h = mix(h, 0x5eed);
  }
}

function randomPublicV4(rng: Rng): string {
  return publicV4(Math.floor(rng() * 0x100000000));
}

// Addresses in cloud and CDN ranges stand for the SaaS services an office uses; which service
// each one is does not matter, only that the same hosts keep going back to the same few.
const CLOUD_PREFIXES = [
  '13.107', '20.190', '40.126', '52.96', '52.113', '142.250', '172.217', '104.16', '104.18', '151.101',
  '140.82', '162.125', '23.215', '35.186', '34.107', '3.120', '18.184', '54.230',
] as const;
const SAAS: readonly string[] = Array.from({ length: 48 }, (_, k) => {
  const h = mix(k, 0x5aa5);
  return `${CLOUD_PREFIXES[k % CLOUD_PREFIXES.length] ?? '13.107'}.${(h >>> 8) & 0xff}.${(h % 254) + 1}`;
});
/** Everybody's: mail, identity, office suite, search, OS updates. */
const COMMON = SAAS.slice(0, 10);
const COMMON_WEIGHTS: Weighted<string> = COMMON.map((a, r) => [1 / (r + 1), a] as const);
/** Certificate status and OS update hosts, still fetched over plain HTTP. */
const HTTP_HOSTS: Weighted<string> = [[5, SAAS[2] ?? ''], [3, SAAS[12] ?? ''], [2, SAAS[30] ?? '']];
const QUIC_HOSTS = SAAS.filter((a) => a.startsWith('142.250.') || a.startsWith('172.217.') || a.startsWith('104.16.'));
const MEETING_RELAYS = [SAAS[4] ?? '', SAAS[22] ?? ''];
/** Where the file server's nightly backup goes, and where the web server gets its updates: nobody else's. */
const BACKUP_SERVICE = publicV4(mix(1, 0xbac0));
const UPDATE_MIRRORS = [publicV4(mix(2, 0xa97)), publicV4(mix(3, 0xa97))];
/** The rest of the web: seen now and then, a few times at most. */
const LONG_TAIL = 4000;
/** The web server's customers: a few regulars and a long tail. */
const CUSTOMERS = 20_000;

interface Workstation {
  address: string;
  activity: number;
  arrive: number;
  leave: number;
  alwaysOn: boolean;
  favourites: Weighted<string>;
  meetings: boolean;
  admin: boolean;
}

const WORKSTATIONS: readonly Workstation[] = (() => {
  const rng = mulberry32(0x0ff1ce);
  const hosts: Workstation[] = [];
  const others = SAAS.slice(COMMON.length);
  for (let i = 0; i < WORKSTATION_COUNT; i++) {
    const pool = [...others];
    const favourites: [number, string][] = [];
    const count = between(rng, 5, 9);
    for (let f = 0; f < count; f++) {
      const [address] = pool.splice(Math.floor(rng() * pool.length), 1);
      if (address !== undefined) favourites.push([1 / (f + 1), address]);
    }
    hosts.push({
      address: `${LAN}${FIRST_WORKSTATION + i}`,
      activity: 0.4 + 1.6 * rng() * rng(),
      arrive: between(rng, 7, 9),
      leave: between(rng, 16, 19),
      alwaysOn: i % 4 === 1,
      favourites,
      meetings: rng() < 0.6,
      admin: i === 0,
    });
  }
  return hosts;
})();

/** Office activity by hour of day (UTC), peak 1: arrivals, a lunch dip, departures. */
const OFFICE_ACTIVITY = [
  0.04, 0.03, 0.03, 0.03, 0.03, 0.05, 0.12, 0.35, 0.8, 1.0, 1.0, 0.95,
  0.7, 0.9, 1.0, 0.95, 0.85, 0.6, 0.3, 0.15, 0.1, 0.08, 0.06, 0.05,
] as const;
/** Servers, customers and Internet noise: the same all day, as a share of a peak hour. */
const BACKGROUND = 0.12;
const ACTIVITY_SUM = OFFICE_ACTIVITY.reduce((s, a) => s + a + BACKGROUND, 0);

const ALWAYS_ON = WORKSTATIONS.filter((h) => h.alwaysOn);

function present(host: Workstation, hour: number): boolean {
  return host.alwaysOn || (hour >= host.arrive && hour < host.leave);
}

function isWorkingHour(hour: number): boolean {
  return hour >= 8 && hour < 18;
}

// ---------------------------------------------------------------------------------------------
// Normal traffic

function record(rng: Rng, ts: number, origH: string, origP: number, respH: string, respP: number, proto: 'tcp' | 'udp' | 'icmp', shape: Shape): ConnRecord {
  return {
    ts,
    uid: zeekUid(rng),
    'id.orig_h': origH,
    'id.orig_p': origP,
    'id.resp_h': respH,
    'id.resp_p': respP,
    proto,
    service: shape.service,
    duration: shape.duration,
    orig_bytes: shape.orig_bytes,
    resp_bytes: shape.resp_bytes,
    conn_state: shape.conn_state,
    local_orig: isLocal(origH),
    local_resp: isLocal(respH),
    missed_bytes: 0,
    history: shape.history,
    orig_pkts: shape.orig_pkts,
    orig_ip_bytes: shape.orig_ip_bytes,
    resp_pkts: shape.resp_pkts,
    resp_ip_bytes: shape.resp_ip_bytes,
    tunnel_parents: null,
    ip_proto: null,
    extras: null,
  };
}

/** A well-run office: almost every connection completes. */
const OFFICE_TCP_STATES: Weighted<TcpState> = [
  [86, 'SF'], [2, 'S0'], [1, 'REJ'], [4, 'RSTO'], [3, 'RSTR'], [2, 'S1'], [1, 'OTH'], [0.5, 'SH'], [0.5, 'S3'],
];
const LAN_TCP_STATES: Weighted<TcpState> = [[93, 'SF'], [3, 'S1'], [2, 'RSTO'], [2, 'RSTR']];
const SERVER_TCP_STATES: Weighted<TcpState> = [[88, 'SF'], [5, 'RSTO'], [4, 'RSTR'], [3, 'S1']];

const SMB: Payload = { service: 'gssapi,smb,krb', orig: [5000, 2.0], resp: [30000, 2.4], duration: [20, 2.0] };
const KRB: Payload = { service: 'krb_tcp', orig: [1500, 0.4], resp: [1600, 0.4], duration: [0.004, 0.8] };
const LDAP: Payload = { service: 'ldap_tcp', orig: [600, 1.0], resp: [2500, 1.4], duration: [0.05, 1.5] };
const RPC: Payload = { service: 'dce_rpc', orig: [250, 0.3], resp: [200, 0.3], duration: [0.003, 0.8] };
const PRINT: Payload = { service: '-', orig: [250_000, 1.2], resp: [150, 0.5], duration: [3, 0.8] };
const SSH_ADMIN: Payload = { service: 'ssh', orig: [8000, 1.2], resp: [20000, 1.5], duration: [300, 1.2] };

type OfficeKind = (rng: Rng, ts: number, host: Workstation, hour: number) => ConnRecord;

function habitualDestination(rng: Rng, host: Workstation): string {
  const r = rng();
  if (r < 0.5) return weighted(rng, COMMON_WEIGHTS);
  if (r < 0.93) return weighted(rng, host.favourites);
  return publicV4(mix(Math.floor(rng() * LONG_TAIL), 0x7a11));
}

function https(rng: Rng, ts: number, host: Workstation): ConnRecord {
  const shape = tcpShape(rng, weighted(rng, OFFICE_TCP_STATES), SSL, false);
  return record(rng, ts, host.address, ephemeralPort(rng), habitualDestination(rng, host), 443, 'tcp', shape);
}

const OFFICE_KINDS: Weighted<OfficeKind> = [
  [30, (rng, ts, host) => {
    const exchanges = weighted(rng, [[90, 1], [8, 2], [2, 4]] as const);
    const shape = udpShape(rng, false, 'dns', [44, 0.25], [90, 0.9], exchanges, 0.995, true);
    return record(rng, ts, host.address, ephemeralPort(rng), DC, 53, 'udp', shape);
  }],
  // The domain controller forwards what it has not cached.
  [7, (rng, ts) => {
    const shape = udpShape(rng, false, 'dns', [44, 0.25], [110, 0.9], 1, 0.99, true);
    return record(rng, ts, DC, between(rng, 49152, 65535), pick(rng, UPSTREAM_RESOLVERS), 53, 'udp', shape);
  }],
  [33, https],
  [4, (rng, ts, host) => {
    const exchanges = Math.max(2, Math.round(logNormal(rng, 25, 1.2)));
    const shape = udpShape(rng, false, 'quic', [900, 0.5], [1100, 0.8], exchanges, 0.97);
    return record(rng, ts, host.address, ephemeralPort(rng), pick(rng, QUIC_HOSTS), 443, 'udp', shape);
  }],
  [5, (rng, ts, host) => {
    const shape = tcpShape(rng, weighted(rng, OFFICE_TCP_STATES), HTTP, false);
    return record(rng, ts, host.address, ephemeralPort(rng), weighted(rng, HTTP_HOSTS), 80, 'tcp', shape);
  }],
  [6, (rng, ts, host) => {
    const shape = tcpShape(rng, weighted(rng, LAN_TCP_STATES), SMB, false);
    if (shape.service !== null && rng() < 0.3) shape.service = 'smb';
    return record(rng, ts, host.address, ephemeralPort(rng), FILES, 445, 'tcp', shape);
  }],
  [2.5, (rng, ts, host) => record(rng, ts, host.address, ephemeralPort(rng), DC, 88, 'tcp', tcpShape(rng, 'SF', KRB, false))],
  [2, (rng, ts, host) => {
    if (rng() < 0.4) {
      const shape = udpShape(rng, false, 'ldap_udp', [220, 0.1], [180, 0.2], 1, 0.99);
      return record(rng, ts, host.address, ephemeralPort(rng), DC, 389, 'udp', shape);
    }
    return record(rng, ts, host.address, ephemeralPort(rng), DC, 389, 'tcp', tcpShape(rng, weighted(rng, LAN_TCP_STATES), LDAP, false));
  }],
  [1, (rng, ts, host) => record(rng, ts, host.address, ephemeralPort(rng), DC, 135, 'tcp', tcpShape(rng, 'SF', RPC, false))],
  [0.7, (rng, ts, host) => {
    const shape = udpShape(rng, false, 'ntp', [48, 0.01], [48, 0.01], 1, 0.99);
    return record(rng, ts, host.address, 123, DC, 123, 'udp', shape);
  }],
  [0.12, (rng, ts, host, hour) => {
    if (!host.meetings || !isWorkingHour(hour)) return https(rng, ts, host);
    // A call's media: tens of datagrams a second each way for the length of the meeting.
    const seconds = logNormal(rng, 1500, 0.6);
    const pkts = Math.round(seconds * (25 + 25 * rng()));
    const out = Math.round(pkts * logNormal(rng, 500, 0.3));
    const back = Math.round(pkts * logNormal(rng, 700, 0.3));
    const shape: Shape = {
      service: null, duration: positiveMicro(seconds), orig_bytes: out, resp_bytes: back, conn_state: 'SF', history: 'Dd',
      orig_pkts: pkts, orig_ip_bytes: out + pkts * 28, resp_pkts: pkts, resp_ip_bytes: back + pkts * 28,
    };
    return record(rng, ts, host.address, between(rng, 50000, 50059), pick(rng, MEETING_RELAYS), 3478 + between(rng, 0, 3), 'udp', shape);
  }],
  [0.3, (rng, ts, host, hour) => {
    if (!isWorkingHour(hour)) return https(rng, ts, host);
    const shape = tcpShape(rng, 'SF', PRINT, false);
    return record(rng, ts, host.address, ephemeralPort(rng), PRINTER, 9100, 'tcp', { ...shape, service: null });
  }],
  [3, (rng, ts, host) => {
    // Discovery chatter to multicast groups: never answered, never local.
    const mdns = rng() < 0.6;
    const shape = udpShape(rng, false, mdns ? 'dns' : null, mdns ? [90, 0.6] : [170, 0.2], [1, 0], 1, 0);
    return mdns
      ? record(rng, ts, host.address, 5353, '224.0.0.251', 5353, 'udp', shape)
      : record(rng, ts, host.address, ephemeralPort(rng), '239.255.255.250', 1900, 'udp', shape);
  }],
  [0.2, (rng, ts, host) => {
    const shape = udpShape(rng, false, 'dhcp', [300, 0.05], [300, 0.05], 1, 0.99);
    return record(rng, ts, host.address, 68, GATEWAY, 67, 'udp', shape);
  }],
  [0.4, (rng, ts, host, hour) => {
    if (!host.admin || !isWorkingHour(hour)) return https(rng, ts, host);
    return record(rng, ts, host.address, ephemeralPort(rng), WEB, 22, 'tcp', tcpShape(rng, 'SF', SSH_ADMIN, false));
  }],
];

const INTERNET_SCANNED_PORTS = [22, 23, 3389, 445, 8080, 5900, 1433, 3306, 25, 21, 6379, 8443, 2323, 5060, 81] as const;

type BackgroundKind = (rng: Rng, ts: number) => ConnRecord;

const BACKGROUND_KINDS: Weighted<BackgroundKind> = [
  // Customers of the web server.
  [50, (rng, ts) => {
    const u = rng();
    const customer = publicV4(mix(Math.floor(CUSTOMERS * u * u * u), 0xc057));
    const tls = rng() < 0.9;
    const shape = tcpShape(rng, weighted(rng, SERVER_TCP_STATES), tls ? SSL : HTTP, false);
    return record(rng, ts, customer, ephemeralPort(rng), WEB, tls ? 443 : 80, 'tcp', shape);
  }],
  // The Internet knocking on the published address: unanswered SYNs and resets, one or two per source.
  [25, (rng, ts) => {
    const state: TcpState = rng() < 0.7 ? 'S0' : 'REJ';
    const shape = tcpShape(rng, state, HTTP, false, true);
    return record(rng, ts, randomPublicV4(rng), ephemeralPort(rng), WEB, pick(rng, INTERNET_SCANNED_PORTS), 'tcp', shape);
  }],
  // Machines left on: updates and telemetry to the usual places.
  [20, (rng, ts) => https(rng, ts, pick(rng, ALWAYS_ON))],
  [8, (rng, ts) => {
    const host = pick(rng, ALWAYS_ON);
    const shape = udpShape(rng, false, 'dns', [44, 0.25], [90, 0.9], 1, 0.995, true);
    return record(rng, ts, host.address, ephemeralPort(rng), DC, 53, 'udp', shape);
  }],
  [2, (rng, ts) => {
    const shape = udpShape(rng, false, 'ntp', [48, 0.01], [48, 0.01], 1, 0.98);
    return record(rng, ts, DC, 123, pick(rng, NTP_SERVERS), 123, 'udp', shape);
  }],
  [3, (rng, ts) => {
    const pkts = rng() < 0.7 ? 1 : 4;
    const shape: Shape = {
      service: null, duration: pkts > 1 ? positiveMicro(pkts - 1 + rng() * 0.01) : null,
      orig_bytes: pkts > 1 ? pkts * 56 : null, resp_bytes: pkts > 1 ? pkts * 56 : null, conn_state: 'OTH', history: null,
      orig_pkts: pkts, orig_ip_bytes: pkts * 84, resp_pkts: pkts, resp_ip_bytes: pkts * 84,
    };
    return record(rng, ts, randomPublicV4(rng), 8, WEB, 0, 'icmp', shape);
  }],
];

/** One hour of normal traffic, in ts order. */
function hourOfTraffic(o: DemoOptions, day: number, hour: number, hourStart: number): ConnRecord[] {
  const rng = mulberry32(mix(o.seed, day, hour, 0x4011));
  const office = OFFICE_ACTIVITY[hour] ?? 0;
  const share = (24 * (office + BACKGROUND)) / ACTIVITY_SUM;
  const n = Math.max(0, Math.round(o.rowsPerHour * share * (0.94 + 0.12 * rng())));
  const officeShare = office / (office + BACKGROUND);
  const hosts = WORKSTATIONS.filter((h) => present(h, hour));
  const hostWeights: Weighted<Workstation> = hosts.map((h) => [h.activity, h] as const);

  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) times[i] = rng();
  times.sort();
  const last = hourStart + HOUR - 1e-6;
  const out: ConnRecord[] = new Array<ConnRecord>(n);
  for (let i = 0; i < n; i++) {
    const ts = Math.min(micro(hourStart + (times[i] ?? 0) * HOUR), last);
    out[i] = rng() < officeShare
      ? weighted(rng, OFFICE_KINDS)(rng, ts, weighted(rng, hostWeights), hour)
      : weighted(rng, BACKGROUND_KINDS)(rng, ts);
  }
  return out;
}

/** Normal traffic on a timetable: the file server's nightly backup and the web server's updates. */
function scheduledNormalRows(seed: number, day: number, dayStart: number): ConnRecord[] {
  const rng = mulberry32(mix(seed, day, 0x5c4ed));
  const rows: ConnRecord[] = [];
  let t = dayStart + 1 * HOUR + between(rng, 0, 300) + rng();
  for (let s = 0; s < 3; s++) {
    const bytes = between(rng, 30_000_000, 90_000_000);
    rows.push(bulkUpload(rng, micro(t), FILES, BACKUP_SERVICE, 443, bytes, 4_000_000));
    t += (rows[rows.length - 1]?.duration ?? 0) + between(rng, 5, 30) + rng();
  }
  t = dayStart + 3 * HOUR + between(rng, 0, 600) + rng();
  for (let s = 0; s < 4; s++) {
    const shape = tcpShape(rng, 'SF', { ...HTTP, resp: [400_000, 1.2] }, false);
    rows.push(record(rng, micro(t), WEB, ephemeralPort(rng), pick(rng, UPDATE_MIRRORS), 80, 'tcp', shape));
    t += 1 + rng() * 4;
  }
  return rows;
}

/** One long upload: bytes out at `rate` bytes a second, acknowledgements back. */
function bulkUpload(rng: Rng, ts: number, origH: string, respH: string, respP: number, bytes: number, rate: number): ConnRecord {
  const duration = bytes / (rate * (0.8 + 0.4 * rng()));
  const resp = between(rng, 6_000, 40_000);
  const origPkts = Math.ceil(bytes / 1448) + between(rng, 4, 12);
  const respPkts = Math.ceil(origPkts / 2) + between(rng, 2, 8);
  return record(rng, ts, origH, ephemeralPort(rng), respH, respP, 'tcp', {
    service: 'ssl',
    duration: positiveMicro(duration),
    orig_bytes: bytes,
    resp_bytes: resp,
    conn_state: 'SF',
    history: 'ShADadFf',
    orig_pkts: origPkts,
    orig_ip_bytes: bytes + origPkts * 52,
    resp_pkts: respPkts,
    resp_ip_bytes: resp + respPkts * 52,
  });
}

// ---------------------------------------------------------------------------------------------
// Attacks

interface BuiltAttack {
  name: DemoAttackName;
  description: string;
  records: ConnRecord[];
}

function buildAttacks(seed: number, dayStart: number): BuiltAttack[] {
  const rng = mulberry32(mix(seed, 0xa77ac4));
  // Each attack draws from the one stream in turn: a new attack goes last, so the others keep their rows.
  return [portScan(rng, dayStart), synFlood(rng, dayStart), exfiltration(rng, dayStart), beacon(rng, dayStart), remoteAccessTrojan(rng, dayStart)];
}

const OPEN_ON_FILE_SERVER = new Set([135, 139, 445]);

function portScan(rng: Rng, dayStart: number): BuiltAttack {
  const { scanner } = DEMO_NETWORK.attack;
  const start = dayStart + 10 * HOUR + between(rng, 5 * 60, 45 * 60) + rng();
  const span = 150 + rng() * 90;
  const ports = Array.from({ length: 1024 }, (_, i) => i + 1);
  for (let i = ports.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [ports[i], ports[j]] = [ports[j] ?? 0, ports[i] ?? 0];
  }
  // nmap -sS probes from one source port; the server's firewall drops some ports and refuses the rest.
  const sourcePort = between(rng, 40000, 65000);
  const records = ports.map((port, i) => {
    const ts = micro(start + ((i + rng() * 0.9) * span) / ports.length);
    let shape: Shape;
    if (OPEN_ON_FILE_SERVER.has(port)) {
      // SYN, SYN-ACK, then the scanner's RST: RSTO with no payload.
      shape = {
        service: null, duration: positiveMicro(logNormal(rng, 0.0004, 0.5)), orig_bytes: 0, resp_bytes: 0, conn_state: 'RSTO', history: 'ShR',
        orig_pkts: 2, orig_ip_bytes: 84, resp_pkts: 1, resp_ip_bytes: 44,
      };
    } else if (mix(port, 0xf11e) % 100 < 35) {
      const retried = rng() < 0.2;
      shape = {
        service: null, duration: retried ? positiveMicro(1 + rng() * 0.2) : null, orig_bytes: retried ? 0 : null, resp_bytes: retried ? 0 : null,
        conn_state: 'S0', history: 'S', orig_pkts: retried ? 2 : 1, orig_ip_bytes: retried ? 88 : 44, resp_pkts: 0, resp_ip_bytes: 0,
      };
    } else {
      shape = {
        service: null, duration: positiveMicro(logNormal(rng, 0.0003, 0.5)), orig_bytes: 0, resp_bytes: 0, conn_state: 'REJ', history: 'Sr',
        orig_pkts: 1, orig_ip_bytes: 44, resp_pkts: 1, resp_ip_bytes: 40,
      };
    }
    return record(rng, ts, scanner, sourcePort, FILES, port, 'tcp', shape);
  });
  records.sort(byTs);
  const first = records[0]?.ts ?? start;
  const lastTs = records[records.length - 1]?.ts ?? start;
  return {
    name: 'port-scan',
    description:
      `workstation ${scanner} SYN-scans TCP ports 1-1024 of the file server ${FILES} from one source port, ` +
      `${clock(first)}-${clock(lastTs)} UTC (${Math.round(lastTs - first)} s): REJ (Sr) for closed ports, S0 for ports its firewall drops, ` +
      `RSTO (ShR) for the open ${[...OPEN_ON_FILE_SERVER].join(', ')}; no payload`,
    records,
  };
}

const FLOOD_SYNS = 5000;

function synFlood(rng: Rng, dayStart: number): BuiltAttack {
  const start = dayStart + 15 * HOUR + between(rng, 0, 50 * 60) + rng();
  const span = 55 + rng() * 10;
  const records: ConnRecord[] = [];
  for (let i = 0; i < FLOOD_SYNS; i++) {
    const ts = micro(start + ((i + rng()) * span) / FLOOD_SYNS);
    const shape: Shape = {
      service: null, duration: null, orig_bytes: null, resp_bytes: null, conn_state: 'S0', history: 'S',
      orig_pkts: 1, orig_ip_bytes: 40, resp_pkts: 0, resp_ip_bytes: 0,
    };
    records.push(record(rng, ts, randomPublicV4(rng), between(rng, 1024, 65535), WEB, 443, 'tcp', shape));
  }
  const first = records[0]?.ts ?? start;
  const lastTs = records[records.length - 1]?.ts ?? start;
  return {
    name: 'syn-flood',
    description:
      `${FLOOD_SYNS} bare 40-byte SYNs from as many spoofed Internet sources to the web server ${DEMO_NETWORK.attack.floodTarget}, ` +
      `${clock(first)}-${clock(lastTs)} UTC (${Math.round(lastTs - first)} s); its backlog is full, so none is answered: S0, 1 packet, no bytes`,
    records,
  };
}

function exfiltration(rng: Rng, dayStart: number): BuiltAttack {
  const { exfiltrator, exfiltrationDestination } = DEMO_NETWORK.attack;
  let t = dayStart + 19 * HOUR + between(rng, 10 * 60, 40 * 60) + rng();
  const records: ConnRecord[] = [];
  for (let s = 0; s < 3; s++) {
    const bytes = between(rng, 180_000_000, 420_000_000);
    const r = bulkUpload(rng, micro(t), exfiltrator, exfiltrationDestination, 443, bytes, 1_200_000);
    records.push(r);
    t += (r.duration ?? 0) + between(rng, 20, 120) + rng();
  }
  const total = records.reduce((s, r) => s + (r.orig_bytes ?? 0), 0);
  const first = records[0]?.ts ?? t;
  return {
    name: 'exfiltration',
    description:
      `workstation ${exfiltrator} uploads ${Math.round(total / 1e6)} MB over ${records.length} TLS sessions to ${exfiltrationDestination}:443, ` +
      `a host no one on the network has contacted before, from ${clock(first)} UTC, after hours: ` +
      `${records.map((r) => `${Math.round((r.orig_bytes ?? 0) / 1e6)} MB out / ${Math.round((r.resp_bytes ?? 0) / 1e3)} kB back in ${Math.round((r.duration ?? 0) / 60)} min`).join('; ')}`,
    records,
  };
}

function beacon(rng: Rng, dayStart: number): BuiltAttack {
  const { beaconHost, beaconDestination } = DEMO_NETWORK.attack;
  const dayEnd = dayStart + DAY;
  const records: ConnRecord[] = [];
  let t = dayStart + rng() * 60;
  // Windows hands out source ports in sequence, a few apart between two beacons.
  let port = between(rng, 49700, 52000);
  for (;;) {
    const ts = micro(t);
    if (ts >= dayEnd) break;
    const out = 231 + between(rng, 0, 3);
    const back = 148 + between(rng, 0, 2);
    records.push(
      record(rng, ts, beaconHost, port, beaconDestination, 80, 'tcp', {
        service: 'http', duration: positiveMicro(0.08 + rng() * 0.06), orig_bytes: out, resp_bytes: back, conn_state: 'SF', history: 'ShADadfF',
        orig_pkts: 5, orig_ip_bytes: out + 5 * 52, resp_pkts: 4, resp_ip_bytes: back + 4 * 52,
      }),
    );
    t += 60 + (rng() * 2 - 1) * 1.5;
    port += between(rng, 1, 4);
    if (port > 65535) port = 49152;
  }
  return {
    name: 'beacon',
    description:
      `workstation ${beaconHost} calls ${beaconDestination}:80 over HTTP every 60 s ± 1.5 s all day (${records.length} connections), ` +
      `each SF with 231-234 bytes out and 148-150 bytes back`,
    records,
  };
}

/** Seconds between two of the trojan's attempts: uniformly random in this range. */
const TROJAN_RETRY_SECONDS = [5, 30] as const;

function remoteAccessTrojan(rng: Rng, dayStart: number): BuiltAttack {
  const { trojanHost, trojanC2, trojanC2Port } = DEMO_NETWORK.attack;
  const [minGap, maxGap] = TROJAN_RETRY_SECONDS;
  const dayEnd = dayStart + DAY;
  const records: ConnRecord[] = [];
  // Its user opens the attachment soon after arriving; the machine is left on, so it keeps trying all night.
  let t = dayStart + 9 * HOUR + between(rng, 0, 20 * 60) + rng();
  let port = between(rng, 49700, 52000);
  // One round trip to one server: the reset comes back after about the same time every attempt.
  const rtt = 0.02 + rng() * 0.03;
  for (;;) {
    const ts = micro(t);
    if (ts >= dayEnd) break;
    // The workstation's own SYN (the same 60 bytes as its other connections) and the server's RST-ACK:
    // exactly what the office's ordinary refused connections look like.
    records.push(
      record(rng, ts, trojanHost, port, trojanC2, trojanC2Port, 'tcp', {
        service: null, duration: positiveMicro(logNormal(rng, rtt, 0.2)), orig_bytes: 0, resp_bytes: 0, conn_state: 'REJ', history: 'Sr',
        orig_pkts: 1, orig_ip_bytes: 60, resp_pkts: 1, resp_ip_bytes: 40,
      }),
    );
    t += minGap + rng() * (maxGap - minGap);
    port += between(rng, 1, 4);
    if (port > 65535) port = 49152;
  }
  const first = records[0]?.ts ?? t;
  const lastTs = records[records.length - 1]?.ts ?? t;
  return {
    name: 'remote-access-trojan',
    description:
      `a trojan on workstation ${trojanHost} tries its C2 server ${trojanC2}:${trojanC2Port} every ${minGap}-${maxGap} s (uniformly random), ` +
      `${clock(first)}-${clock(lastTs)} UTC (${records.length} attempts); the port is closed, so each is refused: ` +
      `REJ (Sr), one 60-byte SYN and one 40-byte reset, no payload, like the office's ordinary refused connections`,
    records,
  };
}

// ---------------------------------------------------------------------------------------------
// Writing

function byTs(a: ConnRecord, b: ConnRecord): number {
  return a.ts - b.ts;
}

function bucketByHour(records: readonly ConnRecord[], dayStart: number): ConnRecord[][] {
  const hours: ConnRecord[][] = Array.from({ length: 24 }, () => []);
  for (const r of records) {
    const hour = Math.floor((r.ts - dayStart) / HOUR);
    const bucket = hours[hour];
    if (bucket === undefined) throw new Error(`internal error: a scheduled row at ${isoTime(r.ts)} is outside its day`);
    bucket.push(r);
  }
  return hours;
}

/** Two ts-ordered lists as one; on equal ts, `a`'s row first. */
function mergeByTs(a: readonly ConnRecord[], b: readonly ConnRecord[]): ConnRecord[] {
  if (b.length === 0) return a as ConnRecord[];
  const out: ConnRecord[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x.ts <= y.ts)) {
      if (x !== undefined) out.push(x);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  return out;
}

/** One hourly file's text: header, rows, `#close`. An hour is about 1 MB at the default size. */
function logText(hourStart: number, records: readonly ConnRecord[]): string {
  const lines = syntheticHeader(hourStart);
  for (const r of records) lines.push(formatConnRow(r));
  lines.push(`#close\t${zeekLogTime(hourStart + HOUR)}`, '');
  return lines.join('\n');
}

// Big enough for an hour's compressed output, so zlib does an hour in one go on the thread pool.
const GZIP_CHUNK_BYTES = 1024 * 1024;

/**
 * Streams `text` through gzip to `path`, under a temporary name renamed at the end so a file
 * with the final name is always whole. The compression starts before this returns.
 */
async function writeGzipLog(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.partial`;
  const gzip = createGzip({ chunkSize: GZIP_CHUNK_BYTES });
  const done = pipeline(gzip, createWriteStream(temporary));
  gzip.end(text);
  try {
    await done;
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// `node dist/scripts/demo-data.js <root> [--days N] [--no-attack] [--rows-per-hour N] [--seed N] [--start YYYY-MM-DD]`

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      days: { type: 'string' },
      'no-attack': { type: 'boolean' },
      'rows-per-hour': { type: 'string' },
      seed: { type: 'string' },
      start: { type: 'string' },
    },
  });
  const root = positionals[0];
  if (root === undefined) throw new Error('usage: demo-data <root> [--days N] [--no-attack] [--rows-per-hour N] [--seed N] [--start YYYY-MM-DD]');
  const started = performance.now();
  const manifest = await writeDemoArchive(root, {
    days: values.days === undefined ? undefined : Number(values.days),
    attackDay: values['no-attack'] !== true,
    rowsPerHour: values['rows-per-hour'] === undefined ? undefined : Number(values['rows-per-hour']),
    seed: values.seed === undefined ? undefined : Number(values.seed),
    startDate: values.start,
  });
  const seconds = (performance.now() - started) / 1000;
  console.log(`${resolve(root)}: ${manifest.days.length} days (${manifest.days.join(', ')}), ${manifest.files} files, ${manifest.rows.toLocaleString('en')} rows in ${seconds.toFixed(1)} s`);
  if (manifest.attackDay !== null) console.log(`attack day ${manifest.attackDay}:`);
  for (const a of manifest.attacks) console.log(`  ${a.name} (${a.rows} rows): ${a.description}`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
