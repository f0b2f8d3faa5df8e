import type { ConnRecord } from '../read/conn-record.js';
import { readConnLog } from '../read/read-conn-log.js';
import { CONTEXT_FEATURES, CONTEXT_WIDTH } from '../context/context-features.js';
import { ContextState, DEFAULT_CONTEXT_LIMITS } from '../context/context-state.js';
import type { Preset } from '../../preprocess/feature-spec.js';
import type { TrainOptions } from '../../model/autoencoder.js';
import type { Tf } from '../../model/backend.js';
import { combinedScore, scaleOf } from '../../model/combine.js';
import { fitContextDetector, scoreContextRows, type ContextRows } from '../../model/context-detector.js';
import { fitDetector, scoreRecords } from '../../model/detector.js';
import { atThreshold, averagePrecision, entityFigures, rocAuc, type EntityFigures } from '../../model/metrics.js';
import { seededRandom, shuffleInPlace } from '../../model/random.js';
import { weightsOf, type SampleWeights } from '../../model/sample-weights.js';
import { BASELINE_QUANTILE } from '../../model/train-model.js';
import { weightedQuantile } from '../../model/weighted-stats.js';
import { trainingSample, type SamplingMethod } from './training-sample.js';

export type Label = 'benign' | 'malicious';

export type EvaluationOutcome =
  | {
      status: 'evaluated';
      file: string;
      preset: string;
      /** Whether the score is the combined per-connection and context score, or the per-connection one alone. */
      context: boolean;
      /** Benign rows trained on (validation rows for early stopping included). */
      train: number;
      /** Labeled rows tested (Benign and Malicious). */
      test: number;
      malicious: number;
      rocAuc: number;
      prAuc: number;
      precision: number;
      recall: number;
      flagRate: number;
      threshold: number;
      epochs: number;
      /** With context: the ROC-AUC of each model's error alone, to see what each brings. */
      parts: { connRocAuc: number; contextRocAuc: number } | null;
      /** Source hosts of the test rows ranked by their worst score (a host is malicious when most of its labeled rows are). */
      hosts: EntityFigures;
    }
  | { status: 'skipped'; file: string; preset: string; reason: string };

export interface EvaluateOptions {
  preset: Preset;
  train: TrainOptions;
  seed: number;
  /** The threshold: this quantile of the training rows' scores. */
  thresholdQuantile: number;
  /** Score with the context model beside the per-connection one (the default), as the service does. */
  context?: boolean;
  /** A row's ground truth; by default its label column (`labelOf`). */
  label?: (record: ConnRecord) => Label | null;
  /** Train on a sample of the Benign rows drawn as retrain draws it (in the order given); default: all of them. */
  sample?: { method: SamplingMethod; maxRows: number };
}

/** The share of benign training rows held out to stop training early on. */
const VALIDATION_SHARE = 0.1;
/** Precision is reported over the top this many source hosts. */
const HOST_KS = [1, 3, 5, 10];

/** A row with its context as it stood when the row arrived (replayed in time order over every row, labeled or not). */
export interface Row {
  record: ConnRecord;
  context: Float32Array | null;
}

/**
 * The single-file protocol: rows sorted by `ts` (stable), the model trained on the Benign rows of
 * the first half and tested on the Benign and Malicious rows of the second half. Background and
 * Unknown rows are not ground truth and are left out of both — but they are traffic, so they are
 * counted by the context stage, which sees every row in time order.
 */
export async function evaluateFile(tf: Tf, file: string, options: EvaluateOptions): Promise<EvaluationOutcome> {
  const records = await readRecords(file);
  records.sort((a, b) => a.ts - b.ts);
  const rows = withContext(records, options.context !== false ? new ContextState(DEFAULT_CONTEXT_LIMITS) : null);
  const half = Math.floor(rows.length / 2);
  return evaluate(tf, file, rows.slice(0, half), rows.slice(half), options);
}

/**
 * The two-set protocol: trained on the Benign rows of `trainFiles`, tested on the labeled rows of
 * `testFiles`. The context stage replays the training files, then the test files, each set in
 * time order, so the test rows meet the context the training days built up, as in the service.
 */
export async function evaluateFiles(tf: Tf, trainFiles: string[], testFiles: string[], options: EvaluateOptions): Promise<EvaluationOutcome> {
  const byTime = (a: ConnRecord, b: ConnRecord): number => a.ts - b.ts;
  const train = (await Promise.all(trainFiles.map(readRecords))).flat().sort(byTime);
  const test = (await Promise.all(testFiles.map(readRecords))).flat().sort(byTime);
  const state = options.context !== false ? new ContextState(DEFAULT_CONTEXT_LIMITS) : null;
  return evaluate(tf, `${trainFiles.join(',')} → ${testFiles.join(',')}`, withContext(train, state), withContext(test, state), options);
}

/** The row's ground truth from a Stratosphere (`label`) or IoT-23 label column, any case; null when not ground truth. */
export function labelOf(record: ConnRecord): Label | null {
  const value = record.extras?.label;
  if (typeof value !== 'string') return null;
  const label = value.trim().toLowerCase();
  if (label.startsWith('benign')) return 'benign';
  if (label.startsWith('malicious')) return 'malicious';
  return null;
}

async function evaluate(tf: Tf, file: string, trainPart: readonly Row[], testPart: readonly Row[], options: EvaluateOptions): Promise<EvaluationOutcome> {
  const preset = options.preset.name;
  const label = options.label ?? labelOf;
  const benign = trainPart.filter((r) => label(r.record) === 'benign');
  const test = testPart.filter((r) => label(r.record) !== null);
  const labels = test.map((r) => label(r.record) === 'malicious');
  const malicious = labels.filter(Boolean).length;
  const skip = (reason: string): EvaluationOutcome => ({ status: 'skipped', file, preset, reason });
  if (benign.length < 20) return skip(`only ${benign.length} Benign rows to train on`);
  if (malicious === 0 || malicious === test.length) return skip(`the test rows hold one class only (${malicious} of ${test.length} Malicious)`);

  const scored = await trainAndScore(tf, benign, test, options);
  const at = atThreshold(scored.scores, labels, scored.threshold);
  return {
    status: 'evaluated',
    file,
    preset,
    context: scored.context !== null,
    train: benign.length,
    test: test.length,
    malicious,
    rocAuc: rocAuc(scored.scores, labels),
    prAuc: averagePrecision(scored.scores, labels),
    precision: at.precision,
    recall: at.recall,
    flagRate: at.flagRate,
    threshold: scored.threshold,
    epochs: scored.epochs,
    parts: scored.context === null ? null : { connRocAuc: rocAuc(scored.conn, labels), contextRocAuc: rocAuc(scored.context, labels) },
    hosts: entityFigures(test.map((r) => r.record['id.orig_h']), scored.scores, labels, HOST_KS),
  };
}

/** What `trainAndScore` gives: each test row's score, and its parts. */
export interface ScoredRows {
  /** The combined score with context, else the per-connection error. */
  scores: Float32Array;
  conn: Float32Array;
  /** The context error alone; null without context. */
  context: Float32Array | null;
  /** `thresholdQuantile` of the training rows' scores. */
  threshold: number;
  epochs: number;
}

/**
 * Trains on `benign` rows (10% held out to stop early on) as retrain would, and scores `test`:
 * the per-connection autoencoder, and with context the context autoencoder, the two errors
 * combined over their validation baselines as the service combines them. With `sample`, on a
 * sample of `benign` drawn as retrain draws one, its weights used as retrain uses them.
 */
export async function trainAndScore(tf: Tf, benign: readonly Row[], test: readonly Row[], options: EvaluateOptions): Promise<ScoredRows> {
  const { rows: trained, weights } = sampled(benign, options);
  const order = shuffleInPlace(Array.from(trained, (_, i) => i), seededRandom(options.seed));
  const validationRows = Math.max(1, Math.round(order.length * VALIDATION_SHARE));
  const fitOrder = order.slice(validationRows);
  const validationOrder = order.slice(0, validationRows);
  const fitRows = fitOrder.map((i) => trained[i]!);
  const validation = validationOrder.map((i) => trained[i]!);
  const fitWeights: SampleWeights | undefined = weights === null ? undefined : { train: weightsOf(weights, fitOrder), validation: weightsOf(weights, validationOrder) };
  const recordsOf = (rows: readonly Row[]): ConnRecord[] => rows.map((r) => r.record);
  const detector = await fitDetector(tf, recordsOf(fitRows), recordsOf(validation), options.preset, { ...options.train, seed: options.seed }, fitWeights);
  const connTrain = scoreRecords(tf, detector, recordsOf(trained));
  const conn = scoreRecords(tf, detector, recordsOf(test));
  detector.model.dispose();
  if (options.context === false) {
    return { scores: conn, conn, context: null, threshold: weightedQuantile(connTrain, weights, options.thresholdQuantile), epochs: detector.epochs.length };
  }
  const contextDetector = await fitContextDetector(tf, contextOf(fitRows), contextOf(validation), CONTEXT_FEATURES, { ...options.train, seed: options.seed + 1 }, undefined, fitWeights);
  const contextTrain = scoreContextRows(tf, contextDetector, contextOf(trained)).scores;
  const context = scoreContextRows(tf, contextDetector, contextOf(test)).scores;
  contextDetector.model.dispose();
  // Each model's error over its baseline, as trainModel sets them (from the validation rows).
  const validationOf = (scores: Float32Array): Float32Array => Float32Array.from(validationOrder, (i) => scores[i]!);
  const validationWeights = fitWeights?.validation ?? null;
  const scales = {
    conn: scaleOf(weightedQuantile(validationOf(connTrain), validationWeights, BASELINE_QUANTILE)),
    context: scaleOf(weightedQuantile(validationOf(contextTrain), validationWeights, BASELINE_QUANTILE)),
  };
  const trainScores = Float32Array.from(connTrain, (score, i) => combinedScore(score, contextTrain[i]!, scales));
  return {
    scores: Float32Array.from(conn, (score, i) => combinedScore(score, context[i]!, scales)),
    conn,
    context,
    threshold: weightedQuantile(trainScores, weights, options.thresholdQuantile),
    epochs: detector.epochs.length + contextDetector.epochs.length,
  };
}

/** The rows to train on: all of `benign`, or the sample `options.sample` asks for, with its weights. */
function sampled(benign: readonly Row[], options: EvaluateOptions): { rows: readonly Row[]; weights: Float64Array | null } {
  if (options.sample === undefined) return { rows: benign, weights: null };
  const sample = trainingSample(options.sample.method, options.sample.maxRows, options.seed);
  for (const row of benign) sample.offer(row);
  return sample.drawn();
}

/** Each record with its context features, the state counting them in the order given. */
export function withContext(records: readonly ConnRecord[], state: ContextState | null): Row[] {
  if (state === null) return records.map((record) => ({ record, context: null }));
  const features = state.observeAll(records);
  return records.map((record, i) => ({ record, context: features.subarray(i * CONTEXT_WIDTH, (i + 1) * CONTEXT_WIDTH) }));
}

function contextOf(rows: readonly Row[]): ContextRows {
  const x = new Float32Array(rows.length * CONTEXT_WIDTH);
  rows.forEach((row, i) => x.set(row.context!, i * CONTEXT_WIDTH));
  return { x, rows: rows.length };
}

async function readRecords(file: string): Promise<ConnRecord[]> {
  const records: ConnRecord[] = [];
  for await (const batch of readConnLog(file)) for (const record of batch) records.push(record);
  return records;
}
