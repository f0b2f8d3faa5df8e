import * as assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { CandidateTable } from '../pipeline/score/candidate-table.js';
import type { ConnRecord } from '../pipeline/read/conn-record.js';
import type { ScoringModel } from '../model/load-scoring-model.js';
import { scoreFile } from '../pipeline/score/score-file.js';
import { DEFAULT_TRAIN_OPTIONS } from '../model/autoencoder.js';
import { initBackend, type Backend } from '../model/backend.js';
import { fitDetector, scoreRecords } from '../model/detector.js';
import { presetNamed } from '../preprocess/presets.js';
import { shared } from './support/paths.js';
import { readAll } from './support/read.js';

const TRAIN_FILE = shared('rotated', 'rita-missing-host', '2024-04-19', 'conn.10:00:00-11:00:00.log.gz');
const SCORED_FILE = shared('rotated', 'rita-missing-host', '2024-04-20', 'conn.12:00:00-13:00:00.log.gz');

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
  model = { version: 'v0001-20240101T000000Z', preprocessor: detector.preprocessor, model: detector.model, baselineThreshold: 0.5 };
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
  assert.equal(outcome.flaggedCount, k);
  assert.deepEqual(
    flagged.map((f) => f.uid),
    expected,
  );
  assert.ok(flagged.every((f) => f.score >= outcome.threshold && f.threshold === outcome.threshold));
  assert.ok(flagged.every((f) => f.explanation.length > 0 && f.explanation.every((e) => e.share > 0 && e.share <= 1)));
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

test('an aborted signal stops scoring with nothing flagged', async () => {
  const controller = new AbortController();
  controller.abort();
  const outcome = await scoreFile(backend.tf, model, SCORED_FILE, { mode: 'per-file', quantile: 0.95, signal: controller.signal });
  assert.equal(outcome.status, 'aborted');
});

test('the candidate table keeps row order through pruning and gives rows back as they were', () => {
  const table = new CandidateTable(['duration', 'orig_bytes', 'service']);
  const rows = scoredRecords.slice(0, 50);
  rows.forEach((record, i) => table.add(i * 3, i, record, i % 2 === 0 ? [{ feature: 'orig_bytes', share: 0.75 }] : []));
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
    explanation: [{ feature: 'orig_bytes', share: 0.75 }],
  });
  assert.deepEqual(table.get(3 * 31, 1, 'v')?.explanation, []);
});
