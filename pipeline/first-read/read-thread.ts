import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ScoringModel } from '../../model/load-scoring-model.js';
import { CONTEXT_WIDTH } from '../context/context-features.js';
import { ContextInput } from '../context/context-input.js';
import type { ContextState } from '../context/context-state.js';
import type { FileActivity } from '../findings/file-activity.js';
import { LogReadError } from '../read/log-read-error.js';
import { CandidateTable, EXPLAINED, NO_FEATURE, type ScoredFeature } from './candidate-table.js';
import { BLOCK_ROWS, type FeatureBlock } from './feature-blocks.js';
import type { FirstRead, FirstReadEnd, FirstReadOptions } from './first-read.js';
import type { BlockAnswer, FromReadWorker, ReadEnd, ToReadWorker } from './read-worker.js';

export interface ThreadReadRequest extends FirstReadOptions {
  model: ScoringModel;
  /** Counts each block here, from the columns the thread sends (the thread would be the slower side with it). */
  state: ContextState | null;
  /** Handed to the thread for the read, and back at its end: it must not be used in between. */
  activity?: FileActivity;
}

/**
 * A file's first read on a thread of its own: reading, parsing, the findings' activity and the
 * preprocessing run there, while this thread counts the context, runs the models on the block
 * before and writes. Blocks come as typed columns, transferred, never as records: the features,
 * and what the context stage reads of each row (its address hashes, channel, time, bytes); this
 * thread answers each with the rows worth keeping as candidates, which the read thread keeps with
 * their records (a record does not cross threads cheaply: cloning one cost twice what reading it
 * did). A few blocks are in flight at most, so neither side buffers without bound.
 *
 * The context is counted here, not there, because that balances the two: on the 1M-row benchmark
 * the read thread had 7.8 s of work with it and this one 3.5 s (docs/benchmarks.md).
 *
 * For the length of the read the activity is handed over (its buffers transferred) and comes back
 * at its end, whatever the outcome. A thread that fails (a bug; nothing in a file can make it)
 * loses it: the read rejects, and the caller sends its context state back to the saved copy, as
 * for any file not stored. The next read starts a new thread.
 */
export class ReadThread {
  private worker: Worker | null = null;
  private reading: ThreadRead | null = null;
  private readonly keepBelowRows: number;

  /** `keepBelowRows`: a file of fewer rows leaves its thread for the next file; a larger one's is stopped (see `ThreadRead.ended`). */
  constructor(options: { keepBelowRows?: number } = {}) {
    this.keepBelowRows = options.keepBelowRows ?? KEEP_THREAD_BELOW_ROWS;
  }

  read(request: ThreadReadRequest): FirstRead {
    if (this.reading !== null) throw new Error('ReadThread: read() while a file is being read; close() that read first');
    const worker = (this.worker ??= this.startWorker());
    worker.ref();
    const activity = request.activity?.handOver();
    const reading = new ThreadRead(worker, request, async (rows) => {
      this.reading = null;
      if (rows < this.keepBelowRows) {
        worker.unref();
        return;
      }
      if (this.worker === worker) this.worker = null;
      await worker.terminate();
    });
    this.reading = reading;
    const message: ToReadWorker = {
      type: 'read',
      file: request.file,
      badLines: request.badLines,
      sha256: request.sha256,
      featureNames: request.featureNames,
      preprocessor: request.model.preprocessor.toJSON(),
      context: request.state !== null,
      activity: activity?.parts ?? null,
    };
    worker.postMessage(message, activity?.buffers ?? []);
    return reading;
  }

  /** Stops the thread. What a read in progress held is lost with it: the read rejects. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) await worker.terminate();
  }

  private startWorker(): Worker {
    const worker = new Worker(new URL('./read-worker.js', import.meta.url));
    worker.on('message', (message: FromReadWorker) => this.reading?.received(message));
    worker.on('error', (error) => this.stopped(worker, new Error(`the read thread failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => this.stopped(worker, new Error(`the read thread exited (code ${code}) while it held the file's state`)));
    return worker;
  }

  private stopped(worker: Worker, error: Error): void {
    if (this.worker === worker) this.worker = null;
    this.reading?.failed(error);
  }
}

// Files of fewer rows leave their read thread for the next file (see `ThreadRead.ended`).
const KEEP_THREAD_BELOW_ROWS = 250_000;

export const READ_THREAD_SETTINGS = ['auto', 'on', 'off'] as const;
export type ReadThreadSetting = (typeof READ_THREAD_SETTINGS)[number];

/**
 * A read thread as `setting` asks: "auto" starts one only where this process may run on two cores
 * or more (`taskset -c 0` leaves it one, and a thread there would only take turns with this one).
 */
export function readThreadFor(setting: ReadThreadSetting): ReadThread | undefined {
  return setting === 'on' || (setting === 'auto' && availableParallelism() >= 2) ? new ReadThread() : undefined;
}

/** One file's read on the thread, as the scorer drives it. */
class ThreadRead implements FirstRead {
  private readonly arrived: FromReadWorker[] = [];
  private waiting: { resolve: () => void; reject: (error: Error) => void } | null = null;
  private failure: Error | null = null;
  private found: FirstReadEnd | null = null;
  /** Whether the thread's 'end' came (and what it held was taken back), or the thread died. */
  private over = false;
  private answer: AnswerBuilder | null = null;
  /** The buffers of the block being scored, handed back with its answer. */
  private lent: { x: ArrayBuffer; contextInput: ArrayBuffer | null } | null = null;
  private readonly featureNumbers: Map<string, number>;
  /** Each block's context features, as counted and as scaled for the context model: used before the next block comes. */
  private readonly context = new Float32Array(BLOCK_ROWS * CONTEXT_WIDTH);
  private readonly contextX = new Float32Array(BLOCK_ROWS * CONTEXT_WIDTH);

  constructor(
    private readonly worker: Worker,
    private readonly request: ThreadReadRequest,
    /** Ends the read of `rows` rows (NaN when it failed): the thread is kept for the next file, or stopped and what it held given back to the system. */
    private readonly done: (rows: number) => Promise<unknown>,
  ) {
    this.featureNumbers = new Map(request.featureNames.map((name, i) => [name, i]));
  }

  async *blocks(): AsyncGenerator<FeatureBlock> {
    for (;;) {
      const message = await this.next();
      if (message.type === 'block') {
        this.answer = new AnswerBuilder(message.rows, this.featureNumbers);
        this.lent = { x: message.x.buffer as ArrayBuffer, contextInput: message.contextInput };
        yield { rows: message.rows, records: null, x: message.x, ...this.counted(message.rows, message.contextInput) };
        continue;
      }
      await this.ended(message);
      if (message.outcome === 'read') {
        this.found = { summary: message.summary, candidates: CandidateTable.fromParts(message.candidates), sha256: message.sha256 };
        return;
      }
      if (message.outcome === 'failed') {
        const { code, file, detail, line, rowsRead } = message.error;
        throw new LogReadError({ code, file, message: detail, line, rowsRead });
      }
      throw new Error(message.outcome === 'crashed' ? `the read thread failed: ${message.message}` : 'the read thread stopped before the end of the file');
    }
  }

  /** The block's context features, counted into the state here from the columns the thread sent. */
  private counted(rows: number, columns: ArrayBuffer | null): Pick<FeatureBlock, 'context' | 'contextX'> {
    const { state, model } = this.request;
    if (state === null || columns === null) return { context: null, contextX: null };
    const input = new ContextInput(BLOCK_ROWS, columns);
    input.rows = rows;
    const context = state.observeInput(input, this.context.subarray(0, rows * CONTEXT_WIDTH));
    const scaler = model.context?.scaler;
    return { context, contextX: scaler === undefined ? null : scaler.transform(context, rows, this.contextX.subarray(0, rows * CONTEXT_WIDTH)) };
  }

  keep(index: number, row: number, score: number, explanation: readonly ScoredFeature[], conn: number, context: number): void {
    this.answer!.add(index, row, score, explanation, conn, context);
  }

  blockDone(cut: number): void {
    const lent = this.lent!;
    const answer = this.answer!.build(cut, lent);
    this.answer = null;
    this.lent = null;
    const columns = [answer.index, answer.row, answer.score, answer.conn, answer.context, answer.feature, answer.share, answer.value].map((column) => column.buffer as ArrayBuffer);
    const message: ToReadWorker = { type: 'answer', ...answer };
    this.worker.postMessage(message, lent.contextInput === null ? [...columns, lent.x] : [...columns, lent.x, lent.contextInput]);
  }

  end(): Promise<FirstReadEnd> {
    return this.found === null ? Promise.reject(new Error('ReadThread: end() before the last block was read')) : Promise.resolve(this.found);
  }

  async close(): Promise<void> {
    if (this.over) return;
    this.worker.postMessage({ type: 'stop' } satisfies ToReadWorker);
    try {
      for (;;) {
        const message = await this.next();
        if (message.type === 'end') return await this.ended(message);
      }
    } catch {
      // The thread died: what it held is lost, which the caller already treats as a file not stored.
    }
  }

  received(message: FromReadWorker): void {
    this.arrived.push(message);
    this.wake((waiting) => waiting.resolve());
  }

  failed(error: Error): void {
    if (this.over) return;
    this.over = true;
    this.failure = error;
    void this.done(NaN);
    this.wake((waiting) => waiting.reject(error));
  }

  private async next(): Promise<FromReadWorker> {
    for (;;) {
      const message = this.arrived.shift();
      if (message !== undefined) return message;
      if (this.failure !== null) throw this.failure;
      await new Promise<void>((resolve, reject) => (this.waiting = { resolve, reject }));
    }
  }

  private wake(how: (waiting: NonNullable<ThreadRead['waiting']>) => void): void {
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting !== null) how(waiting);
  }

  /**
   * Takes back the activity the thread held. After a large file the thread is stopped first: the
   * heap its read grew (the parser's garbage, the findings' pairs) is given back before this thread
   * rebuilds the pairs and writes the file, not at some later collection (kept, it held 230 MB
   * beside this thread's copy of the same pairs). After a small one it is kept: a thread for each
   * of twenty 50,000-row archives, each started with its code not yet optimised, took a catch-up
   * 42.4–43.6 s against 36.2–36.8 s.
   */
  private async ended(message: ReadEnd): Promise<void> {
    this.over = true;
    await this.done(message.outcome === 'read' ? message.summary.rows : NaN);
    if (message.activity !== null) this.request.activity?.takeBack(message.activity);
  }
}

/** The rows kept of one block, packed for the read thread. */
class AnswerBuilder {
  private count = 0;
  private readonly answer: Omit<BlockAnswer, 'count' | 'cut' | 'x' | 'contextInput'>;

  constructor(
    rows: number,
    private readonly featureNumbers: ReadonlyMap<string, number>,
  ) {
    this.answer = {
      index: new Uint32Array(rows),
      row: new Uint16Array(rows),
      score: new Float32Array(rows),
      conn: new Float32Array(rows),
      context: new Float32Array(rows),
      feature: new Uint8Array(rows * EXPLAINED),
      share: new Float32Array(rows * EXPLAINED),
      value: new Float32Array(rows * EXPLAINED),
    };
  }

  add(index: number, row: number, score: number, explanation: readonly ScoredFeature[], conn: number, context: number): void {
    const i = this.count++;
    const a = this.answer;
    a.index[i] = index;
    a.row[i] = row;
    a.score[i] = score;
    a.conn[i] = conn;
    a.context[i] = context;
    for (let k = 0; k < EXPLAINED; k++) {
      const share = explanation[k];
      a.feature[i * EXPLAINED + k] = share === undefined ? NO_FEATURE : (this.featureNumbers.get(share.feature) ?? NO_FEATURE);
      a.share[i * EXPLAINED + k] = share?.share ?? 0;
      a.value[i * EXPLAINED + k] = share?.value ?? NaN;
    }
  }

  build(cut: number, lent: Pick<BlockAnswer, 'x' | 'contextInput'>): BlockAnswer {
    return { ...this.answer, count: this.count, cut, ...lent };
  }
}
