import { once } from 'node:events';
import { EventEmitter } from 'node:events';
import type { Database } from 'better-sqlite3';
import cron from 'node-cron';
import { openDatabase } from '../db/open-database.js';
import { pruneAnomaliesBefore } from '../db/anomalies.js';
import { setActiveModel, upsertModel } from '../db/models.js';
import { initBackend, type Backend } from '../model/backend.js';
import { DEFAULT_TRAIN_OPTIONS } from '../model/autoencoder.js';
import { loadScoringModel } from '../model/load-scoring-model.js';
import { retrain } from '../model/retrain.js';
import { ModelStore } from '../model/store.js';
import { presetNamed } from '../preprocess/presets.js';
import type { Config } from './config.js';
import { classifyLogPath, findConnLogs } from './log-files.js';
import type { Logger } from './logger.js';
import { processFile, type FileOutcome } from './process-file.js';
import type { ScoringModel } from './score-file.js';
import { watchLogs } from './watch-logs.js';

export interface ServiceOptions {
  config: Readonly<Config>;
  log: Logger;
  signal: AbortSignal;
  /** Catch up on the archives present, then return (the demo, and `score --all`), instead of following new ones. */
  once?: boolean;
  /** Called after each file, for tests and the demo. */
  onFile?: (outcome: FileOutcome) => void;
}

/**
 * The service beside a sensor: catches up on every archive that arrived while it was down, oldest
 * first, then follows new ones, one file at a time. With no active model it first trains one from
 * the archives present. A new active model (from `retrain`, or the scheduled job) is picked up
 * before the next file. On abort it stops taking files; a file being scored is dropped unwritten
 * and scored again at the next start.
 */
export async function runService(options: ServiceOptions): Promise<void> {
  const { config, log, signal } = options;
  const db = openDatabase(config.db);
  const backend = await initBackend({ log: (message) => log.info('backend', { message }) });
  const store = new ModelStore({ dataDir: config.dataDir });
  const queue = new FileQueue();
  const exclusive = new Exclusive();
  const stops: (() => Promise<void> | void)[] = [];
  let scoring: ScoringModel | null = null;

  try {
    if (!options.once) {
      // The watcher starts before the listing: a file rotated in between is then seen by one or
      // both (twice is harmless: the queue is a set and the ledger knows what is done).
      stops.push(
        await watchLogs({
          dir: config.logDir,
          stableMs: config.watch.stableMs,
          onFile: (path) => queue.add(path),
          onError: (error) => log.error('watch', { error: error.message }),
        }),
      );
      stops.push(...schedule(config, log, () => exclusive.run(() => scheduledRetrain(backend, store, db, config, log)), () =>
        exclusive.run(async () => {
          const cutoff = Date.now() / 1000 - config.retention.days * 86_400;
          log.info('retention', { deletedAnomalies: pruneAnomaliesBefore(db, cutoff), olderThan: new Date(cutoff * 1000).toISOString() });
          return Promise.resolve();
        }),
      ));
    }
    const present = await findConnLogs([config.logDir]);
    for (const found of present.files) queue.add(found.path);
    log.info('start', { logDir: config.logDir, db: config.db, dataDir: config.dataDir, archives: present.files.length, backend: backend.name, following: !options.once });

    while (!signal.aborted) {
      const file = queue.next();
      if (file === undefined) {
        if (options.once) break;
        await queue.waitForMore(signal);
        continue;
      }
      const stopped = await exclusive.run(async () => {
        scoring = await currentModel(backend, store, db, config, log, scoring, queue);
        if (scoring === null) {
          queue.putBack(file);
          return false;
        }
        const outcome = await processFile(
          { db, tf: backend.tf, model: scoring, options: { mode: config.threshold.mode, quantile: config.threshold.quantile, badLines: badLinePolicy(config), signal } },
          file,
        );
        if (outcome.status === 'aborted') return true;
        logOutcome(log, outcome);
        options.onFile?.(outcome);
        return false;
      });
      if (stopped) break;
      if (scoring === null) {
        if (options.once) break;
        log.info('waiting', { reason: 'no active model yet: waiting for more archives to train one', queued: queue.size });
        await queue.waitForMore(signal);
      }
    }
  } finally {
    for (const stop of stops) await stop();
    db.close();
    log.info('stopped', {});
  }
}

/** The active model, reloaded when another version became active, or trained from the archives when there is none. */
async function currentModel(
  backend: Backend,
  store: ModelStore,
  db: Database,
  config: Readonly<Config>,
  log: Logger,
  loaded: ScoringModel | null,
  queue: FileQueue,
): Promise<ScoringModel | null> {
  const active = await store.activeVersion();
  if (active !== null) {
    if (loaded?.version === active) return loaded;
    const model = await loadScoringModel(backend.tf, store, active);
    log.info('model', { version: active, previous: loaded?.version ?? null });
    await mirrorModels(store, db);
    return model;
  }
  log.info('bootstrap', { reason: 'no active model: training one from the archives present', minRows: config.bootstrap.minRows });
  const outcome = await retrain(backend, store, {
    logs: [config.logDir],
    maxRows: config.bootstrap.maxRows,
    preset: presetNamed(config.retrain.preset),
    train: { ...DEFAULT_TRAIN_OPTIONS, maxEpochs: config.retrain.epochs, learningRate: config.retrain.learningRate },
    seed: 1,
    activate: true,
    badLines: badLinePolicy(config),
  });
  if (outcome.status === 'failed' || outcome.rowsUsed < config.bootstrap.minRows) {
    const reason = outcome.status === 'failed' ? outcome.reason : `${outcome.rowsUsed} rows, fewer than bootstrap.minRows (${config.bootstrap.minRows})`;
    log.info('bootstrap', { trained: false, reason, queued: queue.size });
    return null;
  }
  log.info('bootstrap', { trained: true, version: outcome.version, rows: outcome.rowsUsed, seconds: round(outcome.seconds) });
  return currentModel(backend, store, db, config, log, null, queue);
}

async function scheduledRetrain(backend: Backend, store: ModelStore, db: Database, config: Readonly<Config>, log: Logger): Promise<void> {
  const since = new Date(Date.now() - config.retrain.days * 86_400_000);
  log.info('retrain', { since: since.toISOString() });
  const outcome = await retrain(backend, store, {
    logs: [config.logDir],
    since,
    maxRows: config.retrain.maxRows,
    preset: presetNamed(config.retrain.preset),
    train: { ...DEFAULT_TRAIN_OPTIONS, maxEpochs: config.retrain.epochs, learningRate: config.retrain.learningRate },
    seed: Date.now() % 2_147_483_647,
    activate: true,
    badLines: badLinePolicy(config),
  });
  if (outcome.status === 'failed') log.error('retrain', { reason: outcome.reason });
  else log.info('retrain', { version: outcome.version, rows: outcome.rowsUsed, seconds: round(outcome.seconds) });
  await mirrorModels(store, db);
}

/** Keeps the `models` table in step with the store, so anomalies can be joined with their model. */
async function mirrorModels(store: ModelStore, db: Database): Promise<void> {
  for (const info of await store.list()) {
    const metrics = info.metrics as { preset?: string };
    upsertModel(db, { version: info.version, createdAt: info.createdAt, active: info.active, preset: metrics.preset ?? null, metrics: info.metrics });
    if (info.active) setActiveModel(db, info.version);
  }
}

function schedule(config: Readonly<Config>, log: Logger, retrainJob: () => Promise<void>, retentionJob: () => Promise<void>): (() => void)[] {
  const tasks = [];
  const guard = (name: string, job: () => Promise<void>) => () => {
    job().catch((error: unknown) => log.error(name, { error: error instanceof Error ? error.message : String(error) }));
  };
  if (config.retrain.schedule !== null) tasks.push(cron.schedule(config.retrain.schedule, guard('retrain', retrainJob)));
  if (config.retention.schedule !== null) tasks.push(cron.schedule(config.retention.schedule, guard('retention', retentionJob)));
  return tasks.map((task) => () => {
    void task.stop();
  });
}

function badLinePolicy(config: Readonly<Config>) {
  return { maxBadLineRatio: config.badLines.maxRatio, minBadLinesToReject: config.badLines.minCount };
}

function logOutcome(log: Logger, outcome: FileOutcome): void {
  switch (outcome.status) {
    case 'done':
      log.info('file', {
        status: 'done',
        file: outcome.file,
        rows: outcome.rows,
        badLines: outcome.badLines,
        flagged: outcome.flagged,
        threshold: round(outcome.threshold),
        model: outcome.modelVersion,
        seconds: round(outcome.seconds),
        rowsPerSecond: outcome.rowsPerSecond,
      });
      break;
    case 'failed':
      log.error('file', { status: 'failed', file: outcome.file, error: outcome.error });
      break;
    case 'skipped':
      log.info('file', { status: 'skipped', file: outcome.file, duplicateOf: outcome.duplicateOf.path });
      break;
    case 'already-seen':
    case 'aborted':
      break;
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Paths waiting to be scored, each once, oldest archive first by the time in its name. */
class FileQueue {
  /** Each path with its start time, worked out once when the path is added (not in every comparison). */
  private readonly pending = new Map<string, number>();
  private readonly events = new EventEmitter();

  get size(): number {
    return this.pending.size;
  }

  add(path: string): void {
    this.putBack(path);
    this.events.emit('added');
  }

  putBack(path: string): void {
    if (!this.pending.has(path)) this.pending.set(path, archiveStart(path));
  }

  /** The oldest archive (by the time in its name, then by path; files without a time last). */
  next(): string | undefined {
    let first: string | undefined;
    let firstStart = Number.POSITIVE_INFINITY;
    for (const [path, start] of this.pending) {
      if (first === undefined || start < firstStart || (start === firstStart && path < first)) {
        first = path;
        firstStart = start;
      }
    }
    if (first !== undefined) this.pending.delete(first);
    return first;
  }

  async waitForMore(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    try {
      await once(this.events, 'added', { signal });
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }
}

function archiveStart(path: string): number {
  const found = classifyLogPath(path);
  return found.kind === 'conn-archive' && found.start !== null ? found.start.getTime() : Number.POSITIVE_INFINITY;
}

/** Runs jobs one at a time: a scheduled retrain never interleaves with a file being scored. */
class Exclusive {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job, job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
