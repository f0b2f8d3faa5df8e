import { parentPort } from 'node:worker_threads';
import { Preprocessor, type PreprocessState } from '../../preprocess/preprocessor.js';
import { ContextInput } from '../context/context-input.js';
import { FileActivity, type FileActivityParts } from '../findings/file-activity.js';
import type { ConnRecord } from '../read/conn-record.js';
import { LogReadError, type LogReadErrorCode } from '../read/log-read-error.js';
import type { ReadSummary } from '../read/log-reader.js';
import { EXPLAINED, NO_FEATURE, type CandidateTable, type CandidateTableParts, type ScoredFeature } from './candidate-table.js';
import { BLOCK_ROWS, newFeatureBuffers, type FeatureBuffers } from './feature-blocks.js';
import { openFirstRead } from './first-read.js';
import type { BadLinePolicy } from '../read/bad-line-policy.js';

// The far side of `ReadThread`: reads one file at a time, counts each block of rows into the
// activity, featurises it, and sends the block's features and context input to the scoring
// thread, keeping the block's records until that thread answers with the rows worth keeping as
// candidates. At the end of the file it hands back the activity and the candidates. Every buffer
// crosses by transfer, never by copy. Only loaded as a worker.

export type ToReadWorker =
  | {
      type: 'read';
      file: string;
      badLines?: BadLinePolicy;
      sha256: boolean;
      featureNames: readonly string[];
      preprocessor: PreprocessState;
      /** Send each block's context input, for the scoring thread to count. */
      context: boolean;
      activity: FileActivityParts | null;
    }
  | ({ type: 'answer' } & BlockAnswer)
  | { type: 'stop' };

/** What the scoring thread kept of one block: a row each, the explanation packed as EXPLAINED feature numbers, shares and values. */
export interface BlockAnswer {
  count: number;
  index: Uint32Array;
  row: Uint16Array;
  score: Float32Array;
  conn: Float32Array;
  context: Float32Array;
  feature: Uint8Array;
  share: Float32Array;
  value: Float32Array;
  /** Candidates below it can go. */
  cut: number;
  /** The block's buffers, handed back to be filled again. */
  x: ArrayBuffer;
  contextInput: ArrayBuffer | null;
}

export type FromReadWorker =
  | { type: 'block'; rows: number; x: Float32Array; contextInput: ArrayBuffer | null }
  | ({ type: 'end' } & ReadEnd);

/** How the read ended, and what it held, handed back. */
export type ReadEnd = {
  activity: FileActivityParts | null;
} & (
  | { outcome: 'read'; summary: ReadSummary; candidates: CandidateTableParts; sha256: string | null }
  | { outcome: 'failed'; error: { code: LogReadErrorCode; file: string; detail: string; line: number | null; rowsRead: number } }
  | { outcome: 'stopped' }
  /** A throw that is not the file's fault: a bug. */
  | { outcome: 'crashed'; message: string }
);

// Blocks sent and not yet answered: enough that the scoring thread always has the next one.
const BLOCKS_AHEAD = 3;

const port = parentPort;
if (port !== null) {
  let answered: (() => void) | null = null;
  let onAnswer: ((answer: BlockAnswer) => void) | null = null;
  let stopped = false;
  port.on('message', (message: ToReadWorker) => {
    if (message.type === 'read') {
      stopped = false;
      void readFile(message);
      return;
    }
    if (message.type === 'answer') onAnswer?.(message);
    else stopped = true;
    const wake = answered;
    answered = null;
    wake?.();
  });

  const nextMessage = (): Promise<void> => new Promise((resolve) => (answered = resolve));

  const readFile = async (request: Extract<ToReadWorker, { type: 'read' }>): Promise<void> => {
    const activity = request.activity === null ? undefined : FileActivity.fromParts(request.activity);
    const featurizer = { preprocessor: Preprocessor.fromJSON(request.preprocessor), context: null, contextScaler: null, activity };
    // Buffers come back with the answers and are filled again: a few sets in all, not a new set
    // for each of a 1M-row file's 489 blocks, each freed only when a collection finds it.
    const spare: FeatureBuffers[] = [];
    const spareInputs: ContextInput[] = [];
    const read = openFirstRead(featurizer, request, () => spare.pop() ?? newFeatureBuffers(featurizer));
    const waiting: (readonly ConnRecord[])[] = [];
    let cut = -Infinity;
    onAnswer = (answer) => {
      spare.push({ x: new Float32Array(answer.x), context: null, contextX: null });
      if (answer.contextInput !== null) spareInputs.push(new ContextInput(BLOCK_ROWS, answer.contextInput));
      keepAnswered(read.candidates, waiting.shift()!, answer, request.featureNames);
      if (answer.cut === cut) return;
      cut = answer.cut;
      read.candidates.prune(cut);
    };
    let end: ReadEnd;
    const transfer: ArrayBuffer[] = [];
    try {
      for await (const block of read.blocks) {
        if (stopped) break;
        const records = block.records!;
        waiting.push(records);
        let contextInput: ContextInput | null = null;
        if (request.context) {
          contextInput = spareInputs.pop() ?? new ContextInput(BLOCK_ROWS);
          contextInput.fill(records);
        }
        const message: FromReadWorker = { type: 'block', rows: block.rows, x: block.x, contextInput: contextInput?.buffer ?? null };
        port.postMessage(message, contextInput === null ? [block.x.buffer as ArrayBuffer] : [block.x.buffer as ArrayBuffer, contextInput.buffer]);
        while (waiting.length >= BLOCKS_AHEAD && !stopped) await nextMessage();
      }
      while (waiting.length > 0 && !stopped) await nextMessage();
      if (stopped) {
        end = { outcome: 'stopped', activity: null };
      } else {
        const found = read.end();
        const candidates = found.candidates.handOver();
        transfer.push(...candidates.buffers);
        end = { outcome: 'read', summary: found.summary, candidates: candidates.parts, sha256: found.sha256, activity: null };
      }
    } catch (error) {
      end =
        error instanceof LogReadError
          ? { outcome: 'failed', error: { code: error.code, file: error.file, detail: error.detail, line: error.line, rowsRead: error.rowsRead }, activity: null }
          : { outcome: 'crashed', message: error instanceof Error ? (error.stack ?? error.message) : String(error), activity: null };
    }
    onAnswer = null;
    // Whatever the outcome, the activity goes back: the scoring thread uses it or drops it with the file.
    if (activity !== undefined) {
      const handed = activity.handOver();
      end.activity = handed.parts;
      transfer.push(...handed.buffers);
    }
    port.postMessage({ type: 'end', ...end } satisfies FromReadWorker, transfer);
  };
}

/** Adds the rows the scoring thread kept of a block to the candidates. */
function keepAnswered(candidates: CandidateTable, records: readonly ConnRecord[], answer: BlockAnswer, featureNames: readonly string[]): void {
  for (let i = 0; i < answer.count; i++) {
    const explanation: ScoredFeature[] = [];
    for (let k = i * EXPLAINED; k < (i + 1) * EXPLAINED; k++) {
      const feature = answer.feature[k]!;
      if (feature === NO_FEATURE) continue;
      const value = answer.value[k]!;
      const named = { feature: featureNames[feature]!, share: answer.share[k]! };
      explanation.push(Number.isNaN(value) ? named : { ...named, value });
    }
    candidates.add(answer.index[i]!, answer.score[i]!, records[answer.row[i]!]!, explanation, answer.conn[i]!, answer.context[i]!);
  }
}
