import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ConnRecord } from '../read/conn-record.js';
import { CONTEXT_WIDTH } from './context-features.js';
import { ContextInput } from './context-input.js';
import type { ContextState } from './context-state.js';
import type { FromContextWorker, ToContextWorker } from './context-worker.js';

/**
 * The context stage on a thread of its own, so that it counts one block of rows while this thread
 * transforms and scores the same block: a second core's worth of work where the machine has one.
 * For the length of a file the state is handed over to the thread (`begin`) and handed back at its
 * end (`end`), its tables moving by transfer, not copy; in between, the caller's `ContextState`
 * must not be used. One block at a time: `observe` is awaited before the next is sent.
 *
 * A thread that fails (a bug; nothing in the rows can make it throw) rejects the call waiting on
 * it, and the state it held is lost: the caller sends its state back to the saved copy, as it does
 * for any file not stored. The next `begin` starts a new thread.
 */
export class ContextThread {
  private worker: Worker | null = null;
  private waiting: { resolve: (reply: FromContextWorker) => void; reject: (error: Error) => void } | null = null;
  private lent: ContextState | null = null;
  /** The `observe` not yet answered, if any: `end` waits for it (a caller that threw meanwhile never did). */
  private inFlight: Promise<unknown> | null = null;
  private input: ContextInput;
  private out: ArrayBuffer;

  /** `blockRows`: room for this many rows a block, to begin with (a larger block makes room for itself). */
  constructor(blockRows = 2048) {
    this.input = new ContextInput(blockRows);
    this.out = new ArrayBuffer(blockRows * CONTEXT_WIDTH * 4);
  }

  /** Hands `state` to the thread: the rows observed until `end` are counted into it there. */
  begin(state: ContextState): void {
    if (this.lent !== null) throw new Error('ContextThread: begin() while a state is handed over already; end() the file first');
    const worker = (this.worker ??= this.startWorker());
    worker.ref();
    const handed = state.handOver();
    this.lent = state;
    worker.postMessage({ type: 'begin', state: handed.parts } satisfies ToContextWorker, handed.buffers);
  }

  /** Counts `records` into the state on the thread and gives their features, rows × CONTEXT_WIDTH, valid until the next call. */
  async observe(records: readonly ConnRecord[]): Promise<Float32Array> {
    if (records.length > this.input.capacity) {
      this.input = new ContextInput(records.length);
      this.out = new ArrayBuffer(records.length * CONTEXT_WIDTH * 4);
    }
    const input = this.input;
    input.fill(records);
    const message: ToContextWorker = { type: 'observe', capacity: input.capacity, rows: records.length, input: input.buffer, out: this.out };
    const answered = this.request(message, [input.buffer, this.out]);
    this.inFlight = answered;
    const reply = await answered;
    this.inFlight = null;
    if (reply.type !== 'observed') throw new Error(`ContextThread: the thread answered '${reply.type}' to 'observe'`);
    this.input = new ContextInput(input.capacity, reply.input);
    this.out = reply.out;
    return new Float32Array(reply.out, 0, records.length * CONTEXT_WIDTH);
  }

  /** Takes the state back from the thread, with every row observed counted: the caller's state can be used again. */
  async end(): Promise<void> {
    const state = this.lent;
    if (state === null) throw new Error('ContextThread: end() with no state handed over');
    this.lent = null;
    await this.inFlight?.catch(() => undefined);
    this.inFlight = null;
    const reply = await this.request({ type: 'end' }, []);
    if (reply.type !== 'state') throw new Error(`ContextThread: the thread answered '${reply.type}' to 'end'`);
    state.takeBack(reply.state);
    this.worker?.unref();
  }

  /** Stops the thread. A state handed over is lost with it: the file's `end` then fails, and the caller goes back to its saved state. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) await worker.terminate();
  }

  private request(message: ToContextWorker, transfer: ArrayBuffer[]): Promise<FromContextWorker> {
    const worker = this.worker;
    if (worker === null) return Promise.reject(new Error('the context thread stopped while it held the state'));
    if (this.waiting !== null) throw new Error('ContextThread: a second request before the first was answered');
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      worker.postMessage(message, transfer);
    });
  }

  private startWorker(): Worker {
    const worker = new Worker(new URL('./context-worker.js', import.meta.url));
    worker.on('message', (reply: FromContextWorker) => this.settle((waiting) => waiting.resolve(reply)));
    worker.on('error', (error) => this.stopped(worker, new Error(`the context thread failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => this.stopped(worker, new Error(`the context thread exited (code ${code}) while it held the state`)));
    return worker;
  }

  private stopped(worker: Worker, error: Error): void {
    if (this.worker === worker) this.worker = null;
    this.settle((waiting) => waiting.reject(error));
  }

  private settle(how: (waiting: NonNullable<ContextThread['waiting']>) => void): void {
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting !== null) how(waiting);
  }
}

export const CONTEXT_THREAD_SETTINGS = ['auto', 'on', 'off'] as const;
export type ContextThreadSetting = (typeof CONTEXT_THREAD_SETTINGS)[number];

/**
 * A context thread as `setting` asks: "auto" starts one only where this process may run on two
 * cores or more (`taskset -c 0` leaves it one, and a thread there would only take turns with this one).
 */
export function contextThreadFor(setting: ContextThreadSetting): ContextThread | undefined {
  return setting === 'on' || (setting === 'auto' && availableParallelism() >= 2) ? new ContextThread() : undefined;
}
