import type { Db } from '../../db/connection.js';
import { createHash } from 'node:crypto';
import { recordScoredFile } from '../../db/record-file.js';
import { ContextState, DEFAULT_CONTEXT_LIMITS } from '../context/context-state.js';
import type { FindingsStage } from '../findings/findings-stage.js';
import type { ConnRecord } from '../read/conn-record.js';
import { readConnLog } from '../read/read-conn-log.js';

/** The sensor a replay's files and findings are stored under. */
export const REPLAY_SENSOR = 'replay';

/**
 * Runs logs through the context stage and the findings stage, in the order given, storing each
 * file (with no anomalies) and its findings in its own transaction into `db`, as the scorer does.
 * No model is involved: it measures the detectors, for `findings-report` and the tests. (The
 * `anomaly-cluster` detector, which reads a model's flags, finds nothing this way.) `onRecord`
 * sees every row as it is read.
 */
export async function replayFindings(db: Db, files: readonly string[], stage: FindingsStage, onRecord?: (record: ConnRecord, file: string) => void): Promise<void> {
  const context = new ContextState(DEFAULT_CONTEXT_LIMITS);
  for (const file of files) {
    const activity = stage.newActivity();
    for await (const batch of readConnLog(file)) {
      context.observeAll(batch);
      for (const record of batch) {
        activity.add(record);
        onRecord?.(record, file);
      }
    }
    const detected = stage.detect(activity, context, 'replay');
    const recorded = recordScoredFile(
      db,
      {
        sensor: REPLAY_SENSOR,
        path: file,
        size: 0,
        // Not the content's hash (the ledger's check is not what is measured here), but unique per path.
        sha256: createHash('sha256').update(file).digest('hex'),
        rows: activity.rows,
        badLines: 0,
        flagged: 0,
        threshold: 0,
        thresholdMode: 'per-file',
        modelVersion: 'replay',
        firstTs: activity.rows > 0 ? activity.firstTs : null,
        lastTs: activity.rows > 0 ? activity.lastTs : null,
        startedAt: new Date().toISOString(),
        finishedAt: new Date().toISOString(),
      },
      [],
      { withinTransaction: (fileId) => detected.write(db, { id: fileId, sensor: REPLAY_SENSOR }) },
    );
    if (recorded.status !== 'done') throw new Error(`${file}: ${recorded.status} (the same path given twice?)`);
  }
}
