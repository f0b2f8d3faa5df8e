import type { Db } from '../../db/connection.js';
import { mirrorModels } from '../../db/models.js';
import type { Backend } from '../../model/backend.js';
import { disposeScoringModel, loadScoringModel, type ScoringModel } from '../../model/load-scoring-model.js';
import { CONTEXT_FEATURE_NAMES } from '../context/context-features.js';
import { ModelLoadError, type ModelStore } from '../../model/store.js';
import { retrain, type RetrainEvent } from '../train/retrain.js';
import { retrainSettings, type Config } from './config.js';
import type { Logger } from './logger.js';

export interface ActiveModelOptions {
  backend: Backend;
  store: ModelStore;
  db: Db;
  config: Readonly<Config>;
  log: Logger;
}

/**
 * The model the service scores with: the store's active version, loaded once and reloaded when
 * `retrain` (by hand or scheduled) activates another. With no active version it trains one from
 * the archives present (bootstrap), and activates it only when they held `bootstrap.minRows`.
 */
export class ActiveModel {
  private loaded: ScoringModel | null = null;
  /** The version (or pointer file) that would not load, so it is not tried and reported again for every file. */
  private refused: string | null = null;

  constructor(private readonly options: ActiveModelOptions) {}

  /**
   * The model for the next file, or null when there is none yet (too few rows to train one, a
   * stop during bootstrap, or an active version that will not load): the caller waits for more
   * archives and asks again.
   */
  async forNextFile(signal: AbortSignal): Promise<ScoringModel | null> {
    const { store, log } = this.options;
    let active: string | null;
    try {
      active = await store.activeVersion();
      if (active === null) {
        if (!(await this.bootstrap(signal))) return null;
        active = await store.activeVersion();
        if (active === null) return null;
      }
    } catch (error) {
      if (!(error instanceof ModelLoadError)) throw error;
      // A damaged ACTIVE pointer: go on with the model loaded, if any, until it is repaired.
      return this.refuse(error.file, error.message);
    }
    if (this.loaded?.version === active) return this.loaded;
    if (this.refused === active) return this.loaded;
    try {
      const model = await loadScoringModel(this.options.backend.tf, store, { version: active, contextColumns: CONTEXT_FEATURE_NAMES });
      log.info('model', { version: active, previous: this.loaded?.version ?? null });
      if (this.loaded !== null) disposeScoringModel(this.loaded);
      this.loaded = model;
      this.refused = null;
    } catch (error) {
      if (!(error instanceof ModelLoadError)) throw error;
      return this.refuse(active, error.message);
    }
    mirrorModels(this.options.db, this.options.config.sensor, await store.list());
    return this.loaded;
  }

  /**
   * Keeps scoring with the model already loaded, if any: a broken new version must not stop the
   * service. Said once per broken version, not once per file.
   */
  private refuse(version: string, error: string): ScoringModel | null {
    if (this.refused !== version) this.options.log.error('model', { version, error, using: this.loaded?.version ?? null });
    this.refused = version;
    return this.loaded;
  }

  dispose(): void {
    if (this.loaded !== null) disposeScoringModel(this.loaded);
    this.loaded = null;
  }

  private async bootstrap(signal: AbortSignal): Promise<boolean> {
    const { backend, store, db, config, log } = this.options;
    const minRows = config.bootstrap.minRows;
    log.info('bootstrap', { reason: 'no active model: training one from the archives present', minRows });
    // Saved inactive, and activated below only when it is good to use: a stop or a crash before
    // then leaves no half-made model active.
    const outcome = await retrain(backend, store, {
      ...retrainSettings(config),
      logs: [config.logDir],
      maxRows: config.bootstrap.maxRows,
      minRows,
      seed: 1,
      activate: false,
      signal,
    }, (event) => logRetrainEvent(log, 'bootstrap', event));
    if (outcome.status !== 'trained') {
      log.info('bootstrap', { trained: false, reason: outcome.status === 'aborted' ? 'stopped' : outcome.reason });
      return false;
    }
    await store.activate(outcome.version);
    mirrorModels(db, config.sensor, await store.list());
    log.info('bootstrap', { trained: true, version: outcome.version, rows: outcome.rowsUsed, seconds: Math.round(outcome.seconds * 1000) / 1000 });
    return true;
  }
}

/** What a retrain logs as it goes: enough to see that a long one is alive and how it is doing, not a line per file read. */
export function logRetrainEvent(log: Logger, event: string, progress: RetrainEvent): void {
  switch (progress.type) {
    case 'files':
      log.info(event, { phase: 'reading', files: progress.found, ignored: progress.ignored });
      break;
    case 'file-failed':
      log.error(event, { phase: 'reading', file: progress.file, error: progress.error });
      break;
    case 'training':
      log.info(event, { phase: 'training', rows: progress.rows });
      break;
    case 'epoch':
      log.info(event, { phase: 'epoch', model: progress.model, epoch: progress.epoch.epoch, maxEpochs: progress.maxEpochs, loss: progress.epoch.loss, valLoss: progress.epoch.valLoss });
      break;
    case 'file-read':
    case 'saved':
      break;
  }
}
