import { parentPort } from 'node:worker_threads';
import { CONTEXT_WIDTH } from './context-features.js';
import { ContextInput } from './context-input.js';
import { ContextState, type ContextStateParts } from './context-state.js';

// The far side of `ContextThread`: holds a sensor's context state while a file is scored, counts
// each block of rows into it and sends the block's features back; at the end of the file, hands the
// state back. Every buffer goes both ways by transfer, never by copy. Only loaded as a worker.

export type ToContextWorker =
  | { type: 'begin'; state: ContextStateParts }
  | { type: 'observe'; capacity: number; rows: number; input: ArrayBuffer; out: ArrayBuffer }
  | { type: 'end' };

export type FromContextWorker = { type: 'observed'; input: ArrayBuffer; out: ArrayBuffer } | { type: 'state'; state: ContextStateParts };

const port = parentPort;
if (port !== null) {
  let state: ContextState | null = null;
  const held = (): ContextState => {
    if (state === null) throw new Error('the context thread was sent rows with no state to count them into');
    return state;
  };
  // A throw here ends the thread: the main thread hears it as an 'error' and fails the file.
  port.on('message', (message: ToContextWorker) => {
    if (message.type === 'begin') {
      state = ContextState.fromParts(message.state);
    } else if (message.type === 'observe') {
      const input = new ContextInput(message.capacity, message.input);
      input.rows = message.rows;
      held().observeInput(input, new Float32Array(message.out, 0, message.rows * CONTEXT_WIDTH));
      port.postMessage({ type: 'observed', input: message.input, out: message.out } satisfies FromContextWorker, [message.input, message.out]);
    } else {
      const handed = held().handOver();
      state = null;
      port.postMessage({ type: 'state', state: handed.parts } satisfies FromContextWorker, handed.buffers);
    }
  });
}
