import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Db, Engine } from '../db/connection.js';
import type { AnomalyRow } from '../db/anomaly-columns.js';
import { openDatabase } from '../db/open-database.js';
import { recordFailedFile, recordScoredFile } from '../db/record-file.js';
import { startPostgres, type LocalPostgres } from '../scripts/dev/local-postgres.js';
import {
  anomaliesPerBand,
  anomaliesPerModel,
  anomaliesPerTimeAndBand,
  anomalyTotals,
  countScoredFilesWithRows,
  distinctHosts,
  explanationFeatureRanks,
  flaggedPerDay,
  flaggedPerFile,
  scoredFilesPerThresholdMode,
  scoredTotals,
  topHosts,
} from '../db/report-queries.js';
import { filesPerHour, hostFlaggedPerBin, hostPeers, isPathInLedger, lastFileWithStatus, newestScoredTs, scoredPerBin } from '../db/dashboard-queries.js';
import { repoRoot } from './support/paths.js';

const T0 = 1713484800; // 2024-04-19T00:00:00Z, a whole hour and day
const DAY = 86_400;
// The report's bands: 1–2×, 2–5×, 5–10×, 10–100×, ≥ 100× the threshold.
const FLOORS = [1, 2, 5, 10, 100];

function anomaly(overrides: Partial<AnomalyRow>): AnomalyRow {
  return {
    ts: T0,
    uid: 'C1',
    origH: '10.0.0.5',
    origP: 51234,
    respH: '192.0.2.1',
    respP: 443,
    proto: 'tcp',
    service: 'ssl',
    duration: 1,
    origBytes: 100,
    respBytes: 200,
    connState: 'SF',
    history: 'ShADadFf',
    origPkts: 2,
    respPkts: 3,
    score: 1,
    threshold: 0.5,
    modelVersion: 'v0001',
    explanation: [{ feature: 'orig_bytes', share: 1 }],
    connScore: null,
    contextScore: null,
    ...overrides,
  };
}

/** The report's queries run on both engines, each on the same rows. */
const ENGINES: readonly Engine[] = ['sqlite', 'postgres'];
let postgres: LocalPostgres;
before(async () => (postgres = await startPostgres()));
after(() => postgres.stop());

function storeFor(engine: Engine): string {
  return engine === 'sqlite' ? ':memory:' : postgres.newDatabaseUrl();
}

const common = { sensor: 'sensor-a', size: 1, startedAt: '2024-04-19T01:00:00.000Z', finishedAt: '2024-04-19T01:00:01.000Z', badLines: 0 };

for (const engine of ENGINES) {
  describe(`the anomalies report’s queries on ${engine}`, () => {
    let db: Db;
    before(() => {
      db = openDatabase(storeFor(engine));
      // Day 1, per-file, threshold 0.5: scores 1.5×, 3× and 200× the threshold.
      recordScoredFile(
        db,
        { ...common, path: '/logs/a.log', sha256: 'a'.repeat(64), rows: 1000, flagged: 3, threshold: 0.5, thresholdMode: 'per-file', modelVersion: 'v0001', firstTs: T0, lastTs: T0 + 3599 },
        [
          anomaly({ ts: T0 + 10, score: 0.75, explanation: [{ feature: 'orig_bytes', share: 0.6 }, { feature: 'duration', share: 0.4 }] }),
          anomaly({ ts: T0 + 700, respH: '192.0.2.2', score: 1.5, explanation: [{ feature: 'duration', share: 0.7 }, { feature: 'orig_bytes', share: 0.3 }] }),
          anomaly({ ts: T0 + 800, origH: '10.0.0.6', score: 100, explanation: [{ feature: 'history', share: 1 }] }),
        ],
      );
      // Day 2, baseline: 6× a threshold of 0.25, and a row flagged against a threshold of 0.
      recordScoredFile(
        db,
        { ...common, path: '/logs/b.log', sha256: 'b'.repeat(64), rows: 500, flagged: 2, threshold: 0.25, thresholdMode: 'baseline', modelVersion: 'v0002', firstTs: T0 + DAY, lastTs: T0 + DAY + 3599 },
        [
          anomaly({ ts: T0 + DAY + 5, respH: '192.0.2.3', score: 1.5, threshold: 0.25, modelVersion: 'v0002' }),
          anomaly({ ts: T0 + DAY + 6, origH: '10.0.0.7', score: 0.5, threshold: 0, modelVersion: 'v0002', explanation: [{ feature: 'orig_bytes', share: 0.5 }, { feature: 'history', share: 0.5 }] }),
        ],
      );
      // An empty file and a failed one: in the counts of files, in none of the per-file figures.
      recordScoredFile(
        db,
        { ...common, path: '/logs/empty.log', sha256: 'c'.repeat(64), rows: 0, flagged: 0, threshold: null, thresholdMode: 'per-file', modelVersion: 'v0002', firstTs: null, lastTs: null },
        [],
      );
      recordFailedFile(db, { ...common, path: '/logs/broken.log.gz', sha256: 'd'.repeat(64) }, 'truncated-gzip');
    });
    after(() => db.close());

    test('totals: how many anomalies, the first and last ts; rows scored and flagged over the done files', () => {
      assert.deepEqual(anomalyTotals(db), { count: 5, first: T0 + 10, last: T0 + DAY + 6 });
      assert.deepEqual(scoredTotals(db), { rows: 1500, flagged: 5 });
    });

    test("the dashboard's reads: per bin, per hour, the newest data, the last of a status, a path known, a host's peers and bins", () => {
      assert.deepEqual(scoredPerBin(db, T0, DAY), [
        { time: T0, rows: 1000, flagged: 3 },
        { time: T0 + DAY, rows: 500, flagged: 2 },
      ]);
      assert.deepEqual(filesPerHour(db, '2024-04-19T00:00:00Z'), [
        { hour: '2024-04-19T01:00:00Z', status: 'done', files: 3 },
        { hour: '2024-04-19T01:00:00Z', status: 'failed', files: 1 },
      ]);
      assert.equal(newestScoredTs(db), T0 + DAY + 3599);
      assert.deepEqual(lastFileWithStatus(db, 'failed'), { id: 4, path: '/logs/broken.log.gz', finishedAt: common.finishedAt, lastTs: null, error: 'truncated-gzip' });
      assert.equal(isPathInLedger(db, '/logs/a.log'), true);
      assert.equal(isPathInLedger(db, '/logs/never.log'), false);
      assert.deepEqual(hostPeers(db, '192.0.2.1', { sample: 10, limit: 10 }), [
        { peer: '10.0.0.5', outbound: 0, inbound: 1, bytesSent: 200, bytesReceived: 100, lastTs: T0 + 10 },
        { peer: '10.0.0.6', outbound: 0, inbound: 1, bytesSent: 200, bytesReceived: 100, lastTs: T0 + 800 },
        { peer: '10.0.0.7', outbound: 0, inbound: 1, bytesSent: 200, bytesReceived: 100, lastTs: T0 + DAY + 6 },
      ]);
      assert.deepEqual(
        hostPeers(db, '10.0.0.5', { sample: 1, limit: 10 }),
        [{ peer: '192.0.2.3', outbound: 1, inbound: 0, bytesSent: 100, bytesReceived: 200, lastTs: T0 + DAY + 5 }],
        'the latest `sample` connections only',
      );
      assert.deepEqual(hostFlaggedPerBin(db, '192.0.2.1', { sample: 10, bin: DAY }), [
        { time: T0, outbound: 0, inbound: 2, bytesSent: 400, bytesReceived: 200 },
        { time: T0 + DAY, outbound: 0, inbound: 1, bytesSent: 200, bytesReceived: 100 },
      ]);
    });

    test('an empty database gives zero counts and no time range, not nulls to guard against', () => {
      const empty = openDatabase(storeFor(engine));
      try {
        assert.deepEqual(anomalyTotals(empty), { count: 0, first: null, last: null });
        assert.deepEqual(scoredTotals(empty), { rows: 0, flagged: 0 });
        assert.deepEqual(anomaliesPerBand(empty, FLOORS), []);
        assert.equal(distinctHosts(empty, 'orig_h'), 0);
        assert.equal(countScoredFilesWithRows(empty), 0);
      } finally {
        empty.close();
      }
    });

    test('anomalies per model, most first; scored files per threshold mode', () => {
      assert.deepEqual(anomaliesPerModel(db), [
        { model: 'v0001', count: 3 },
        { model: 'v0002', count: 2 },
      ]);
      assert.deepEqual(scoredFilesPerThresholdMode(db), [
        { mode: 'per-file', files: 2 },
        { mode: 'baseline', files: 1 },
      ]);
    });

    test('score bands count each anomaly by its score as a multiple of its threshold, a threshold of 0 in the top band', () => {
      assert.deepEqual(anomaliesPerBand(db, FLOORS), [
        { band: 0, count: 1 },
        { band: 1, count: 1 },
        { band: 2, count: 1 },
        { band: 4, count: 2 },
      ]);
      assert.deepEqual(anomaliesPerTimeAndBand(db, 3600, FLOORS), [
        { time: T0, band: 0, count: 1 },
        { time: T0, band: 1, count: 1 },
        { time: T0, band: 4, count: 1 },
        { time: T0 + DAY, band: 2, count: 1 },
        { time: T0 + DAY, band: 4, count: 1 },
      ]);
    });

    test('band floors that do not rise, and a time bin that is not a whole number of seconds, are refused', () => {
      assert.throws(() => anomaliesPerBand(db, [1, 5, 2]), { message: `${db.name}: score bands are [1,5,2]; expected one or more finite numbers above 0, rising` });
      assert.throws(() => anomaliesPerTimeAndBand(db, 0.5, FLOORS), { message: `${db.name}: the time bin is 0.5 s; expected a whole number above 0` });
    });

    test('top hosts on either side, most anomalies first (ties by address), with the worst score ÷ threshold; distinct hosts', () => {
      assert.deepEqual(topHosts(db, 'orig_h', 2), [
        { host: '10.0.0.5', count: 3, worst: 6 },
        { host: '10.0.0.6', count: 1, worst: 200 },
      ]);
      assert.deepEqual(topHosts(db, 'resp_h', 10), [
        { host: '192.0.2.1', count: 3, worst: 200 },
        { host: '192.0.2.2', count: 1, worst: 3 },
        { host: '192.0.2.3', count: 1, worst: 6 },
      ]);
      assert.equal(distinctHosts(db, 'orig_h'), 3);
      assert.equal(distinctHosts(db, 'resp_h'), 3);
    });

    test('explanation features by their place in the explanations', () => {
      assert.deepEqual(explanationFeatureRanks(db), [
        { feature: 'duration', rank: 0, count: 1 },
        { feature: 'duration', rank: 1, count: 1 },
        { feature: 'history', rank: 0, count: 1 },
        { feature: 'history', rank: 1, count: 1 },
        { feature: 'orig_bytes', rank: 0, count: 3 },
        { feature: 'orig_bytes', rank: 1, count: 1 },
      ]);
    });

    test('flagged share per file and per day count only the scored files that held rows', () => {
      assert.equal(countScoredFilesWithRows(db), 2);
      assert.deepEqual(flaggedPerFile(db), [
        { path: '/logs/a.log', firstTs: T0, rows: 1000, flagged: 3, mode: 'per-file' },
        { path: '/logs/b.log', firstTs: T0 + DAY, rows: 500, flagged: 2, mode: 'baseline' },
      ]);
      assert.deepEqual(flaggedPerDay(db), [
        { day: T0, rows: 1000, flagged: 3, files: 1 },
        { day: T0 + DAY, rows: 500, flagged: 2, files: 1 },
      ]);
    });

    // Last in this block: it adds a second sensor's file to the database the others read.
    test("given a sensor, every query counts only that sensor's files and anomalies; without one, every sensor's", () => {
      const figures = (sensor: string | null): unknown => ({
        totals: anomalyTotals(db, sensor),
        scored: scoredTotals(db, sensor),
        models: anomaliesPerModel(db, sensor),
        modes: scoredFilesPerThresholdMode(db, sensor),
        bands: anomaliesPerBand(db, FLOORS, sensor),
        overTime: anomaliesPerTimeAndBand(db, 3600, FLOORS, sensor),
        top: topHosts(db, 'orig_h', 5, sensor),
        distinct: distinctHosts(db, 'resp_h', sensor),
        features: explanationFeatureRanks(db, sensor),
        files: countScoredFilesWithRows(db, sensor),
        perFile: flaggedPerFile(db, sensor),
        perDay: flaggedPerDay(db, sensor),
      });
      const before = figures(null);
      recordScoredFile(
        db,
        { ...common, sensor: 'sensor-b', path: '/logs/a.log', sha256: 'a'.repeat(64), rows: 10, flagged: 1, threshold: 1, thresholdMode: 'per-file', modelVersion: 'v0009', firstTs: T0, lastTs: T0 + 1 },
        [anomaly({ ts: T0 + 1, origH: '10.9.9.9', respH: '192.0.2.9', score: 3, threshold: 1, modelVersion: 'v0009', explanation: [{ feature: 'resp_p', share: 1 }] })],
      );
      assert.deepEqual(figures('sensor-a'), before, "sensor-a's figures are what every sensor's were before sensor-b came");
      assert.deepEqual(anomalyTotals(db, 'sensor-b'), { count: 1, first: T0 + 1, last: T0 + 1 });
      assert.deepEqual(topHosts(db, 'orig_h', 5, 'sensor-b'), [{ host: '10.9.9.9', count: 1, worst: 3 }]);
      assert.deepEqual(scoredTotals(db, null), { rows: 1510, flagged: 6 });
      assert.equal(anomalyTotals(db, 'sensor-c').count, 0);
    });
  });
}

describe('all SQL lives in db/', () => {
  test('no source file outside db/ (and test/) prepares or runs a statement', () => {
    const offenders: string[] = [];
    for (const folder of ['pipeline', 'preprocess', 'model', 'scripts', 'notebooks-ts']) {
      for (const file of sourceFiles(join(repoRoot, folder))) {
        const text = readFileSync(file, 'utf8');
        if (/\.(prepare|exec|pragma|run|all|get|value)\(\s*['"`]\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|WITH|PRAGMA|VACUUM|BEGIN)\b/i.test(text) || /\.prepare\s*</.test(text)) {
          offenders.push(relative(repoRoot, file));
        }
      }
    }
    assert.deepEqual(offenders, []);
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}
