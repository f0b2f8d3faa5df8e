import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DEFAULT_SCORE_BATCH, scoreAll } from '../model/autoencoder.js';
import { initBackend } from '../model/backend.js';
import { Reservoir, seededRandom, shuffleInPlace } from '../model/random.js';
import { ModelStore } from '../model/store.js';
import { DEFAULT_SPLIT } from '../model/train-model.js';
import { detachedRecord, type ConnRecord } from '../pipeline/read/conn-record.js';
import { findConnLogs } from '../pipeline/discover/log-files.js';
import { LogReadError } from '../pipeline/read/log-read-error.js';
import { readConnLog } from '../pipeline/read/read-conn-log.js';
import type { BadLinePolicy } from '../pipeline/read/bad-line-policy.js';
import { loadScoringModel, type ScoringModel } from '../model/load-scoring-model.js';
import type { Tf } from '../model/backend.js';
import { LogHistogram } from './aggregate.js';
import { COUNT_AXIS, FULL_WIDTH, TITLE_ABOVE, formatCount, formatShare, logTicks, powersOfTen, renderCharts, spansOrders, type Chart, type LayerView } from './charts.js';
import { writeReport } from './report.js';
import { displayPath, utcTime, type FailedFile, type NotebookBase, type NotebookResult } from './source.js';

/**
 * `model`: one version from the store. Its training curve comes from metrics.json; its test split
 * is rebuilt from the logs it was trained on, exactly: retrain's sampler is replayed on row
 * numbers alone (the reservoir's random draws depend only on how many rows it has seen, not on
 * what they hold), the seeded shuffle and the 70/10/20 split give the test rows' numbers, and a
 * second pass scores just those rows. Memory is the sample's row numbers, not the rows.
 */
export interface ModelNotebookOptions extends NotebookBase {
  dataDir: string;
  /** Default: the active version. */
  version?: string;
  /** Where the training logs are now, when they moved since training. Default: the files metrics.json lists. */
  logs?: string[];
}

interface Epoch {
  epoch: number;
  loss: number;
  valLoss: number;
  seconds: number;
}

/** What the notebook reads from metrics.json; anything missing is null and the report says so. */
interface SavedMetrics {
  createdAt: string | null;
  preset: string | null;
  backend: string | null;
  epochs: Epoch[];
  bestEpoch: number | null;
  stoppedEarly: boolean | null;
  testLoss: number | null;
  threshold: { quantile: number; value: number } | null;
  rows: { seen: number; used: number; train: number; validation: number; test: number } | null;
  sourceFiles: string[];
  failedFiles: FailedFile[];
  since: Date | null;
  until: Date | null;
  seed: number | null;
  trainingSeconds: number | null;
  /** How retrain drew its sample; models saved before there was a choice drew a uniform one. */
  sampling: string;
}

interface TestSplit {
  rows: number;
  histogram: LogHistogram;
  meanError: number;
  flagged: number;
  /** Per feature: the sum over flagged rows of its share of the row's error, and the same over all rows. */
  flaggedShares: Map<string, number>;
  allShares: Map<string, number>;
  /** True when the logs gave the same rows as at training time (same count seen, same sample size). */
  sameRows: boolean;
  rowsSeen: number;
  files: number;
}

const BLOCK_ROWS = 8192;
const FEATURES_SHOWN = 15;

export async function modelNotebook(options: ModelNotebookOptions): Promise<NotebookResult> {
  const log = options.log ?? (() => {});
  const store = new ModelStore({ dataDir: options.dataDir });
  const version = options.version ?? (await store.activeVersion());
  if (version === null) {
    throw new Error(`no active model in ${store.root}: train one with \`zeek-anomaly retrain --logs …\`, or name a version with --model (see \`zeek-anomaly models\`)`);
  }
  const backend = await initBackend({ log });
  const scoring = await loadScoringModel(backend.tf, store, { version });
  const info = (await store.list()).find((v) => v.version === version);
  const metrics = parseMetrics(info?.metrics);
  const warnings: string[] = [];
  if (metrics.epochs.length === 0) warnings.push(`metrics.json of ${version} lists no epochs: there is no training curve to draw.`);

  let split: TestSplit | null = null;
  const whyNoSplit = splitProblem(metrics, options.logs);
  if (whyNoSplit !== null) {
    warnings.push(`The test split could not be rebuilt: ${whyNoSplit}. The error histogram and the feature chart are left out.`);
  } else {
    split = await rebuildTestSplit(backend.tf, scoring, metrics, options.logs, options.badLines, log);
    if (!split.sameRows) {
      warnings.push(
        `The logs now hold ${formatCount(split.rowsSeen)} rows where training saw ${formatCount(metrics.rows!.seen)}: they changed since, so the "test split" below is the same share of today's logs, not the rows the model was measured on.`,
      );
    } else if (metrics.testLoss !== null && Math.abs(split.meanError - metrics.testLoss) > 1e-3 * Math.max(1e-9, metrics.testLoss)) {
      warnings.push(
        `The rebuilt test split's mean error (${split.meanError.toPrecision(5)}) differs from the saved test loss (${metrics.testLoss.toPrecision(5)}): the logs or the backend differ from training time.`,
      );
    }
  }

  const charts: Chart[] = [];
  if (metrics.epochs.length > 0) charts.push(lossChart(metrics));
  if (split !== null) {
    charts.push(errorHistogramChart(split, metrics));
    charts.push(featureChart(split));
  }
  scoring.model.dispose();
  if (charts.length === 0) throw new Error(`model ${version}: nothing to chart (${warnings.join(' ')})`);

  const chartsDir = join(options.out, 'charts');
  const rendered = await renderCharts(charts, chartsDir);
  const threshold = metrics.threshold;
  const rows = metrics.rows;
  const report = await writeReport(options.out, {
    title: `Model ${version}`,
    lead: `How model \`${version}\` (in \`${displayPath(store.root)}\`) trained and how it scores the rows it never saw. The training curve is from its metrics.json; the test split is rebuilt from ${split === null ? 'its training logs' : `${formatCount(split.files)} training logs`} by replaying retrain's seeded sampling and split, and scored again with the saved model.`,
    facts: [
      ['Version', `${version}${info?.active ? ' (active)' : ''}, created ${metrics.createdAt ?? 'n/a'}`],
      ['Features', `preset ${metrics.preset ?? 'n/a'}, ${scoring.preprocessor.featureNames.length} features, ${scoring.preprocessor.width} model inputs`],
      ['Rows', rows === null ? 'n/a' : `${formatCount(rows.used)} sampled of ${formatCount(rows.seen)} read: ${formatCount(rows.train)} training, ${formatCount(rows.validation)} validation, ${formatCount(rows.test)} test`],
      ['Training', `${metrics.epochs.length} epochs${metrics.bestEpoch !== null ? `, best ${metrics.bestEpoch}` : ''}${metrics.stoppedEarly ? ', stopped early' : ''} on ${metrics.backend ?? 'n/a'}${metrics.trainingSeconds !== null ? `, ${metrics.trainingSeconds.toFixed(1)} s` : ''}; seed ${metrics.seed ?? 'n/a'}`],
      ['Test loss', `${metrics.testLoss?.toPrecision(5) ?? 'n/a'} saved${split !== null ? `; ${split.meanError.toPrecision(5)} rebuilt from the logs` : ''}`],
      ['Baseline threshold', threshold === null ? 'n/a' : `${threshold.value.toPrecision(5)} (${Math.round(threshold.quantile * 100)}th percentile of validation errors)${split !== null ? `; ${formatShare(split.flagged / split.rows)} of test rows are above it` : ''}`],
      ['Training logs', `${metrics.sourceFiles.length} files${metrics.failedFiles.length > 0 ? ` (${metrics.failedFiles.length} failed at training)` : ''}${metrics.since || metrics.until ? `, rows from ${metrics.since ? utcTime(metrics.since.getTime() / 1000) : 'the start'} to ${metrics.until ? utcTime(metrics.until.getTime() / 1000) : 'the end'}` : ''}`],
    ],
    warnings,
    charts: rendered,
    command: options.command,
    chartsFolder: relative(options.out, chartsDir),
  });
  return { name: 'model', report, chartsDir, charts: rendered, warnings };
}

function splitProblem(metrics: SavedMetrics, logs: string[] | undefined): string | null {
  if (metrics.rows === null || metrics.seed === null || metrics.threshold === null) return 'metrics.json lacks rows, seed or threshold';
  // A stratified sample's draws depend on each row's group, which needs the rows and their context
  // replayed, not just their numbers.
  if (metrics.sampling !== 'uniform') return `the model was trained on a ${metrics.sampling} sample, which is not replayed here`;
  if (logs !== undefined) return null;
  if (metrics.sourceFiles.length === 0) return 'metrics.json lists no source files (give --logs)';
  const missing = metrics.sourceFiles.filter((f) => !existsSync(f));
  if (missing.length > 0) return `${missing.length} of its ${metrics.sourceFiles.length} training logs are gone (first: ${missing[0]}); give --logs where they are now`;
  return null;
}

/** The model's own test rows, scored again. Two passes over the training logs; memory is one number per sampled row. */
async function rebuildTestSplit(
  tf: Tf,
  scoring: ScoringModel,
  metrics: SavedMetrics,
  logs: string[] | undefined,
  badLines: BadLinePolicy | undefined,
  log: (message: string) => void,
): Promise<TestSplit> {
  const rows = metrics.rows!;
  const seed = metrics.seed!;
  const since = metrics.since ? metrics.since.getTime() / 1000 : -Infinity;
  const until = metrics.until ? metrics.until.getTime() / 1000 : Infinity;
  // Files that failed at training are read again: they consumed random draws before failing, and fail again the same way.
  const inputs = logs ?? [...metrics.sourceFiles, ...metrics.failedFiles.map((f) => f.file)];
  const { files } = await findConnLogs(inputs, { since: metrics.since ?? undefined, until: metrics.until ?? undefined });
  const inRange = (record: ConnRecord) => record.ts >= since && record.ts < until;

  // Pass 1: retrain's reservoir, over row numbers. Capacity `used` gives the same draws as the
  // original maxRows: when the sample was full they are equal, and when it was not no draw was made.
  log(`rebuilding the test split: pass 1 of 2 over ${files.length} files`);
  const sample = new Reservoir<number>(rows.used, seededRandom(seed));
  const failed = new Set<string>();
  for (const found of files) {
    sample.begin();
    try {
      for await (const batch of readConnLog(found.path, { badLines })) {
        for (const record of batch) if (inRange(record)) sample.offer(sample.seen);
      }
      sample.commit();
    } catch (error) {
      sample.rollback();
      if (!(error instanceof LogReadError)) throw error;
      failed.add(found.path);
    }
  }
  const ordinals = shuffleInPlace([...sample.items], seededRandom(seed));
  const trainEnd = Math.round(ordinals.length * DEFAULT_SPLIT.train);
  const validationEnd = trainEnd + Math.round(ordinals.length * DEFAULT_SPLIT.validation);
  const test = Float64Array.from(ordinals.slice(validationEnd)).sort();

  // Pass 2: score the test rows, a block at a time.
  log(`rebuilding the test split: pass 2 of 2, scoring ${formatCount(test.length)} test rows`);
  const { preprocessor, model } = scoring;
  const threshold = metrics.threshold!.value;
  const width = preprocessor.width;
  const input = new Float32Array(BLOCK_ROWS * width);
  const featureCount = preprocessor.featureNames.length;
  const histogram = new LogHistogram(10, -8, 8);
  const flaggedShares = new Map<string, number>();
  const allShares = new Map<string, number>();
  let block: ConnRecord[] = [];
  let sum = 0;
  let flagged = 0;
  let scored = 0;
  const flush = () => {
    if (block.length === 0) return;
    const x = preprocessor.transform(block, input.subarray(0, block.length * width));
    const { scores, squaredErrors } = scoreAll(tf, model, x, block.length, width, DEFAULT_SCORE_BATCH);
    for (let r = 0; r < block.length; r++) {
      const score = scores[r]!;
      histogram.add(score);
      sum += score;
      scored++;
      const above = score > threshold;
      if (above) flagged++;
      for (const { feature, share } of preprocessor.explain(squaredErrors, r, featureCount)) {
        allShares.set(feature, (allShares.get(feature) ?? 0) + share);
        if (above) flaggedShares.set(feature, (flaggedShares.get(feature) ?? 0) + share);
      }
    }
    block = [];
  };
  let ordinal = 0;
  let next = 0;
  for (const found of files) {
    if (next >= test.length) break;
    if (failed.has(found.path)) continue;
    for await (const batch of readConnLog(found.path, { badLines })) {
      for (const record of batch) {
        if (!inRange(record)) continue;
        if (ordinal === test[next]) {
          block.push(detachedRecord(record));
          next++;
          if (block.length === BLOCK_ROWS) flush();
        }
        ordinal++;
      }
      if (next >= test.length) break;
    }
  }
  flush();
  return {
    rows: scored,
    histogram,
    meanError: scored === 0 ? NaN : sum / scored,
    flagged,
    flaggedShares,
    allShares,
    sameRows: sample.seen === rows.seen && sample.items.length === rows.used,
    rowsSeen: sample.seen,
    files: files.length - failed.size,
  };
}

function lossChart(metrics: SavedMetrics): Chart {
  const values = metrics.epochs.flatMap((e) => [
    { epoch: e.epoch, series: 'training', loss: e.loss },
    { epoch: e.epoch, series: 'validation', loss: e.valLoss },
  ]);
  const losses = values.map((v) => v.loss).filter((v) => v > 0 && Number.isFinite(v));
  const logY = losses.length > 0 && Math.max(...losses) / Math.min(...losses) > 10;
  const best = metrics.bestEpoch;
  const low = Math.min(...losses);
  const high = Math.max(...losses);
  const lossScale = logY ? { type: 'log' as const, domain: [low / 1.15, high * 1.15], nice: false } : { zero: false };
  const layers: LayerView[] = [
    {
      mark: { type: 'line', point: { size: 50 }, strokeWidth: 2.5 },
      encoding: {
        y: {
          field: 'loss',
          type: 'quantitative',
          scale: lossScale,
          axis: { title: 'loss (mean squared error)', ...(logY ? { values: logTicks(low / 1.15, high * 1.15), format: '~g' } : {}) },
        },
        color: {
          field: 'series',
          type: 'nominal',
          scale: { domain: ['training', 'validation'], range: ['#4c78a8', '#f58518'] },
          legend: { title: 'loss on', orient: 'right', symbolType: 'stroke', symbolStrokeWidth: 3 },
        },
        tooltip: [
          { field: 'epoch', title: 'epoch' },
          { field: 'series', title: 'rows' },
          { field: 'loss', title: 'loss', format: '.5f' },
        ],
      },
    },
  ];
  if (best !== null) {
    // The label goes on the side of the line with room: left of it when the best epoch is the last.
    const lastEpoch = Math.max(...metrics.epochs.map((e) => e.epoch));
    const leftOfLine = best > (lastEpoch + 1) / 2;
    layers.push(
      { data: { values: [{ epoch: best }] }, mark: { type: 'rule', strokeDash: [5, 4], color: '#555' } },
      {
        data: { values: [{ epoch: best, label: `best epoch ${best}: its weights are kept` }] },
        mark: { type: 'text', align: leftOfLine ? 'right' : 'left', dx: leftOfLine ? -6 : 6, baseline: 'top', y: 6, fontSize: 12, color: '#333' },
        encoding: { text: { field: 'label' } },
      },
    );
  }
  const epochs = metrics.epochs.length;
  return {
    name: 'loss',
    heading: 'Training and validation loss per epoch',
    text: `The mean squared reconstruction error (on standard-scaled features) of the training rows during each epoch and of the validation rows after it. Both should fall and level off; a validation loss that rises while the training loss keeps falling is overfitting, which early stopping cuts short: training stops once the validation loss has not improved for a few epochs, and the weights of the best epoch are kept.${logY ? ' The loss axis is logarithmic because the first epochs are much higher than the last.' : ''}`,
    spec: {
      title: { text: 'Training and validation loss per epoch', subtitle: `${epochs} epoch${epochs === 1 ? '' : 's'}${metrics.stoppedEarly ? ', stopped early' : ''}; lower is better` },
      width: FULL_WIDTH - 120,
      height: 320,
      data: { values },
      encoding: {
        x: {
          field: 'epoch',
          type: 'quantitative',
          scale: { domain: [Math.min(0.8, ...metrics.epochs.map((e) => e.epoch)), Math.max(...metrics.epochs.map((e) => e.epoch)) + 0.2], nice: false },
          axis: { title: 'epoch', tickMinStep: 1, format: 'd' },
        },
      },
      layer: layers,
    },
  };
}

function errorHistogramChart(split: TestSplit, metrics: SavedMetrics): Chart {
  const threshold = metrics.threshold!;
  const values = split.histogram.bins().map((b) => ({ ...b, side: b.lo >= threshold.value ? 'above the threshold' : 'below the threshold' }));
  const logY = spansOrders(values.map((b) => b.count));
  const shown = values.filter((b) => !logY || b.count > 0);
  const maxCount = Math.max(1, ...shown.map((b) => b.count));
  const foot = logY ? 0.5 : 0;
  // The x axis spans the bars and the threshold, with a little room on each side.
  const lo = Math.min(shown[0]?.lo ?? threshold.value, threshold.value) / 1.5;
  const hi = Math.max(shown[shown.length - 1]?.hi ?? threshold.value, threshold.value) * 1.5;
  const notDrawn = split.histogram.zeros + split.histogram.below + split.histogram.above;
  const pct = Math.round(threshold.quantile * 100);
  return {
    name: 'error-histogram',
    heading: 'Reconstruction error of the test split',
    text: `How well the model reconstructs the ${formatCount(split.rows)} held-out test rows, which it never trained on: each connection's mean squared reconstruction error, in bins a tenth of a power of ten wide. Most connections sit in a hump of low errors; the long tail to the right is what the model finds unusual. The dashed line is the baseline threshold saved with the model, the ${pct}th percentile of the validation rows' errors: in \`baseline\` mode, rows to its right are flagged. On test rows from the same traffic about ${100 - pct}% should land there (here ${formatShare(split.flagged / split.rows)}); much more would mean the threshold does not carry over to unseen rows.`,
    spec: {
      title: {
        text: 'Reconstruction error of the test split',
        subtitle: [
          `${formatCount(split.rows)} test rows; baseline threshold ${threshold.value.toPrecision(4)} (${pct}th percentile of validation errors)`,
          `${formatShare(split.flagged / split.rows)} of test rows are above it${notDrawn > 0 ? `; ${formatCount(notDrawn)} rows outside the axis are not drawn` : ''}`,
        ],
      },
      width: FULL_WIDTH - 120,
      height: 300,
      layer: [
        {
          data: { values: shown },
          mark: { type: 'bar', orient: 'vertical', stroke: 'white', strokeWidth: 0.4 },
          encoding: {
            x: {
              field: 'lo',
              type: 'quantitative',
              scale: { type: 'log', domain: [lo, hi], nice: false },
              axis: { title: 'reconstruction error (mean squared error, log scale)', format: '~g', grid: false, values: powersOfTen(lo, hi).filter((v) => v >= lo && v <= hi) },
            },
            x2: { field: 'hi' },
            y: {
              field: 'count',
              type: 'quantitative',
              scale: logY ? { type: 'log', domain: [foot, maxCount * 1.5], nice: false } : { domain: [0, maxCount * 1.05] },
              axis: { ...COUNT_AXIS, title: logY ? 'test rows (log)' : 'test rows', ...(logY ? { values: powersOfTen(1, maxCount) } : {}) },
            },
            y2: { datum: foot },
            color: {
              field: 'side',
              type: 'nominal',
              scale: { domain: ['below the threshold', 'above the threshold'], range: ['#4c78a8', '#e45756'] },
              legend: { title: null, orient: 'top-right' },
            },
            tooltip: [
              { field: 'lo', title: 'from', format: '.4g' },
              { field: 'hi', title: 'to', format: '.4g' },
              { field: 'count', title: 'rows', format: ',' },
            ],
          },
        },
        {
          data: { values: [{ threshold: threshold.value }] },
          mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 2, color: '#222' },
          encoding: { x: { field: 'threshold', type: 'quantitative' } },
        },
        {
          data: { values: [{ threshold: threshold.value, label: `threshold ${threshold.value.toPrecision(4)}` }] },
          mark: { type: 'text', align: 'left', dx: 6, y: 8, baseline: 'top', fontSize: 12, fontWeight: 'bold' },
          encoding: { x: { field: 'threshold', type: 'quantitative' }, text: { field: 'label' } },
        },
      ],
    },
  };
}

function featureChart(split: TestSplit): Chart {
  const flaggedRows = split.flagged;
  const mean = (sums: Map<string, number>, n: number, feature: string) => (n === 0 ? 0 : (sums.get(feature) ?? 0) / n);
  const features = [...split.allShares.keys()]
    .sort((a, b) => mean(split.flaggedShares, flaggedRows, b) - mean(split.flaggedShares, flaggedRows, a) || mean(split.allShares, split.rows, b) - mean(split.allShares, split.rows, a))
    .slice(0, FEATURES_SHOWN);
  const flaggedLabel = `flagged test rows (${formatCount(flaggedRows)})`;
  const allLabel = `all test rows (${formatCount(split.rows)})`;
  const values = features.flatMap((feature) => [
    ...(flaggedRows > 0 ? [{ feature, group: flaggedLabel, share: mean(split.flaggedShares, flaggedRows, feature) }] : []),
    { feature, group: allLabel, share: mean(split.allShares, split.rows, feature) },
  ]);
  const groups = flaggedRows > 0 ? [flaggedLabel, allLabel] : [allLabel];
  return {
    name: 'error-features',
    heading: 'Which features make up the error of flagged rows',
    text: `For the test rows above the baseline threshold, the average share of each row's squared reconstruction error that each feature contributes (one-hot columns summed into their feature), next to the same average over all test rows. A feature whose share is much larger among flagged rows is what makes them stand out; these are the names the database's \`explanation\` column gives for each anomaly.${flaggedRows === 0 ? ' No test row is above the threshold, so only all test rows are shown.' : ''}`,
    spec: {
      title: {
        text: 'Share of reconstruction error by feature',
        subtitle: `mean share of each row's squared error; the ${features.length} features with the largest share in flagged rows`,
      },
      width: FULL_WIDTH - 380,
      data: { values },
      encoding: {
        y: { field: 'feature', type: 'nominal', sort: features, axis: { ...TITLE_ABOVE, title: 'feature' } },
        yOffset: { field: 'group', type: 'nominal', sort: groups },
        x: {
          field: 'share',
          type: 'quantitative',
          axis: { title: 'mean share of the row’s error (%)', format: '.0%' },
          scale: { domain: [0, Math.min(1, Math.max(0.01, ...values.map((v) => v.share)) * 1.15)] },
        },
        color: {
          field: 'group',
          type: 'nominal',
          scale: { domain: groups, range: flaggedRows > 0 ? ['#e45756', '#9fb8d3'] : ['#9fb8d3'] },
          legend: { title: null, orient: 'bottom-right', labelLimit: 400, symbolType: 'square' },
        },
      },
      height: { step: 14 },
      layer: [
        { mark: { type: 'bar' } },
        {
          mark: { type: 'text', align: 'left', dx: 3, fontSize: 11, color: '#333' },
          encoding: { text: { field: 'share', format: '.1%' }, color: { value: '#333' } },
        },
      ],
    },
  };
}

function parseMetrics(raw: unknown): SavedMetrics {
  const m = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});
  const date = (v: unknown): Date | null => {
    const s = str(v);
    const d = s === null ? null : new Date(s);
    return d !== null && !Number.isNaN(d.getTime()) ? d : null;
  };
  const epochs = (Array.isArray(m.epochs) ? m.epochs : [])
    .map(obj)
    .map((e) => ({ epoch: num(e.epoch), loss: num(e.loss), valLoss: num(e.valLoss), seconds: num(e.seconds) ?? 0 }))
    .filter((e): e is Epoch => e.epoch !== null && e.loss !== null && e.valLoss !== null);
  const t = obj(m.threshold);
  const r = obj(m.rows);
  const rows = [r.seen, r.used, r.train, r.validation, r.test].map(num);
  return {
    createdAt: str(m.createdAt),
    preset: str(m.preset),
    backend: str(m.backend),
    epochs,
    bestEpoch: num(m.bestEpoch),
    stoppedEarly: typeof m.stoppedEarly === 'boolean' ? m.stoppedEarly : null,
    testLoss: num(m.testLoss),
    threshold: num(t.value) !== null ? { value: num(t.value)!, quantile: num(t.quantile) ?? 0.95 } : null,
    rows: rows.every((v) => v !== null) ? { seen: rows[0]!, used: rows[1]!, train: rows[2]!, validation: rows[3]!, test: rows[4]! } : null,
    sourceFiles: (Array.isArray(m.sourceFiles) ? m.sourceFiles : []).filter((f): f is string => typeof f === 'string'),
    failedFiles: (Array.isArray(m.failedFiles) ? m.failedFiles : [])
      .map(obj)
      .filter((f) => typeof f.file === 'string')
      .map((f) => ({ file: f.file as string, error: str(f.error) ?? '' })),
    since: date(m.since),
    until: date(m.until),
    seed: num(m.seed),
    trainingSeconds: num(m.trainingSeconds),
    sampling: str(m.sampling) ?? 'uniform',
  };
}
