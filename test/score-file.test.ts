import * as assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CandidateTable } from '../pipeline/first-read/candidate-table.js';
import type { ConnRecord } from '../pipeline/read/conn-record.js';
import type { ScoringModel } from '../model/load-scoring-model.js';
import { scoreFile, type ScoreOutcome } from '../pipeline/score/score-file.js';
import { DEFAULT_TRAIN_OPTIONS } from '../model/autoencoder.js';
import { initBackend, type Backend } from '../model/backend.js';
import { fitDetector, scoreRecords } from '../model/detector.js';
import { presetNamed } from '../preprocess/presets.js';
import { otherLog, shared, tempDir } from './support/paths.js';
import { archivesIn } from './support/service.js';
import { dataLinesOf, readAll, ZEEK_CLOSE } from './support/read.js';

const TRAIN_FILE = shared('rotated', 'rita-missing-host', '2024-04-19', 'conn.10:00:00-11:00:00.log.gz');
const SCORED_DAY = shared('rotated', 'rita-missing-host', '2024-04-20');
const SCORED_FILE = join(SCORED_DAY, 'conn.12:00:00-13:00:00.log.gz');

let backend: Backend;
let model: ScoringModel;
let scoredRecords: ConnRecord[];

before(async () => {
  backend = await initBackend({ prefer: 'wasm' });
  const { records } = await readAll(TRAIN_FILE);
  const detector = await fitDetector(backend.tf, records.slice(200), records.slice(0, 200), presetNamed('default'), {
    ...DEFAULT_TRAIN_OPTIONS,
    maxEpochs: 3,
    seed: 1,
  });
  model = { version: 'v0001-20240101T000000Z', preprocessor: detector.preprocessor, model: detector.model, baselineThreshold: 0.5, context: null };
  scoredRecords = (await readAll(SCORED_FILE)).records;
});

test('per-file mode flags exactly the top 5% of the file by score, ties going to the earlier row', async () => {
  const outcome = await scoreFile(backend.tf, model, SCORED_FILE, { mode: 'per-file', quantile: 0.95 });
  assert.equal(outcome.status, 'scored');
  if (outcome.status !== 'scored') return;
  const scores = scoreRecords(backend.tf, model, scoredRecords);
  const k = Math.ceil(0.05 * scoredRecords.length);
  const expected = Array.from(scores.keys())
    .sort((a, b) => scores[b]! - scores[a]! || a - b)
    .slice(0, k)
    .sort((a, b) => a - b)
    .map((i) => scoredRecords[i]!.uid);
  const flagged = [...outcome.flagged];
  assert.equal(outcome.rows, scoredRecords.length);
  // Under 4,096 rows no candidate cut is made, so every row is a candidate and one read suffices.
  assert.ok(outcome.rows < 4096, `${outcome.rows} rows`);
  assert.equal(outcome.readTwice, false);
  assert.equal(outcome.flaggedCount, k);
  assert.deepEqual(
    flagged.map((f) => f.uid),
    expected,
  );
  assert.ok(flagged.every((f) => f.score >= outcome.threshold && f.threshold === outcome.threshold));
  assert.ok(flagged.every((f) => f.explanation.length > 0 && f.explanation.every((e) => e.share > 0 && e.share <= 1)));
});

test('a file whose scores fall over time flags exactly the top 5% by score in a single read, its rows bounded by its size', async () => {
  // A day of real rows (39,073) written highest score first: every row after the first few
  // thousand scores below all the rows kept so far. A plain file holds fewer rows than its bytes
  // over 100, so the first read keeps the top 5% of that many rows, and needs nothing more.
  const { header, lines, records } = await realDay(SCORED_DAY);
  const order = byScoreDescending(scoreRecords(backend.tf, model, records));
  const { dir, cleanup } = await tempDir('zeek-anomaly-falling-');
  try {
    const file = join(dir, 'conn.log');
    await writeFile(file, header + order.map((i) => `${lines[i]!}\n`).join('') + ZEEK_CLOSE);
    const outcome = await scoreFile(backend.tf, model, file, { mode: 'per-file', quantile: 0.95 });
    assert.equal(outcome.status === 'scored' && outcome.readTwice, false, 'one read was enough');
    await assertExactTopShare(outcome, file);
  } finally {
    await cleanup();
  }
});

test('a concatenated gzip with more rows than its recorded size says is read a second time, and still flags exactly the top 5% by score', async () => {
  // Two days of real rows (about 80,000) written highest score first, as two gzip members, the
  // second of ten rows: a gzip records only its last member's size, so the file looks like the
  // smallest there is (65,536 rows). The first read keeps the top 5% of that many rows, and lets
  // go of rows ranked below them that the top 5% of the whole file then needs from a second read.
  const days = [await realDay(SCORED_DAY), await realDay(shared('rotated', 'rita-missing-host', '2024-04-21'))];
  const lines = days.flatMap((day) => day.lines);
  const order = byScoreDescending(scoreRecords(backend.tf, model, days.flatMap((day) => day.records)));
  assert.ok(order.length > 65_536 * 1.05, `${order.length} rows: more than the smallest bound and its share`);
  const { dir, cleanup } = await tempDir('zeek-anomaly-falling-');
  try {
    const file = join(dir, 'conn.log.gz');
    const text = order.map((i) => `${lines[i]!}\n`);
    await writeFile(file, Buffer.concat([gzipSync(days[0]!.header + text.slice(0, -10).join('')), gzipSync(text.slice(-10).join('') + ZEEK_CLOSE)]));
    const outcome = await scoreFile(backend.tf, model, file, { mode: 'per-file', quantile: 0.95 });
    assert.equal(outcome.status === 'scored' && outcome.readTwice, true, "the top share was not all among the first read's candidates");
    await assertExactTopShare(outcome, file);
  } finally {
    await cleanup();
  }
});

test('baseline mode flags the rows above the model threshold, however many they are', async () => {
  const outcome = await scoreFile(backend.tf, model, SCORED_FILE, { mode: 'baseline', quantile: 0.95 });
  assert.equal(outcome.status, 'scored');
  if (outcome.status !== 'scored') return;
  const scores = scoreRecords(backend.tf, model, scoredRecords);
  const above = scoredRecords.filter((_, i) => scores[i]! > model.baselineThreshold).map((r) => r.uid);
  assert.deepEqual(
    [...outcome.flagged].map((f) => f.uid),
    above,
  );
  assert.equal(outcome.flaggedCount, above.length);
  assert.equal(outcome.threshold, model.baselineThreshold);
});

test('an unreadable file is a failed outcome naming the file, not a throw', async () => {
  const outcome = await scoreFile(backend.tf, model, shared('formats', 'tsv', 'zeek-baselines', 'opt.basic.conn.log'), { mode: 'per-file', quantile: 0.95 });
  assert.equal(outcome.status, 'failed');
  if (outcome.status === 'failed') assert.match(outcome.error.message, /opt\.basic\.conn\.log: none of its 34 data lines could be read/);
});

test('a real dns archive named as a conn archive is refused, at its #path line, as the dns log it is', async () => {
  const { dir, cleanup } = await tempDir('zeek-anomaly-disguised-');
  try {
    const file = join(dir, '2024-04-19', 'conn.00:00:00-01:00:00.log.gz');
    await mkdir(join(dir, '2024-04-19'));
    await copyFile(otherLog('rita-missing-host', '2024-04-19', 'dns.00:00:00-01:00:00.log.gz'), file);
    const outcome = await scoreFile(backend.tf, model, file, { mode: 'per-file', quantile: 0.95 });
    assert.equal(outcome.status, 'failed');
    if (outcome.status !== 'failed') return;
    assert.equal(outcome.error.code, 'wrong-log-type');
    assert.equal(outcome.error.line, 5);
    assert.equal(outcome.error.message, `${file}:5: this is a Zeek 'dns' log (#path dns), not a conn log`);
  } finally {
    await cleanup();
  }
});

test('an aborted signal stops scoring with nothing flagged', async () => {
  const controller = new AbortController();
  controller.abort();
  const outcome = await scoreFile(backend.tf, model, SCORED_FILE, { mode: 'per-file', quantile: 0.95, signal: controller.signal });
  assert.equal(outcome.status, 'aborted');
});

test('the candidate table keeps row order through pruning and gives rows back as they were, context values in words', () => {
  const table = new CandidateTable(['duration', 'orig_bytes', 'service', 'channel.conns_1h']);
  const rows = scoredRecords.slice(0, 50);
  rows.forEach((record, i) =>
    table.add(i * 3, i, record, i % 2 === 0 ? [{ feature: 'orig_bytes', share: 0.5 }, { feature: 'channel.conns_1h', share: 0.25, value: 87.4 }] : [], i / 2, i % 3 === 0 ? NaN : i / 4),
  );
  table.prune(25);
  assert.equal(table.size, 25);
  assert.equal(table.has(3 * 10), false, 'scored below the cut');
  assert.equal(table.has(3 * 30 + 1), false, 'an index never added');
  const back = table.get(3 * 30, 1.5, 'v0002-20240101T000000Z');
  const record = rows[30]!;
  assert.deepEqual(back, {
    ts: record.ts,
    uid: record.uid,
    origH: record['id.orig_h'],
    origP: record['id.orig_p'],
    respH: record['id.resp_h'],
    respP: record['id.resp_p'],
    proto: record.proto,
    service: record.service,
    duration: record.duration,
    origBytes: record.orig_bytes,
    respBytes: record.resp_bytes,
    connState: record.conn_state,
    history: record.history,
    origPkts: record.orig_pkts,
    respPkts: record.resp_pkts,
    score: 30,
    threshold: 1.5,
    modelVersion: 'v0002-20240101T000000Z',
    explanation: [
      { feature: 'orig_bytes', share: 0.5 },
      {
        feature: 'channel.conns_1h',
        share: 0.25,
        text: `channel ${record['id.orig_h']} → ${record['id.resp_h']}:${record['id.resp_p']}/${record.proto}: 87 connections (half-life 1 h)`,
      },
    ],
    connScore: 15,
    contextScore: null,
  });
  assert.equal(table.get(3 * 32, 1, 'v')?.contextScore, 8, 'the context error kept beside the combined score');
  assert.deepEqual(table.get(3 * 31, 1, 'v')?.explanation, []);
});

/** That `outcome` flagged exactly the top 5% of `file` by score, with their scores and explanations, as scoring every row apart from scoreFile finds them. */
async function assertExactTopShare(outcome: ScoreOutcome, file: string): Promise<void> {
  assert.equal(outcome.status, 'scored');
  if (outcome.status !== 'scored') return;
  // Brute force: read the file whole, score every row, sort, take the top ceil(5%).
  const written = (await readAll(file)).records;
  const scores = scoreRecords(backend.tf, model, written);
  assert.ok(scores[0]! > scores[scores.length - 1]!, 'the rows score lower towards the end of the file');
  const k = Math.ceil(0.05 * written.length);
  const expected = byScoreDescending(scores)
    .slice(0, k)
    .sort((a, b) => a - b);
  const flagged = [...outcome.flagged];
  assert.equal(outcome.rows, written.length);
  assert.equal(outcome.flaggedCount, k);
  assert.deepEqual(
    flagged.map((f) => f.uid),
    expected.map((i) => written[i]!.uid),
  );
  flagged.forEach((f, n) => {
    const score = scores[expected[n]!]!;
    assert.ok(Math.abs(f.score - score) <= 1e-6 * Math.max(1, score), `${f.uid}: score ${f.score}, brute force ${score}`);
  });
  assert.ok(flagged.every((f) => f.score >= outcome.threshold && f.threshold === outcome.threshold));
  assert.ok(flagged.every((f) => f.explanation.length > 0), 'every flagged row has its explanation');
}

/** Row indices by score, highest first, ties going to the earlier row. */
function byScoreDescending(scores: Float32Array): number[] {
  return Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b);
}

/** A zeekctl day's archives as one log: the first archive's header, every data line in order, and the rows as read. */
async function realDay(day: string): Promise<{ header: string; lines: string[]; records: ConnRecord[] }> {
  let header: string | undefined;
  const lines: string[] = [];
  const records: ConnRecord[] = [];
  for (const archive of await archivesIn(day)) {
    const text = gunzipSync(await readFile(archive)).toString('utf8');
    const own = text.slice(0, text.search(/^[^#]/m));
    header ??= own;
    assert.equal(own.split('\n').find((l) => l.startsWith('#fields')), header.split('\n').find((l) => l.startsWith('#fields')), `${archive}: the same columns`);
    const { records: read, summary } = await readAll(archive);
    const data = dataLinesOf(text);
    assert.equal(summary.badLines, 0, archive);
    assert.equal(read.length, data.length, `${archive}: one record per data line`);
    lines.push(...data);
    records.push(...read);
  }
  assert.ok(header !== undefined, `no archives in ${day}`);
  return { header, lines, records };
}
