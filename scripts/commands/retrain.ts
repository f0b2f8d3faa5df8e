import { initBackend } from '../../model/backend.js';
import { retrain, type RetrainEvent, type RetrainOptions } from '../../pipeline/train/retrain.js';
import { ModelStore } from '../../model/store.js';
import { createProgress } from '../progress.js';

export interface RetrainCommandOptions extends RetrainOptions {
  dataDir: string;
  json: boolean;
}

/** `zeek-anomaly retrain`: trains and saves a new model version; exit code 1 when nothing could be trained. */
export async function retrainCommand(options: RetrainCommandOptions): Promise<number> {
  const progress = createProgress();
  const backend = await initBackend({ log: (message) => progress.line(message) });
  const store = new ModelStore({ dataDir: options.dataDir });
  const outcome = await retrain(backend, store, options, (event) => report(event, progress));
  progress.done();
  if (options.json) {
    process.stdout.write(`${JSON.stringify(outcome)}\n`);
  } else if (outcome.status === 'trained') {
    process.stdout.write(
      [
        `trained model ${outcome.version}${outcome.activated ? ' (active)' : ' (not activated)'} in ${outcome.seconds.toFixed(1)} s`,
        `  rows        ${outcome.rowsUsed.toLocaleString('en-US')} used of ${outcome.rowsSeen.toLocaleString('en-US')} read, from ${outcome.files} files`,
        `  epochs      ${outcome.epochs}`,
        `  test loss   ${outcome.testLoss.toFixed(4)}`,
        `  threshold   ${outcome.threshold.toFixed(4)} (95th percentile of validation errors)`,
        `  store       ${store.root}`,
        ...(outcome.failedFiles.length > 0 ? [`  skipped     ${outcome.failedFiles.length} files that could not be read (listed above)`] : []),
      ].join('\n') + '\n',
    );
  } else {
    process.stderr.write(`zeek-anomaly retrain: ${outcome.status === 'failed' ? outcome.reason : 'stopped before a model was saved'}\n`);
  }
  return outcome.status === 'trained' ? 0 : 1;
}

function report(event: RetrainEvent, progress: ReturnType<typeof createProgress>): void {
  switch (event.type) {
    case 'files':
      progress.line(`found ${event.found} conn logs${event.ignored > 0 ? ` (${event.ignored} other files ignored)` : ''}`);
      break;
    case 'file-read':
      progress.update(event.index + 1, event.of, `files read, ${event.sampled.toLocaleString('en-US')} rows sampled`);
      if (!process.stderr.isTTY) progress.line(`read ${event.file}: ${event.rows} rows (sample: ${event.sampled})`);
      break;
    case 'file-failed':
      progress.line(`skipped ${event.error}`);
      break;
    case 'training':
      progress.line(`training on ${event.rows.toLocaleString('en-US')} rows…`);
      break;
    case 'epoch':
      // The bar follows the per-connection model, which sets the pace; both models' epochs are listed.
      if (event.model === 'connection') progress.update(event.epoch.epoch, event.maxEpochs, `epochs, loss ${event.epoch.loss.toFixed(4)}, validation ${event.epoch.valLoss.toFixed(4)}`);
      if (!process.stderr.isTTY) {
        progress.line(`${event.model} epoch ${event.epoch.epoch}: loss ${event.epoch.loss.toFixed(5)}, validation loss ${event.epoch.valLoss.toFixed(5)} (${event.epoch.seconds.toFixed(1)} s)`);
      }
      break;
    case 'saved':
      break;
  }
}
