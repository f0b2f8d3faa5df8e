import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { value, type Db } from '../db/connection.js';
import { filesOfFinding, queryFindings, type StoredFinding } from '../db/findings.js';
import { openDatabase } from '../db/open-database.js';
import { recordScoredFile } from '../db/record-file.js';
import { DEFAULT_FINDINGS } from '../pipeline/findings/findings-settings.js';
import { FindingsStage } from '../pipeline/findings/findings-stage.js';
import { replayFindings } from '../pipeline/train/replay-findings.js';
import { labelOf } from '../pipeline/train/evaluate.js';
import { readAll } from './support/read.js';
import { readConnLog } from '../pipeline/read/read-conn-log.js';
import { DEMO_ATTACK_FINDINGS, DEMO_NETWORK, writeDemoArchive } from '../scripts/demo-data.js';
import { shared, tempDir } from './support/paths.js';
import { archivesIn } from './support/service.js';

let scratch: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  scratch = await tempDir('zeek-anomaly-findings-');
});
after(async () => {
  await scratch.cleanup();
});

/** Every file through the context and findings stages, in order, then the findings, highest score first. */
async function findingsOf(db: Db, files: readonly string[], stage = new FindingsStage(DEFAULT_FINDINGS)): Promise<StoredFinding[]> {
  await replayFindings(db, files, stage);
  return queryFindings(db);
}

/** The 72 hourly archives of rita-missing-host, in order. */
async function ritaArchives(): Promise<string[]> {
  const days = ['2024-04-19', '2024-04-20', '2024-04-21'].map((day) => join(shared('rotated', 'rita-missing-host'), day));
  return (await Promise.all(days.map((day) => archivesIn(day)))).flat();
}

describe('findings', () => {
  test('the port-scan files each give a port-scan finding, vertical for one host and horizontal for one port', async () => {
    const db = openDatabase(join(scratch.dir, 'scans.sqlite'));
    try {
      const vertical = (await findingsOf(db, [shared('formats', 'tsv', 'port-scans', 'vertical.conn.log')])).filter((f) => f.type === 'port-scan');
      assert.equal(vertical.length, 1, JSON.stringify(vertical));
      assert.equal(vertical[0]!.evidence.direction, 'vertical');
      assert.deepEqual([vertical[0]!.src, vertical[0]!.dst, vertical[0]!.port], ['192.168.1.9', '45.33.32.156', null]);
    } finally {
      db.close();
    }
    const other = openDatabase(join(scratch.dir, 'scans-h.sqlite'));
    try {
      const horizontal = (await findingsOf(other, [shared('formats', 'tsv', 'port-scans', 'horizontal.conn.log')])).filter((f) => f.type === 'port-scan');
      assert.equal(horizontal.length, 1, JSON.stringify(horizontal));
      assert.equal(horizontal[0]!.evidence.direction, 'horizontal');
      assert.deepEqual([horizontal[0]!.src, horizontal[0]!.dst, horizontal[0]!.port, horizontal[0]!.proto], ['10.0.2.112', null, 80, 'tcp']);
    } finally {
      other.close();
    }
  });

  describe('on the demo network', () => {
    let findings: StoredFinding[];
    let db: Db;
    before(async () => {
      const logDir = join(scratch.dir, 'demo');
      // One normal day, then the attack day.
      const manifest = await writeDemoArchive(logDir, { days: 1 });
      db = openDatabase(join(scratch.dir, 'demo.sqlite'));
      const archives = (await Promise.all(manifest.days.map((day) => archivesIn(join(logDir, day))))).flat();
      findings = await findingsOf(db, archives);
    });
    after(() => db.close());

    test('each of the five attacks is a finding of its type among the first eight, highest score first', () => {
      const top = findings.slice(0, 8);
      for (const { type, isIt } of DEMO_ATTACK_FINDINGS) {
        const rank = findings.findIndex((f) => f.type === type && isIt(f));
        assert.ok(rank >= 0 && rank < 8, `${type}: rank ${rank + 1}; the top eight are ${top.map((f) => `${f.type} ${f.src} → ${f.dst} (${f.score})`).join('; ')}`);
      }
    });

    test('a finding that goes on over many hourly files is one finding, updated by each', () => {
      const { attack } = DEMO_NETWORK;
      const beacons = findings.filter((f) => f.type === 'beacon' && f.src === attack.beaconHost && f.dst === attack.beaconDestination);
      assert.equal(beacons.length, 1);
      const files = filesOfFinding(db, beacons[0]!.id);
      // Raised once its hours show a rhythm (RITA's duration subscore needs 6), then updated hourly.
      assert.ok(files.length >= 10, `updated by ${files.length} files`);
      assert.equal(
        files.reduce((sum, f) => sum + f.connections, 0),
        beacons[0]!.connections,
        'each file added its connections once (the first, with what the track had gathered)',
      );
    });

    test('every finding says why: a summary, and the measure, thresholds and modifiers behind its score', () => {
      for (const finding of findings) {
        assert.ok(finding.summary.length > 20, finding.summary);
        const grading = finding.evidence.grading as { measure: string; value: number; base: number; modifiers: { points: number }[] };
        assert.equal(typeof grading.measure, 'string');
        const total = Math.min(100, Math.max(0, grading.base + grading.modifiers.reduce((sum, m) => sum + m.points, 0)));
        assert.ok(Math.abs(total - finding.score) <= 0.11, `${finding.type} ${finding.id}: base ${grading.base} and modifiers make ${total}, score ${finding.score}`);
      }
    });
  });

  test("rita-missing-host's HTTP beacon is a beacon finding among the first ten, and a scanner hammering one closed port is refused-retries", async () => {
    const db = openDatabase(join(scratch.dir, 'rita.sqlite'));
    try {
      const archives = await ritaArchives();
      const findings = await findingsOf(db, archives);
      const rank = findings.findIndex((f) => f.type === 'beacon' && f.src === '73.54.23.243' && f.dst === '64.225.56.201');
      assert.ok(rank >= 0 && rank < 10, `rank ${rank + 1}: ${findings.slice(0, 10).map((f) => `${f.type} ${f.src} → ${f.dst} (${f.score})`).join('; ')}`);
      // 120.245.134.197 tries 64.225.56.201:30003 every 16 s for three days; each attempt is REJ.
      const retries = findings.find((f) => f.type === 'refused-retries' && f.src === '120.245.134.197' && f.port === 30003);
      assert.ok(retries !== undefined && (retries.evidence.attempts as number) > 15_000, JSON.stringify(retries?.evidence));
      assert.equal(retries.severity, 'critical');
    } finally {
      db.close();
    }
  });

  test("each finding's uid sample names connections of its entity within its span, its first and last at the span's ends (rita-missing-host, three days)", async () => {
    const db = openDatabase(join(scratch.dir, 'rita-uids.sqlite'));
    try {
      const archives = await ritaArchives();
      const findings = await findingsOf(db, archives);
      const byUid = new Map<string, { ts: number; src: string; dst: string; port: number; proto: string }>();
      for (const file of archives) {
        for (const r of (await readAll(file)).records) if (r.uid !== null) byUid.set(r.uid, { ts: r.ts, src: r['id.orig_h'], dst: r['id.resp_h'], port: r['id.resp_p'], proto: r.proto });
      }
      const sampled = findings.filter((f) => f.uids.first !== null);
      assert.ok(sampled.length >= 10, `${sampled.length} of ${findings.length} findings carry uids`);
      for (const f of sampled) {
        for (const role of ['first', 'last'] as const) {
          const uid = f.uids[role];
          const conn = uid === null ? undefined : byUid.get(uid);
          const label = `${f.type} ${f.id} (${f.src} → ${f.dst}:${f.port}/${f.proto}) ${role} ${uid}`;
          assert.ok(conn !== undefined, `${label}: no such uid in the logs`);
          assert.ok(f.src === null || conn.src === f.src, `${label}: source ${conn.src}`);
          assert.ok(f.dst === null || conn.dst === f.dst, `${label}: destination ${conn.dst}`);
          assert.ok(f.port === null || conn.port === f.port, `${label}: port ${conn.port}`);
          assert.ok(f.proto === null || conn.proto === f.proto, `${label}: proto ${conn.proto}`);
          assert.ok(conn.ts >= f.firstTs && conn.ts <= f.lastTs, `${label}: ts ${conn.ts} outside ${f.firstTs} … ${f.lastTs}`);
          // A pair's finding spans its connections' times: its first and last are the ends.
          if (f.type === 'beacon') assert.equal(conn.ts, role === 'first' ? f.firstTs : f.lastTs, label);
        }
      }
      const beacon = findings.find((f) => f.type === 'beacon' && f.src === '73.54.23.243' && f.dst === '64.225.56.201');
      assert.ok(beacon?.uids.first !== null && beacon?.uids.last !== null && beacon?.uids.first !== beacon?.uids.last, JSON.stringify(beacon?.uids));
    } finally {
      db.close();
    }
  });

  test('two days of the honeypot sensor give a flood on one service, a long connection of hours, and no exfiltration from bogus byte counts', async () => {
    const db = openDatabase(join(scratch.dir, 'honeypot.sqlite'));
    try {
      const days = ['2022-03-01', '2022-03-02'].map((day) => join(shared('rotated', 'honeypot'), day));
      const findings = await findingsOf(db, (await Promise.all(days.map((day) => archivesIn(day)))).flat());
      const flood = findings.find((f) => f.type === 'flood' && f.dst === '88.99.95.180' && f.port === 22);
      assert.ok(flood !== undefined, 'the SYNs to 88.99.95.180:22 at 14:59 are a flood');
      assert.ok((flood.evidence.peakPerMinute as number) >= 4000, JSON.stringify(flood.evidence));
      const long = findings.find((f) => f.type === 'long-connection' && f.src === '2001:718:2:1654::1aa' && f.port === 5228);
      assert.ok(long !== undefined && (long.evidence.longest as number) > 14 * 3600, 'a 14-hour TLS session over IPv6');
      // Zeek's orig_bytes comes from sequence numbers: these logs hold connections of 4 packets
      // "sending" 1.9 GB. Bytes are capped by the IP bytes seen, so none of them is an upload.
      assert.deepEqual(
        findings.filter((f) => f.type === 'exfiltration').map((f) => f.summary),
        [],
      );
    } finally {
      db.close();
    }
  });

  test("the Mirai capture's outbound flood from one device is an exfiltration-sized upload to one address, and its connections are labeled malicious", async () => {
    const db = openDatabase(join(scratch.dir, 'mirai.sqlite'));
    try {
      const file = shared('labeled', 'iot23-34-1-mirai.conn.log.labeled');
      const findings = await findingsOf(db, [file]);
      const upload = findings.find((f) => f.type === 'exfiltration');
      assert.ok(upload !== undefined, findings.map((f) => f.type).join(', '));
      assert.deepEqual([upload.src, upload.dst], ['192.168.1.195', '74.91.117.248']);
      assert.ok(upload.bytesOut > 50e6 && upload.bytesIn === 0);
      const labels = (await readAll(file)).records.filter((r) => r['id.orig_h'] === upload.src && r['id.resp_h'] === upload.dst).map(labelOf);
      assert.ok(labels.length > 0 && labels.every((label) => label === 'malicious'), labels.join(', '));
    } finally {
      db.close();
    }
  });

  test('a file whose transaction fails leaves no finding, track or link behind', async () => {
    const db = openDatabase(join(scratch.dir, 'rollback.sqlite'));
    try {
      const stage = new FindingsStage(DEFAULT_FINDINGS);
      const activity = stage.newActivity();
      for await (const batch of readConnLog(shared('formats', 'tsv', 'port-scans', 'vertical.conn.log'))) for (const record of batch) activity.add(record);
      const detected = stage.detect(activity, null, 'test');
      assert.ok(detected.candidates.length > 0, 'there was something to write');
      const file = { sensor: 'sensor-a', path: '/logs/scan.log', size: 1, sha256: 'a'.repeat(64), rows: 50, badLines: 0, flagged: 0, threshold: 1, thresholdMode: 'per-file' as const, modelVersion: 'test', firstTs: 0, lastTs: 1, startedAt: 'S', finishedAt: 'F' };
      let written = 0;
      assert.throws(
        () =>
          recordScoredFile(db, file, [], {
            withinTransaction: (fileId) => {
              written = detected.write(db, { id: fileId, sensor: file.sensor }).raised;
              throw new Error('the disk filled up');
            },
          }),
        /the disk filled up/,
      );
      assert.ok(written > 0, 'findings were written before the failure');
      assert.equal(queryFindings(db).length, 0);
      assert.equal(value(db, 'SELECT count(*) FROM finding_files'), 0);
      assert.equal(value(db, 'SELECT count(*) FROM files'), 0);
    } finally {
      db.close();
    }
  });
});
