import { parentPort, workerData } from 'node:worker_threads';
import { trainAutoencoder, type EpochLog, type RowWeights, type TrainOptions } from './autoencoder.js';
import { initBackend, type BackendName } from './backend.js';

// The far side of `trainAutoencoderInWorker`: trains one autoencoder on its own thread with the
// caller's backend and options, reports each epoch, and hands the best epoch's weights back as
// transferred buffers. Only loaded as a worker.

/** What the caller sends: the matrices are transferred, not copied. */
export interface WorkerInput {
  backend: BackendName;
  train: Float32Array;
  validation: Float32Array;
  width: number;
  options: Omit<TrainOptions, 'onEpoch' | 'signal'>;
  weights?: RowWeights;
}

export type WorkerMessage =
  | { type: 'epoch'; epoch: EpochLog }
  | { type: 'done'; weights: { shape: number[]; data: Float32Array }[]; epochs: EpochLog[]; bestEpoch: number; stoppedEarly: boolean };

const port = parentPort;
if (port !== null) {
  const input = workerData as WorkerInput;
  const backend = await initBackend({ prefer: input.backend });
  const result = await trainAutoencoder(backend.tf, input.train, input.validation, input.width, {
    ...input.options,
    onEpoch: (epoch) => port.postMessage({ type: 'epoch', epoch } satisfies WorkerMessage),
  }, input.weights);
  const weights = result.model.getWeights().map((w) => ({ shape: w.shape, data: w.dataSync() as Float32Array }));
  const done: WorkerMessage = { type: 'done', weights, epochs: result.epochs, bestEpoch: result.bestEpoch, stoppedEarly: result.stoppedEarly };
  port.postMessage(done, weights.map((w) => w.data.buffer as ArrayBuffer));
  result.model.dispose();
}
