import type { ConnRecord } from '../read/conn-record.js';
import { readConnLog } from '../read/read-conn-log.js';
import type { Preset } from '../../preprocess/feature-spec.js';
import type { TrainOptions } from '../../model/autoencoder.js';
import type { Tf } from '../../model/backend.js';
import { fitDetector, scoreRecords } from '../../model/detector.js';
import { atThreshold, averagePrecision, quantile, rocAuc } from '../../model/metrics.js';
import { seededRandom, shuffleInPlace } from '../../model/random.js';

export type Label = 'benign' | 'malicious';

export type EvaluationOutcome =
  | {
      status: 'evaluated';
      file: string;
      preset: string;
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
    }
  | { status: 'skipped'; file: string; preset: string; reason: string };

export interface EvaluateOptions {
  preset: Preset;
  train: TrainOptions;
  seed: number;
  /** The threshold: this quantile of the training rows' scores. */
  thresholdQuantile: number;
}

/** The share of benign training rows held out to stop training early on. */
const VALIDATION_SHARE = 0.1;

/**
 * The single-file protocol: rows sorted by `ts` (stable), the model trained on the Benign rows of
 * the first half and tested on the Benign and Malicious rows of the second half. Background and
 * Unknown rows are not ground truth and are left out of both.
 */
export async function evaluateFile(tf: Tf, file: string, options: EvaluateOptions): Promise<EvaluationOutcome> {
  const records = await readRecords(file);
  records.sort((a, b) => a.ts - b.ts);
  const half = Math.floor(records.length / 2);
  return evaluate(tf, file, records.slice(0, half), records.slice(half), options);
}

/** The two-set protocol: trained on the Benign rows of `trainFiles`, tested on the labeled rows of `testFiles`. */
export async function evaluateFiles(tf: Tf, trainFiles: string[], testFiles: string[], options: EvaluateOptions): Promise<EvaluationOutcome> {
  const train = (await Promise.all(trainFiles.map(readRecords))).flat();
  const test = (await Promise.all(testFiles.map(readRecords))).flat();
  return evaluate(tf, `${trainFiles.join(',')} → ${testFiles.join(',')}`, train, test, options);
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

async function evaluate(
  tf: Tf,
  file: string,
  trainPart: readonly ConnRecord[],
  testPart: readonly ConnRecord[],
  options: EvaluateOptions,
): Promise<EvaluationOutcome> {
  const preset = options.preset.name;
  const benign = trainPart.filter((r) => labelOf(r) === 'benign');
  const test = testPart.filter((r) => labelOf(r) !== null);
  const labels = test.map((r) => labelOf(r) === 'malicious');
  const malicious = labels.filter(Boolean).length;
  const skip = (reason: string): EvaluationOutcome => ({ status: 'skipped', file, preset, reason });
  if (benign.length < 20) return skip(`only ${benign.length} Benign rows to train on`);
  if (malicious === 0 || malicious === test.length) return skip(`the test rows hold one class only (${malicious} of ${test.length} Malicious)`);

  const shuffled = shuffleInPlace([...benign], seededRandom(options.seed));
  const validationRows = Math.max(1, Math.round(shuffled.length * VALIDATION_SHARE));
  const detector = await fitDetector(tf, shuffled.slice(validationRows), shuffled.slice(0, validationRows), options.preset, {
    ...options.train,
    seed: options.seed,
  });
  const threshold = quantile(scoreRecords(tf, detector, benign), options.thresholdQuantile);
  const scores = scoreRecords(tf, detector, test);
  const at = atThreshold(scores, labels, threshold);
  detector.model.dispose();
  return {
    status: 'evaluated',
    file,
    preset,
    train: benign.length,
    test: test.length,
    malicious,
    rocAuc: rocAuc(scores, labels),
    prAuc: averagePrecision(scores, labels),
    precision: at.precision,
    recall: at.recall,
    flagRate: at.flagRate,
    threshold,
    epochs: detector.epochs.length,
  };
}

async function readRecords(file: string): Promise<ConnRecord[]> {
  const records: ConnRecord[] = [];
  for await (const batch of readConnLog(file)) for (const record of batch) records.push(record);
  return records;
}
