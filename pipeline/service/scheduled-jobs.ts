import type { Db } from '../../db/connection.js';
import cron, { type ScheduledTask } from 'node-cron';
import { pruneAnomaliesBefore } from '../../db/anomalies.js';
import { pruneFindingsBefore } from '../../db/findings.js';
import { pruneEventsBefore } from '../../db/triage.js';
import type { Backend } from '../../model/backend.js';
import type { ModelStore } from '../../model/store.js';
import { retrain } from '../train/retrain.js';
import { mirrorModels } from '../../db/models.js';
import { logRetrainEvent } from './active-model.js';
import { retrainSettings, type Config } from './config.js';
import type { JobRunner } from './job-runner.js';
import type { Logger } from './logger.js';

export interface ScheduledJobsOptions {
  backend: Backend;
  store: ModelStore;
  db: Db;
  config: Readonly<Config>;
  log: Logger;
  /** Jobs run here, one at a time with the files being scored. */
  jobs: JobRunner;
  /** A stop: no job starts after it, and a running retrain ends at its next check. */
  signal: AbortSignal;
}

/** Starts the cron schedules for retraining and retention; returns a function that stops them. */
export function scheduleJobs(options: ScheduledJobsOptions): () => void {
  const { config, log, jobs, signal } = options;
  const tasks: ScheduledTask[] = [];
  const start = (name: string, job: () => Promise<void>) => () => {
    if (signal.aborted) return;
    jobs
      .run(async () => {
        if (!signal.aborted) await job();
      })
      .catch((error: unknown) => log.error(name, { error: error instanceof Error ? error.message : String(error) }));
  };
  if (config.retrain.schedule !== null) tasks.push(cron.schedule(config.retrain.schedule, start('retrain', () => scheduledRetrain(options))));
  if (config.retention.schedule !== null) tasks.push(cron.schedule(config.retention.schedule, start('retention', () => Promise.resolve(pruneOld(options)))));
  return () => {
    for (const task of tasks) void task.stop();
  };
}

async function scheduledRetrain({ backend, store, db, config, log, signal }: ScheduledJobsOptions): Promise<void> {
  const since = new Date(Date.now() - config.retrain.days * 86_400_000);
  log.info('retrain', { since: since.toISOString() });
  const outcome = await retrain(backend, store, {
    ...retrainSettings(config),
    logs: [config.logDir],
    since,
    seed: Date.now() % 2_147_483_647,
    activate: true,
    signal,
  }, (event) => logRetrainEvent(log, 'retrain', event));
  if (outcome.status === 'failed') log.error('retrain', { reason: outcome.reason });
  else if (outcome.status === 'aborted') log.info('retrain', { stopped: true });
  else log.info('retrain', { version: outcome.version, rows: outcome.rowsUsed, seconds: Math.round(outcome.seconds * 1000) / 1000 });
  mirrorModels(db, config.sensor, await store.list());
}

function pruneOld({ db, config, log }: ScheduledJobsOptions): void {
  const cutoff = Date.now() / 1000 - config.retention.days * 86_400;
  const deletedAnomalies = pruneAnomaliesBefore(db, cutoff);
  // A finding goes once its last connection is that old; its links to the anomalies went with them.
  const deletedFindings = pruneFindingsBefore(db, cutoff);
  // The audit trail outlives the findings it speaks of: a verdict is still on record after its finding goes.
  const auditCutoff = new Date(Date.now() - Math.max(config.retention.auditDays, config.retention.days) * 86_400_000).toISOString();
  const deletedEvents = pruneEventsBefore(db, auditCutoff);
  log.info('retention', { deletedAnomalies, deletedFindings, deletedEvents, olderThan: new Date(cutoff * 1000).toISOString(), auditOlderThan: auditCutoff });
}
