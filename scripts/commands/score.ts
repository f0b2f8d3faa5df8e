import { mirrorModels } from '../../db/models.js';
import { openDatabase, storeName } from '../../db/open-database.js';
import { initBackend } from '../../model/backend.js';
import { loadScoringModel } from '../../model/load-scoring-model.js';
import { CONTEXT_FEATURE_NAMES } from '../../pipeline/context/context-features.js';
import { ModelStore } from '../../model/store.js';
import { archiveStartMs } from '../../pipeline/discover/log-files.js';
import { ContextKeeper } from '../../pipeline/ledger/context-keeper.js';
import { readThreadFor } from '../../pipeline/first-read/read-thread.js';
import { startSensor } from '../../pipeline/ledger/sensor-start.js';
import { SensorLease } from '../../pipeline/ledger/sensor-lease.js';
import { FindingsStage } from '../../pipeline/findings/findings-stage.js';
import { badLinePolicy, type Config } from '../../pipeline/service/config.js';
import { processFile, type FileOutcome } from '../../pipeline/ledger/process-file.js';

/** `zeek-anomaly score`: one-off scoring into the database, through the service's own code path. Exit 1 when any file failed. */
export async function scoreCommand(files: string[], config: Readonly<Config>, options: { json: boolean }): Promise<number> {
  const backend = await initBackend({ log: (message) => process.stderr.write(`${message}\n`) });
  const store = new ModelStore({ dataDir: config.dataDir });
  const model = await loadScoringModel(backend.tf, store, { contextColumns: CONTEXT_FEATURE_NAMES });
  const db = openDatabase(config.db);
  const lease = new SensorLease({ db, sensor: config.sensor, seconds: config.lease.seconds, onWait: (message) => process.stderr.write(`zeek-anomaly score: ${message}\n`) });
  let failed = 0;
  const readThread = readThreadFor(config.read.thread);
  try {
    for (const notice of startSensor(db, config.sensor)) process.stderr.write(`zeek-anomaly score: ${notice}\n`);
    // The anomalies name the version; the models page and the overview read it from here.
    mirrorModels(db, config.sensor, await store.list());
    const findings = new FindingsStage(config.findings);
    const never = new AbortController().signal;
    let context: ContextKeeper | null = null;
    // The context state counts connections in time order: archives go oldest first, as the service takes them.
    for (const file of inTimeOrder(files)) {
      let outcome: FileOutcome;
      do {
        // A service (or another scorer) of this sensor scoring beside it has its turn first.
        if (!lease.held) {
          await lease.acquire(never);
          context = ContextKeeper.load(db, config.sensor, config.context.maxKeys);
          if (context.problem !== null) process.stderr.write(`zeek-anomaly score: ${context.problem}\n`);
        }
        lease.working(file);
        outcome = await processFile(
          {
            db,
            sensor: config.sensor,
            tf: backend.tf,
            model,
            context: context!,
            readThread,
            findings,
            lease: lease.lease,
            options: { mode: config.threshold.mode, quantile: config.threshold.quantile, badLines: badLinePolicy(config), signal: lease.lost },
          },
          file,
        );
        // Lost to another scorer part-way: nothing was written; the file is tried again once the lease is back.
        if (outcome.status === 'lease-lost' || outcome.status === 'aborted') lease.release();
      } while (outcome.status === 'lease-lost' || outcome.status === 'aborted');
      if (outcome.status === 'failed') failed++;
      process.stdout.write(options.json ? `${JSON.stringify(jsonOf(outcome))}\n` : `${textOf(outcome)}\n`);
    }
  } finally {
    lease.release();
    await readThread?.close();
    db.close();
  }
  if (!options.json) process.stderr.write(`database: ${storeName(config.db)}\n`);
  return failed > 0 ? 1 : 0;
}

function jsonOf(outcome: FileOutcome): Record<string, unknown> {
  if (outcome.status === 'done') return { ...outcome, threshold: outcome.threshold };
  return { ...outcome, rows: null, flagged: null, threshold: null, seconds: null, rowsPerSecond: null };
}

function textOf(outcome: FileOutcome): string {
  switch (outcome.status) {
    case 'done':
      return `${outcome.file}: ${outcome.rows.toLocaleString('en-US')} rows, ${outcome.flagged.toLocaleString('en-US')} flagged (score > ${outcome.threshold.toFixed(4)}), model ${outcome.modelVersion}, ${outcome.seconds.toFixed(2)} s (${outcome.rowsPerSecond.toLocaleString('en-US')} rows/s)`;
    case 'failed':
      return `${outcome.file}: FAILED ${outcome.error}`;
    case 'skipped':
      return `${outcome.file}: skipped, same content as ${outcome.duplicateOf.path}`;
    case 'already-seen':
      return `${outcome.file}: already in the database (${outcome.previous})`;
    case 'aborted':
      return `${outcome.file}: stopped before the end; nothing written`;
    case 'lease-lost':
      return `${outcome.file}: another scorer took the sensor's files; nothing written`;
  }
}

/** Archives by the time in their names, oldest first; files without one after them, in the order given. */
function inTimeOrder(files: readonly string[]): string[] {
  return files
    .map((file, i) => ({ file, i, start: archiveStartMs(file) }))
    .sort((a, b) => a.start - b.start || a.i - b.i)
    .map((entry) => entry.file);
}
