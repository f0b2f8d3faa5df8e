import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase, storeName } from '../../db/open-database.js';
import { initBackend } from '../../model/backend.js';
import { ModelStore } from '../../model/store.js';
import { findConnLogs } from '../discover/log-files.js';
import { watchLogs } from '../discover/watch-logs.js';
import { FindingsStage } from '../findings/findings-stage.js';
import { ContextKeeper } from '../ledger/context-keeper.js';
import { readThreadFor } from '../first-read/read-thread.js';
import { SensorLease } from '../ledger/sensor-lease.js';
import { startSensor } from '../ledger/sensor-start.js';
import { inLedgerAlready, processFile, type FileOutcome } from '../ledger/process-file.js';
import { ActiveModel } from './active-model.js';
import { badLinePolicy, type Config } from './config.js';
import { FileQueue } from './file-queue.js';
import { JobRunner } from './job-runner.js';
import type { Logger } from './logger.js';
import { scheduleJobs } from './scheduled-jobs.js';

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
 * before the next file. On abort it stops taking files and jobs: a file being scored is dropped
 * unwritten (and scored at the next start), a running retrain stops at its next check, and the
 * database is closed only once every job has settled.
 */
export async function runService(options: ServiceOptions): Promise<void> {
  const { config, log, signal } = options;
  const db = openDatabase(config.db);
  const backend = await initBackend({ log: (message) => log.info('backend', { message }) });
  const store = new ModelStore({ dataDir: config.dataDir });
  const queue = new FileQueue();
  const jobs = new JobRunner();
  const model = new ActiveModel({ backend, store, db, config, log });
  // Before the context state is read: rows from before sensors were named become this sensor's.
  const sensorNotices = startSensor(db, config.sensor);
  const lease = new SensorLease({ db, sensor: config.sensor, seconds: config.lease.seconds, onWait: (message) => log.info('lease', { message }) });
  // The sensor's context state: read from the store for the first file after each claim of the lease.
  let context: ContextKeeper | null = null;
  const readThread = readThreadFor(config.read.thread);
  // Files in a row that failed for the store's sake (or a bug's), not their own.
  let failuresInARow = 0;
  const findings = new FindingsStage(config.findings);
  const stops: (() => Promise<void> | void)[] = [];

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
      stops.push(scheduleJobs({ backend, store, db, config, log, jobs, signal }));
    }
    const present = await findConnLogs([config.logDir]);
    for (const found of present.files) queue.add(found.path);
    log.info('start', {
      sensor: config.sensor,
      logDir: config.logDir,
      db: storeName(config.db),
      dataDir: config.dataDir,
      archives: present.files.length,
      backend: backend.name,
      following: !options.once,
    });
    for (const message of sensorNotices) log.info('sensor', { sensor: config.sensor, message });

    while (!signal.aborted) {
      const file = queue.next();
      if (file === undefined) {
        // Nothing left: another scorer of this sensor may take its next files.
        lease.release();
        if (options.once) break;
        await queue.waitForMore(signal);
        continue;
      }
      if (!lease.held) {
        // While another scorer has the sensor, it may finish this very file: the wait ends there,
        // and this scorer goes on to its next file (or, with --once, ends when none is left).
        const turn = await lease.acquire(signal, async () => !(await inLedgerAlready(db, config.sensor, file)));
        if (turn === 'not-needed') continue;
        if (turn === 'stopped') {
          queue.putBack(file);
          break;
        }
        // Read when the lease is taken: another scorer of this sensor may have moved it on meanwhile.
        context = null;
      }
      const step = await jobs.run(async (): Promise<'next' | 'no-model' | 'stopped' | 'retry'> => {
        let outcome: FileOutcome;
        try {
          const scoring = await model.forNextFile(signal);
          if (scoring === null) {
            queue.putBack(file);
            return signal.aborted ? 'stopped' : 'no-model';
          }
          if (context === null) {
            context = ContextKeeper.load(db, config.sensor, config.context.maxKeys);
            if (context.problem !== null) log.error('context', { error: context.problem });
          }
          // `scoring` is logged only for a file that is new (not seen before, not a duplicate), as its scoring begins.
          const onStart = (): void => log.info('scoring', { file, model: scoring.version });
          lease.working(file);
          outcome = await processFile(
            {
              db,
              sensor: config.sensor,
              tf: backend.tf,
              model: scoring,
              context,
              readThread,
              findings,
              lease: lease.lease,
              options: {
                mode: config.threshold.mode,
                quantile: config.threshold.quantile,
                badLines: badLinePolicy(config),
                signal: AbortSignal.any([signal, lease.lost]),
                onStart,
              },
            },
            file,
          );
        } catch (error) {
          // Not the file's fault (those are outcomes): the store failed (a lost connection, a full
          // disk) or a bug. Nothing of the file was stored, and it is tried again (below).
          failuresInARow++;
          const givenUp = options.once === true && failuresInARow >= ONCE_TRIES;
          const retry = givenUp ? {} : { retryInSeconds: retryPauseMs(failuresInARow) / 1000 };
          log.error('file', { status: 'error', file, error: error instanceof Error ? (error.stack ?? error.message) : String(error), ...retry });
          // The context state in memory may hold part of the file: it is read again from the store,
          // and the lease let go meanwhile, so another scorer of this sensor may take over.
          context = null;
          lease.release();
          if (givenUp) {
            failuresInARow = 0;
            return 'next';
          }
          queue.putBack(file);
          return 'retry';
        }
        failuresInARow = 0;
        if (outcome.status === 'aborted' && signal.aborted) return 'stopped';
        if (outcome.status === 'aborted' || outcome.status === 'lease-lost') {
          // Another scorer took the sensor while this file was scored: it is that scorer's now, and
          // it is tried again here once this scorer has the lease back (and finds it done).
          log.info('lease', { message: `sensor ${config.sensor}'s lease went to another scorer while scoring ${file}; nothing of it was written` });
          lease.release();
          queue.putBack(file);
          return 'next';
        }
        lease.working(null);
        logOutcome(log, outcome);
        options.onFile?.(outcome);
        return 'next';
      });
      if (step === 'stopped') break;
      if (step === 'retry') await pause(retryPauseMs(failuresInARow), signal);
      if (step === 'no-model') {
        if (options.once) break;
        log.info('waiting', { reason: 'no usable model yet: waiting for more archives', queued: queue.size });
        await queue.waitForMore(signal);
      }
    }
  } finally {
    for (const stop of stops) await stop();
    lease.release();
    // A scheduled retrain or retention job may still be running: it sees the abort and ends, and
    // only then may the database it writes to be closed.
    await jobs.idle();
    model.dispose();
    await readThread?.close();
    db.close();
    log.info('stopped', {});
  }
}

// A file that failed for the store's sake is tried again after a pause that doubles from a second
// to five minutes: an outage or a failover of the store is ridden out, and a lasting fault is logged
// every five minutes rather than in a tight loop. `--once` gives the file up after five tries in a
// row (15 s of pauses), to be tried again at the next start, rather than never ending.
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 5 * 60_000;
const ONCE_TRIES = 5;

function retryPauseMs(failuresInARow: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (failuresInARow - 1));
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch((error: unknown) => {
    if (!signal.aborted) throw error;
  });
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
        threshold: Math.round(outcome.threshold * 1000) / 1000,
        model: outcome.modelVersion,
        seconds: Math.round(outcome.seconds * 1000) / 1000,
        rowsPerSecond: outcome.rowsPerSecond,
        ...(outcome.findings === null ? {} : { findingsRaised: outcome.findings.raised, findingsUpdated: outcome.findings.updated }),
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
    case 'lease-lost':
      break;
  }
}
