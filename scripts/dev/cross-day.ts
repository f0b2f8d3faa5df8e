/**
 * The cross-day test: train on normal days of the demo's office network, test on the day after,
 * which holds the demo's five attacks, and measure each attack against that day's normal traffic.
 * It asks what the held-back acceptance test asks — an infected workstation's refused C2 calls
 * are ordinary rows one by one; does the score find them? — on data anyone can regenerate.
 *
 *   node dist/scripts/dev/cross-day.js [--normal-days N] [--rows-per-hour R] [--seed S] [--sampling uniform|stratified --max-rows M] [--min-improvement F] [--json]
 *
 * `--sampling` trains on a sample of at most `--max-rows` of the normal days' rows, drawn as
 * retrain draws it (see pipeline/train/training-sample.ts); without it, on every row.
 * `--min-improvement` overrides the training default of the same name (model/autoencoder.ts).
 *
 * For each attack and each scorer (the per-connection model alone, the context model alone, and
 * the two combined as the service combines them): ROC-AUC of the attack's rows against the test
 * day's normal rows (the other attacks' rows left out), the attack's best rank among the normal
 * rows and among all rows, and its share of rows in the day's top 1%; and per source host: ROC-AUC
 * over the day's source hosts ranked by their worst row, and the attacking host's rank among them
 * (a host is the attacker when most of its rows are the attack's).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_TRAIN_OPTIONS } from '../../model/autoencoder.js';
import { initBackend } from '../../model/backend.js';
import { entityFigures, rocAuc } from '../../model/metrics.js';
import { BASELINE_QUANTILE } from '../../model/train-model.js';
import { findConnLogs } from '../../pipeline/discover/log-files.js';
import type { ConnRecord } from '../../pipeline/read/conn-record.js';
import { readConnLog } from '../../pipeline/read/read-conn-log.js';
import { ContextState, DEFAULT_CONTEXT_LIMITS } from '../../pipeline/context/context-state.js';
import { trainAndScore, withContext, type ScoredRows } from '../../pipeline/train/evaluate.js';
import { SAMPLING_METHODS, type SamplingMethod } from '../../pipeline/train/training-sample.js';
import { presetNamed } from '../../preprocess/presets.js';
import { DEMO_DEFAULTS, writeDemoArchive } from '../demo-data.js';

interface AttackFigures {
  attack: string;
  rows: number;
  scorer: 'connection' | 'context' | 'combined';
  rocAuc: number;
  /** 1 + the normal rows of the day that score above the attack's best row: its rank among the rows an analyst would otherwise see. */
  rankAmongNormal: number;
  bestRank: number;
  topPercentShare: number;
  hostRocAuc: number;
  /** The attacking host's rank among the day's source hosts by their worst row (1 is the top); null when no host is mostly the attack's (a spoofed flood). */
  hostRank: number | null;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'normal-days': { type: 'string', default: '1' },
      'rows-per-hour': { type: 'string', default: String(DEMO_DEFAULTS.rowsPerHour) },
      seed: { type: 'string', default: String(DEMO_DEFAULTS.seed) },
      sampling: { type: 'string' },
      'max-rows': { type: 'string' },
      'min-improvement': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const sample = sampleOption(values.sampling, values['max-rows']);
  const dir = await mkdtemp(join(tmpdir(), 'zeek-anomaly-cross-day-'));
  try {
    const manifest = await writeDemoArchive(dir, { days: Number(values['normal-days']), rowsPerHour: Number(values['rows-per-hour']), seed: Number(values.seed) });
    const attackDay = manifest.attackDay!;
    const train: ConnRecord[] = [];
    const test: ConnRecord[] = [];
    for (const found of (await findConnLogs([dir], { nameTimeZone: 'utc' })).files) {
      const into = found.path.includes(`/${attackDay}/`) ? test : train;
      for await (const batch of readConnLog(found.path)) into.push(...batch);
    }
    const byTime = (a: ConnRecord, b: ConnRecord): number => a.ts - b.ts;
    const state = new ContextState(DEFAULT_CONTEXT_LIMITS);
    const trainRows = withContext(train.sort(byTime), state);
    const testRows = withContext(test.sort(byTime), state);
    const { tf } = await initBackend({ log: () => {} });
    const scored = await trainAndScore(tf, trainRows, testRows, {
      preset: presetNamed('default'),
      train: values['min-improvement'] === undefined ? DEFAULT_TRAIN_OPTIONS : { ...DEFAULT_TRAIN_OPTIONS, minImprovement: Number(values['min-improvement']) },
      seed: 1,
      thresholdQuantile: BASELINE_QUANTILE,
      ...(sample === undefined ? {} : { sample }),
    });
    const attackOf = new Map<string, string>();
    for (const attack of manifest.attacks) for (const uid of attack.uids) attackOf.set(uid, attack.name);
    const figures: AttackFigures[] = [];
    for (const attack of manifest.attacks) {
      for (const scorer of ['connection', 'context', 'combined'] as const) figures.push(measure(attack.name, scorer, scoresOf(scored, scorer), test, attackOf));
    }
    if (values.json) {
      for (const f of figures) process.stdout.write(`${JSON.stringify(f)}\n`);
      return;
    }
    process.stdout.write(
      `trained on ${sample === undefined ? '' : `a ${sample.method} sample of at most ${sample.maxRows.toLocaleString('en-US')} of `}${train.length.toLocaleString('en-US')} rows of ${manifest.days.slice(0, -1).join(', ')}; tested on ${test.length.toLocaleString('en-US')} rows of ${attackDay}\n\n`,
    );
    process.stdout.write('| attack | rows | scorer | ROC-AUC | rank among normal rows | best rank, all rows | in top 1% | host ROC-AUC | host rank |\n|---|---:|---|---:|---:|---:|---:|---:|---:|\n');
    for (const f of figures) {
      process.stdout.write(
        `| ${f.attack} | ${f.rows.toLocaleString('en-US')} | ${f.scorer} | ${f.rocAuc.toFixed(3)} | ${f.rankAmongNormal.toLocaleString('en-US')} | ${f.bestRank.toLocaleString('en-US')} | ${(100 * f.topPercentShare).toFixed(1)}% | ${f.hostRocAuc.toFixed(3)} | ${f.hostRank === null ? 'n/a' : f.hostRank.toLocaleString('en-US')} |\n`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function sampleOption(method: string | undefined, maxRows: string | undefined): { method: SamplingMethod; maxRows: number } | undefined {
  if (method === undefined) {
    if (maxRows !== undefined) throw new Error('--max-rows needs --sampling');
    return undefined;
  }
  if (!(SAMPLING_METHODS as readonly string[]).includes(method)) throw new Error(`--sampling is '${method}'; it must be ${SAMPLING_METHODS.join(' or ')}`);
  const rows = Number(maxRows);
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`--max-rows is '${maxRows}'; --sampling needs a whole number of rows ≥ 1`);
  return { method: method as SamplingMethod, maxRows: rows };
}

function scoresOf(scored: ScoredRows, scorer: AttackFigures['scorer']): Float32Array {
  if (scorer === 'connection') return scored.conn;
  if (scorer === 'context') return scored.context!;
  return scored.scores;
}

/** One attack against the test day's normal rows, the other attacks' rows left out. */
function measure(attack: string, scorer: AttackFigures['scorer'], scores: Float32Array, test: readonly ConnRecord[], attackOf: ReadonlyMap<string, string>): AttackFigures {
  const kept: number[] = [];
  const labels: boolean[] = [];
  test.forEach((record, i) => {
    const of = record.uid === null ? undefined : attackOf.get(record.uid);
    if (of !== undefined && of !== attack) return;
    kept.push(i);
    labels.push(of === attack);
  });
  const keptScores = Float32Array.from(kept, (i) => scores[i]!);
  // Ranks among every row of the day, attacks included.
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b);
  const rankOf = new Int32Array(scores.length);
  order.forEach((row, rank) => (rankOf[row] = rank + 1));
  const attackRows = kept.filter((_, j) => labels[j]);
  const best = Math.max(...attackRows.map((i) => scores[i]!));
  const normalAbove = kept.filter((i, j) => !labels[j] && scores[i]! > best).length;
  const topPercent = Math.ceil(scores.length / 100);
  const hosts = entityFigures(kept.map((i) => test[i]!['id.orig_h']), keptScores, labels, []);
  return {
    attack,
    rows: attackRows.length,
    scorer,
    rocAuc: rocAuc(keptScores, labels),
    rankAmongNormal: normalAbove + 1,
    bestRank: Math.min(...attackRows.map((i) => rankOf[i]!)),
    topPercentShare: attackRows.filter((i) => rankOf[i]! <= topPercent).length / attackRows.length,
    hostRocAuc: hosts.rocAuc,
    hostRank: hosts.firstMaliciousRank,
  };
}


await main();
