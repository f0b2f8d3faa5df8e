import { performance } from 'node:perf_hooks';
import { findConnLogs } from '../discover/log-files.js';
import { LogReadError } from '../read/log-read-error.js';
import { readConnLog } from '../read/read-conn-log.js';
import type { BadLinePolicy } from '../read/bad-line-policy.js';
import type { Preset } from '../../preprocess/feature-spec.js';
import type { EpochLog, TrainOptions } from '../../model/autoencoder.js';
import type { Backend } from '../../model/backend.js';
import type { ModelStore } from '../../model/store.js';
import { trainModel } from '../../model/train-model.js';
import { CONTEXT_FEATURES, CONTEXT_WIDTH } from '../context/context-features.js';
import { ContextState, DEFAULT_CONTEXT_LIMITS, type ContextLimits } from '../context/context-state.js';
import { plannedUniformSample } from './planned-sample.js';
import { trainingSample, type SamplingMethod } from './training-sample.js';

export interface RetrainOptions {
  logs: string[];
  since?: Date;
  until?: Date;
  maxRows: number;
  /** How the rows are drawn (see `SAMPLING_METHODS`); default `uniform`. */
  sampling?: SamplingMethod;
  preset: Preset;
  train: TrainOptions;
  seed: number;
  activate: boolean;
  badLines?: BadLinePolicy;
  /** Fewer sampled rows than this is a `failed` outcome, before any training (default and floor: 100). */
  minRows?: number;
  /** A stop: reading ends at the next batch, training at the next batch or epoch, and nothing is saved. */
  signal?: AbortSignal;
  /**
   * Train the context autoencoder too (the default): the files are replayed, oldest first,
   * through a fresh context stage with these limits, and each sampled row keeps its context.
   */
  context?: { limits: Readonly<ContextLimits> } | false;
}

/** What retraining reports as it goes; a CLI draws a progress bar from it, a service logs it. */
export type RetrainEvent =
  | { type: 'files'; found: number; ignored: number }
  | { type: 'file-read'; file: string; rows: number; sampled: number; index: number; of: number }
  | { type: 'file-failed'; file: string; error: string; index: number; of: number }
  | { type: 'training'; rows: number }
  /** An epoch of one of the two autoencoders, which train at once (the context one on a worker thread). */
  | { type: 'epoch'; model: 'connection' | 'context'; epoch: EpochLog; maxEpochs: number }
  | { type: 'saved'; version: string; activated: boolean };

export type RetrainOutcome =
  | {
      status: 'trained';
      version: string;
      activated: boolean;
      rowsSeen: number;
      rowsUsed: number;
      files: number;
      failedFiles: { file: string; error: string }[];
      testLoss: number;
      threshold: number;
      epochs: number;
      seconds: number;
    }
  | { status: 'failed'; reason: string; failedFiles: { file: string; error: string }[] }
  /** Stopped through `signal`: no model was saved. */
  | { status: 'aborted' };

// Fewer rows than this cannot fill a 70/10/20 split with enough rows to learn anything.
const MIN_ROWS = 100;

/**
 * Trains a new model version on historical logs: streams every file through the reader, keeps a
 * sample of at most `maxRows` rows (so memory does not grow with the archive; a uniform one is
 * planned in a first read that only counts rows, see planned-sample.ts), fits
 * preprocessing and the autoencoder, measures it on held-out rows, and saves it atomically.
 * A file that fails to read is reported and skipped.
 */
export async function retrain(
  backend: Backend,
  store: ModelStore,
  options: RetrainOptions,
  onEvent: (event: RetrainEvent) => void = () => {},
): Promise<RetrainOutcome> {
  const started = performance.now();
  const signal = options.signal;
  const minRows = Math.max(MIN_ROWS, options.minRows ?? MIN_ROWS);
  const { files, ignored } = await findConnLogs(options.logs, { since: options.since, until: options.until });
  onEvent({ type: 'files', found: files.length, ignored: ignored.length });

  const since = options.since ? options.since.getTime() / 1000 : -Infinity;
  const until = options.until ? options.until.getTime() / 1000 : Infinity;
  const sampling = options.sampling ?? 'uniform';
  const sample =
    sampling === 'uniform'
      ? await plannedUniformSample(files, { maxRows: options.maxRows, seed: options.seed, since, until, badLines: options.badLines, signal })
      : trainingSample(sampling, options.maxRows, options.seed);
  if (sample === null) return { status: 'aborted' };
  const contextOptions = options.context === undefined ? { limits: DEFAULT_CONTEXT_LIMITS } : options.context;
  // A file that fails half-way has already been counted here; only the training sample is rolled
  // back. The state is for training only, so that costs nothing but a little accuracy in its context.
  let context = contextOptions === false ? null : new ContextState(contextOptions.limits);
  let contextRows = new Float32Array(0);
  const failedFiles: { file: string; error: string }[] = [];
  let usedFiles = 0;
  for (const [index, found] of files.entries()) {
    if (signal?.aborted) return { status: 'aborted' };
    const reader = readConnLog(found.path, { badLines: options.badLines });
    let rows = 0;
    sample.begin();
    try {
      for await (const batch of reader) {
        if (signal?.aborted) break;
        if (context !== null) {
          if (contextRows.length < batch.length * CONTEXT_WIDTH) contextRows = new Float32Array(batch.length * CONTEXT_WIDTH);
          context.observeAll(batch, contextRows);
        }
        for (let i = 0; i < batch.length; i++) {
          const record = batch[i]!;
          if (record.ts < since || record.ts >= until) continue;
          rows++;
          sample.offer({ record, context: context === null ? null : contextRows.subarray(i * CONTEXT_WIDTH, (i + 1) * CONTEXT_WIDTH) });
        }
      }
      if (signal?.aborted) {
        sample.rollback();
        return { status: 'aborted' };
      }
      sample.commit();
      usedFiles++;
      onEvent({ type: 'file-read', file: found.path, rows, sampled: sample.size, index, of: files.length });
    } catch (error) {
      sample.rollback();
      if (!(error instanceof LogReadError)) throw error;
      failedFiles.push({ file: found.path, error: error.message });
      onEvent({ type: 'file-failed', file: found.path, error: error.message, index, of: files.length });
    }
  }

  if (sample.size < minRows) {
    const why =
      files.length === 0
        ? `no conn logs found in ${options.logs.join(', ')}`
        : `only ${sample.size} usable rows in ${files.length} files (at least ${minRows} are needed)`;
    return { status: 'failed', reason: why, failedFiles };
  }

  const drawn = sample.drawn();
  // The state has done its work (each sampled row holds its context): let it go before training,
  // which needs the memory more.
  const contextKeys = context?.sizes() ?? null;
  context = null;
  onEvent({ type: 'training', rows: drawn.rows.length });
  let trained;
  try {
    trained = await trainModel(backend.tf, drawn.rows.map((row) => row.record), {
      preset: options.preset,
      seed: options.seed,
      ...(drawn.weights === null ? {} : { weights: drawn.weights }),
      context: contextOptions === false ? undefined : { rows: drawn.rows.map((row) => row.context!), columns: CONTEXT_FEATURES },
      train: {
        ...options.train,
        signal,
        onEpoch: (epoch) => onEvent({ type: 'epoch', model: 'connection', epoch, maxEpochs: options.train.maxEpochs }),
      },
      onContextEpoch: (epoch) => onEvent({ type: 'epoch', model: 'context', epoch, maxEpochs: options.train.maxEpochs }),
    });
  } catch (error) {
    if (signal?.aborted) return { status: 'aborted' };
    throw error;
  }
  if (signal?.aborted) {
    trained.model.dispose();
    trained.context?.detector.model.dispose();
    return { status: 'aborted' };
  }
  const seconds = (performance.now() - started) / 1000;
  const version = await store.save({
    model: trained.model,
    preprocess: trained.preprocessor.toJSON(),
    context: trained.context === null ? undefined : { model: trained.context.detector.model, scaler: trained.context.detector.scaler.toJSON() },
    metrics: {
      preset: options.preset.name,
      backend: backend.name,
      rows: { seen: sample.seen, used: drawn.rows.length, ...trained.rows },
      sampling,
      sourceFiles: files.map((f) => f.path).filter((f) => !failedFiles.some((failed) => failed.file === f)),
      failedFiles,
      since: options.since?.toISOString() ?? null,
      until: options.until?.toISOString() ?? null,
      epochs: trained.epochs,
      bestEpoch: trained.bestEpoch,
      stoppedEarly: trained.stoppedEarly,
      testLoss: trained.testLoss,
      threshold: trained.threshold,
      context:
        trained.context === null
          ? null
          : {
              epochs: trained.context.detector.epochs,
              bestEpoch: trained.context.detector.bestEpoch,
              stoppedEarly: trained.context.detector.stoppedEarly,
              testLoss: trained.context.testLoss,
              threshold: trained.context.threshold,
              scales: trained.context.scales,
              combinedThreshold: trained.context.combinedThreshold,
              limits: contextOptions === false ? null : contextOptions.limits,
              keys: contextKeys,
            },
      train: {
        learningRate: options.train.learningRate,
        maxEpochs: options.train.maxEpochs,
        batchSize: options.train.batchSize,
        patience: options.train.patience,
        minImprovement: options.train.minImprovement ?? 0,
      },
      seed: options.seed,
      trainingSeconds: seconds,
    },
    activate: options.activate,
  });
  trained.model.dispose();
  trained.context?.detector.model.dispose();
  onEvent({ type: 'saved', version, activated: options.activate });
  return {
    status: 'trained',
    version,
    activated: options.activate,
    rowsSeen: sample.seen,
    rowsUsed: drawn.rows.length,
    files: usedFiles,
    failedFiles,
    testLoss: trained.testLoss,
    threshold: trained.threshold.value,
    epochs: trained.epochs.length,
    seconds,
  };
}
