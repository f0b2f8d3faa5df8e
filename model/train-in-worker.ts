import { Worker } from 'node:worker_threads';
import { buildAutoencoder, type RowWeights, type TrainOptions, type TrainResult } from './autoencoder.js';
import type { Tf } from './backend.js';
import type { WorkerInput, WorkerMessage } from './autoencoder-worker.js';

/**
 * `trainAutoencoder` on a worker thread, so that a second model trains on the second core while
 * this thread trains the first. Same backend, same options, same seed: the weights come back
 * identical to training here (a test checks it bit for bit). `train`, `validation` and `weights`
 * are handed over, not copied: the caller must not use them after. On abort the worker is stopped at once.
 */
export async function trainAutoencoderInWorker(tf: Tf, train: Float32Array, validation: Float32Array, width: number, options: TrainOptions, weights?: RowWeights): Promise<TrainResult> {
  const { onEpoch, signal, ...rest } = options;
  signal?.throwIfAborted();
  const input: WorkerInput = { backend: backendName(tf), train, validation, width, options: rest, ...(weights === undefined ? {} : { weights }) };
  const handedOver = [train, validation, ...(weights === undefined ? [] : [weights.train, weights.validation])].map((array) => array.buffer as ArrayBuffer);
  const worker = new Worker(new URL('./autoencoder-worker.js', import.meta.url), { workerData: input, transferList: handedOver });
  let stop: (() => void) | undefined;
  const done = await new Promise<Extract<WorkerMessage, { type: 'done' }>>((resolve, reject) => {
    stop = (): void => {
      void worker.terminate();
      reject(signal?.reason instanceof Error ? signal.reason : new Error('training stopped'));
    };
    signal?.addEventListener('abort', stop, { once: true });
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'epoch') onEpoch?.(message.epoch);
      else resolve(message);
    });
    worker.on('error', (error) => reject(new Error(`training on a worker thread failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => reject(new Error(`the training worker exited (code ${code}) before it was done`)));
  }).finally(() => {
    if (stop !== undefined) signal?.removeEventListener('abort', stop);
    void worker.terminate();
  });
  const model = buildAutoencoder(tf, width);
  // The weights' tensors are copied into the model's variables and then freed by tidy.
  tf.tidy(() => model.setWeights(done.weights.map((w) => tf.tensor(w.data, w.shape))));
  return { model, epochs: done.epochs, bestEpoch: done.bestEpoch, stoppedEarly: done.stoppedEarly };
}

/** The name `initBackend` knows the running tfjs backend by. */
function backendName(tf: Tf): WorkerInput['backend'] {
  const name = tf.getBackend();
  if (name === 'wasm' || name === 'cpu' || name === 'tensorflow') return name;
  throw new Error(`trainAutoencoderInWorker: the tfjs backend is '${name}'; a worker can start only tensorflow, wasm or cpu`);
}
