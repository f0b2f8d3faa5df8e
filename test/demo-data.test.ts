// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ConnRecord } from '../pipeline/read/conn-record.js';
import { DEMO_NETWORK, DEMO_MANIFEST_FILE, demoLogFileName, loadDemoManifest, writeDemoArchive, type DemoManifest, type DemoOptions } from '../scripts/demo-data.js';
import { tempDir } from './support/paths.js';
import { readAll } from './support/read.js';

// Small enough to write and read back in about a second; the leap day checks the date arithmetic.
const OPTIONS: DemoOptions = { days: 2, attackDay: true, rowsPerHour: 60, seed: 7, startDate: '2024-02-28' };
const DAYS = ['2024-02-28', '2024-02-29', '2024-03-01'];
const HOURS = Array.from({ length: 24 }, (_, h) => h);

interface HourFile {
  day: string;
  hour: number;
  path: string;
  records: ConnRecord[];
}

const cleanups: (() => Promise<void>)[] = [];
let root = '';
let manifest: DemoManifest;
let files: HourFile[] = [];

async function archive(options: Partial<DemoOptions>): Promise<{ dir: string; manifest: DemoManifest }> {
  const { dir, cleanup } = await tempDir('zeek-anomaly-demo-');
  cleanups.push(cleanup);
  return { dir, manifest: await writeDemoArchive(dir, options) };
}

function recordsOf(day: string): ConnRecord[] {
  return files.filter((f) => f.day === day).flatMap((f) => f.records);
}

before(async () => {
  ({ dir: root, manifest } = await archive(OPTIONS));
  for (const day of DAYS) {
    for (const hour of HOURS) {
      const path = join(root, day, demoLogFileName(hour));
      const { records, summary } = await readAll(path);
      assert.equal(summary.badLines, 0, `${path}: ${JSON.stringify(summary.badLineSamples)}`);
      assert.equal(summary.truncated, false, `${path} has its #close`);
      assert.equal(summary.path, 'conn');
      files.push({ day, hour, path, records });
    }
  }
});

after(async () => {
  for (const cleanup of cleanups) await cleanup();
  files = [];
});

describe('writeDemoArchive: the zeekctl layout', () => {
  test('one folder per day, 24 hourly gzip files in each, the last one ending at midnight', () => {
    assert.deepEqual(readdirSync(root).sort(), [...DAYS, DEMO_MANIFEST_FILE]);
    const expected = HOURS.map(demoLogFileName);
    assert.equal(expected[0], 'conn.00:00:00-01:00:00.log.gz');
    assert.equal(expected[9], 'conn.09:00:00-10:00:00.log.gz');
    assert.equal(expected[23], 'conn.23:00:00-00:00:00.log.gz');
    for (const day of DAYS) assert.deepEqual(readdirSync(join(root, day)).sort(), [...expected].sort(), day);
    assert.equal(manifest.files, 72);
    assert.deepEqual(manifest.days, DAYS);
    assert.equal(manifest.attackDay, '2024-03-01');
  });

  test('every file is gzip, and its rows are in ts order inside its hour (names in UTC)', async () => {
    for (const f of files) {
      const head = (await readFile(f.path)).subarray(0, 2);
      assert.deepEqual([...head], [0x1f, 0x8b], `${f.path} is gzip`);
      const start = Date.UTC(Number(f.day.slice(0, 4)), Number(f.day.slice(5, 7)) - 1, Number(f.day.slice(8, 10)), f.hour) / 1000;
      assert.ok(f.records.length > 0, `${f.path} has rows`);
      let previous = -Infinity;
      for (const r of f.records) {
        assert.ok(r.ts >= start && r.ts < start + 3600, `${f.path}: ts ${r.ts} outside [${start}, ${start + 3600})`);
        assert.ok(r.ts >= previous, `${f.path}: ts ${r.ts} after ${previous}`);
        previous = r.ts;
      }
    }
  });

  test('the manifest counts what the files hold, and loads back as written', async () => {
    assert.equal(manifest.rows, files.reduce((n, f) => n + f.records.length, 0));
    assert.deepEqual(await loadDemoManifest(root), manifest);
  });
});

describe('writeDemoArchive: the attacks', () => {
  test('five attacks; every uid is in the files exactly once, on the attack day, as many as stated', () => {
    assert.deepEqual(manifest.attacks.map((a) => a.name), ['port-scan', 'syn-flood', 'exfiltration', 'beacon', 'remote-access-trojan']);
    const seen = new Map<string, { day: string; count: number }>();
    for (const f of files) {
      for (const r of f.records) {
        const uid = r.uid ?? '';
        const entry = seen.get(uid);
        if (entry) entry.count++;
        else seen.set(uid, { day: f.day, count: 1 });
      }
    }
    const allAttackUids = new Set<string>();
    for (const attack of manifest.attacks) {
      assert.equal(attack.uids.length, attack.rows, attack.name);
      assert.ok(attack.description.length > 20, attack.name);
      for (const uid of attack.uids) {
        assert.ok(!allAttackUids.has(uid), `${uid} is listed twice`);
        allAttackUids.add(uid);
        assert.deepEqual(seen.get(uid), { day: manifest.attackDay, count: 1 }, `${attack.name} ${uid}`);
      }
    }
  });

  test('nothing of the attacks on the normal days', () => {
    const { exfiltrationDestination, beaconDestination, scanner, trojanC2 } = DEMO_NETWORK.attack;
    for (const day of DAYS.slice(0, 2)) {
      const rows = recordsOf(day);
      assert.ok(!rows.some((r) => r['id.resp_h'] === exfiltrationDestination || r['id.resp_h'] === beaconDestination), day);
      assert.ok(!rows.some((r) => r['id.resp_h'] === trojanC2 || r['id.orig_h'] === trojanC2), `${day}: a row to or from the C2 address ${trojanC2}`);
      assert.ok(!rows.some((r) => r['id.orig_h'] === scanner && r['id.resp_h'] === DEMO_NETWORK.fileServer && r.conn_state !== 'SF'), day);
      const synsToWeb = rows.filter((r) => r['id.resp_h'] === DEMO_NETWORK.webServer && r['id.resp_p'] === 443 && r.conn_state === 'S0');
      assert.ok(synsToWeb.length < 10, `${day}: ${synsToWeb.length} S0 to the web server's 443`);
    }
  });

  test('each attack looks as described', () => {
    const rows = recordsOf(manifest.attackDay ?? '');
    const rowsOf = (name: string): ConnRecord[] => {
      const uids = new Set(manifest.attacks.find((a) => a.name === name)?.uids);
      return rows.filter((r) => uids.has(r.uid ?? ''));
    };

    const scan = rowsOf('port-scan');
    assert.ok(new Set(scan.map((r) => r['id.resp_p'])).size >= 500, 'hundreds of ports');
    assert.deepEqual(new Set(scan.map((r) => `${r['id.orig_h']}>${r['id.resp_h']}`)), new Set([`${DEMO_NETWORK.attack.scanner}>${DEMO_NETWORK.fileServer}`]));
    assert.ok(timeSpan(scan) < 300, 'in a few minutes');
    for (const r of scan) {
      assert.ok(['S0', 'REJ', 'RSTO'].includes(r.conn_state ?? ''), r.conn_state ?? '-');
      assert.ok((r.orig_pkts ?? 0) <= 2 && (r.orig_bytes ?? 0) === 0 && (r.resp_bytes ?? 0) === 0);
    }

    const flood = rowsOf('syn-flood');
    assert.ok(flood.length >= 1000, 'thousands of SYNs');
    assert.ok(timeSpan(flood) <= 70, 'in about a minute');
    assert.ok(flood.every((r) => r.conn_state === 'S0' && r.orig_pkts === 1 && r['id.resp_h'] === DEMO_NETWORK.webServer && r['id.resp_p'] === 443));
    assert.ok(new Set(flood.map((r) => r['id.orig_h'])).size > 0.95 * flood.length, 'spoofed: nearly every source different');

    const exfil = rowsOf('exfiltration');
    assert.ok(exfil.length >= 2 && exfil.length <= 5);
    for (const r of exfil) {
      assert.ok((r.orig_bytes ?? 0) >= 100e6 && (r.resp_bytes ?? Infinity) < 100e3 && (r.duration ?? 0) > 60);
      assert.equal(r['id.resp_h'], DEMO_NETWORK.attack.exfiltrationDestination);
    }
    const destination = DEMO_NETWORK.attack.exfiltrationDestination;
    assert.equal(rows.filter((r) => r['id.resp_h'] === destination || r['id.orig_h'] === destination).length, exfil.length, 'a host nothing else talks to');

    const beacon = rowsOf('beacon');
    assert.ok(beacon.length >= 1400, 'every minute all day');
    for (let i = 1; i < beacon.length; i++) {
      const gap = (beacon[i]?.ts ?? 0) - (beacon[i - 1]?.ts ?? 0);
      assert.ok(Math.abs(gap - 60) <= 3, `gap ${gap}`);
    }
    const bytesOut = beacon.map((r) => r.orig_bytes ?? 0);
    assert.ok(Math.max(...bytesOut) - Math.min(...bytesOut) <= 5, 'near-identical sizes');
    assert.ok(beacon.every((r) => r.service === 'http' && r['id.resp_h'] === DEMO_NETWORK.attack.beaconDestination));

    const { trojanHost, trojanC2, trojanC2Port } = DEMO_NETWORK.attack;
    const trojan = rowsOf('remote-access-trojan');
    assert.ok(timeSpan(trojan) >= 14 * 3600, `for hours: ${timeSpan(trojan)} s`);
    // Uniform 5-30 s gaps average 17.5 s: about 200 an hour, thousands in all.
    assert.ok(trojan.length >= timeSpan(trojan) / 30 && trojan.length <= timeSpan(trojan) / 5 + 1, `${trojan.length} attempts in ${timeSpan(trojan)} s`);
    assert.ok(trojan.length >= 2500 && trojan.length <= 4000, `${trojan.length} attempts`);
    const gaps: number[] = [];
    for (let i = 1; i < trojan.length; i++) gaps.push((trojan[i]?.ts ?? 0) - (trojan[i - 1]?.ts ?? 0));
    for (const gap of gaps) assert.ok(gap >= 5 - 1e-5 && gap <= 30 + 1e-5, `gap ${gap}`);
    assert.ok(Math.min(...gaps) < 6 && Math.max(...gaps) > 29, 'the gaps cover the range');
    for (const r of trojan) {
      assert.deepEqual(
        [r['id.orig_h'], r['id.resp_h'], r['id.resp_p'], r.proto, r.service, r.conn_state, r.history, r.local_orig, r.local_resp],
        [trojanHost, trojanC2, trojanC2Port, 'tcp', null, 'REJ', 'Sr', true, false],
      );
      assert.deepEqual([r.orig_pkts, r.resp_pkts, r.orig_bytes, r.resp_bytes, r.missed_bytes], [1, 1, 0, 0, 0]);
      assert.ok(r.orig_ip_bytes !== null && r.orig_ip_bytes >= 40 && r.orig_ip_bytes <= 60, `orig_ip_bytes ${r.orig_ip_bytes}`);
      assert.equal(r.resp_ip_bytes, 40);
      assert.ok(r.duration === null || r.duration < 0.5, `duration ${r.duration}`);
    }
    for (let i = 1; i < trojan.length; i++) {
      const [before, now] = [trojan[i - 1]?.['id.orig_p'] ?? 0, trojan[i]?.['id.orig_p'] ?? 0];
      assert.ok(now >= 49152 && (now > before || now === 49152), `source port ${before} then ${now}`);
    }
    assert.equal(new Set(trojan.map((r) => r.uid)).size, trojan.length, 'uids unique');
    assert.equal(rows.filter((r) => r['id.resp_h'] === trojanC2 || r['id.orig_h'] === trojanC2).length, trojan.length, 'nothing else talks to the C2 address');
  });
});

describe('writeDemoArchive: normal traffic', () => {
  test('refused and unanswered connections are part of it: one refused attempt is nothing unusual', () => {
    const rows = DAYS.slice(0, 2).flatMap(recordsOf);
    // The same shape as each of the trojan's attempts: a workstation's SYN to an Internet :443, a reset back.
    const refusedOut = rows.filter(
      (r) => r.local_orig === true && r.local_resp === false && r.proto === 'tcp' && r['id.resp_p'] === 443 && r.conn_state === 'REJ' &&
        r.history === 'Sr' && r.orig_pkts === 1 && r.resp_pkts === 1 && r.orig_bytes === 0 && r.resp_bytes === 0 && r.service === null,
    );
    assert.ok(refusedOut.length >= 1, 'workstations are refused by Internet hosts now and then');
    const trojan = new Set(recordsOf(manifest.attackDay ?? '').filter((r) => r['id.orig_h'] === DEMO_NETWORK.attack.trojanHost && r.conn_state === 'REJ').map((r) => r.orig_ip_bytes));
    assert.ok([...trojan].every((bytes) => refusedOut.some((r) => r.orig_ip_bytes === bytes)), 'with the same SYN size as the trojan\'s');
    const unansweredOut = rows.filter((r) => r.local_orig === true && r.local_resp === false && r.proto === 'tcp' && r.conn_state === 'S0');
    assert.ok(unansweredOut.length >= 1, 'and some of their SYNs go unanswered');
    const knocks = rows.filter((r) => r.local_orig === false && r['id.resp_h'] === DEMO_NETWORK.webServer && (r.conn_state === 'S0' || r.conn_state === 'REJ'));
    assert.ok(knocks.length >= 10, `the Internet's scanning of the web server: ${knocks.length} S0/REJ`);
  });

  test('more connections in working hours than at night', () => {
    for (const day of DAYS) {
      const rows = (hour: number): number => files.find((f) => f.day === day && f.hour === hour)?.records.length ?? 0;
      assert.ok(rows(10) > 3 * rows(3), `${day}: ${rows(10)} rows at 10:00, ${rows(3)} at 03:00`);
    }
  });

  test('the same hosts with the same habits every day', () => {
    const [first, second] = [recordsOf(DAYS[0] ?? ''), recordsOf(DAYS[1] ?? '')];
    const local = (rows: ConnRecord[]): Set<string> => new Set(rows.filter((r) => r.local_orig === true).map((r) => r['id.orig_h']));
    const [a, b] = [local(first), local(second)];
    assert.ok([...a].every((h) => h.startsWith('10.1.0.')));
    const shared = [...a].filter((h) => b.has(h)).length;
    assert.ok(shared / new Set([...a, ...b]).size > 0.9, `${shared} of ${a.size} and ${b.size} internal hosts on both days`);

    // Outbound: where the office goes on day two, it mostly went on day one too.
    const pairs = new Set(first.filter((r) => r.local_orig && !r.local_resp).map((r) => r['id.resp_h']));
    const outbound = second.filter((r) => r.local_orig === true && r.local_resp === false);
    const known = outbound.filter((r) => pairs.has(r['id.resp_h'])).length;
    assert.ok(known / outbound.length > 0.8, `${known} of ${outbound.length} outbound connections go to addresses seen the day before`);
  });
});

describe('writeDemoArchive: determinism and options', () => {
  test('the same seed writes the same bytes; another seed, other traffic', async () => {
    const same = await archive(OPTIONS);
    const other = await archive({ ...OPTIONS, seed: 8 });
    assert.deepEqual(same.manifest, manifest);
    for (const name of [demoLogFileName(10), demoLogFileName(23)]) {
      const path = join(manifest.attackDay ?? '', name);
      const bytes = await readFile(join(root, path));
      assert.ok(bytes.equals(await readFile(join(same.dir, path))), `${path} is byte for byte the same`);
      assert.ok(!bytes.equals(await readFile(join(other.dir, path))), `${path} differs with another seed`);
    }
    assert.notDeepEqual(other.manifest.attacks[0]?.uids, manifest.attacks[0]?.uids);
  });

  test('without the attack day: only normal days, no attacks', async () => {
    const { dir, manifest: plain } = await archive({ days: 1, attackDay: false, rowsPerHour: 20, seed: 3, startDate: '2023-12-31' });
    assert.deepEqual([plain.days, plain.attackDay, plain.files, plain.attacks], [['2023-12-31'], null, 24, []]);
    assert.deepEqual(readdirSync(join(dir, '2023-12-31')).length, 24);
    const last = await readAll(join(dir, '2023-12-31', 'conn.23:00:00-00:00:00.log.gz'));
    assert.ok(last.records.every((r) => r.ts >= Date.UTC(2023, 11, 31, 23) / 1000 && r.ts < Date.UTC(2024, 0, 1) / 1000));
  });

  test('bad options are refused before anything is written', async () => {
    await assert.rejects(writeDemoArchive(join(root, 'never'), { startDate: '2024-02-30' }), RangeError);
    await assert.rejects(writeDemoArchive(join(root, 'never'), { days: 1.5 }), RangeError);
    await assert.rejects(writeDemoArchive(join(root, 'never'), { rowsPerHour: 0 }), RangeError);
    await assert.rejects(writeDemoArchive(join(root, 'never'), { days: 0, attackDay: false }), RangeError);
    assert.ok(!readdirSync(root).includes('never'));
  });

  test('loadDemoManifest names the file when it is not a manifest', async () => {
    const { dir, cleanup } = await tempDir('zeek-anomaly-demo-');
    cleanups.push(cleanup);
    await writeFile(join(dir, DEMO_MANIFEST_FILE), JSON.stringify({ days: ['2024-01-01'] }));
    await assert.rejects(loadDemoManifest(dir), /demo-manifest\.json is not a demo manifest: `attackDay`/);
  });
});

function timeSpan(rows: readonly ConnRecord[]): number {
  const ts = rows.map((r) => r.ts);
  return Math.max(...ts) - Math.min(...ts);
}
