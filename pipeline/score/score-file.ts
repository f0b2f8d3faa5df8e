import { performance } from 'node:perf_hooks';
import type { ThresholdMode } from '../../db/files.js';
import { combinedScore } from '../../model/combine.js';
import type { ScoringModel } from '../../model/load-scoring-model.js';
import { DEFAULT_SCORE_BATCH, scoreAll, type Scores } from '../../model/autoencoder.js';
import type { Tf } from '../../model/backend.js';
import { topFraction } from '../../model/metrics.js';
import { CONTEXT_FEATURE_NAMES, CONTEXT_WIDTH } from '../context/context-features.js';
import type { ContextState } from '../context/context-state.js';
import type { ContextThread } from '../context/context-thread.js';
import type { ConnRecord } from '../read/conn-record.js';
import { CandidateTable, type FlaggedConnection, type ScoredFeature } from './candidate-table.js';
import { LogReadError } from '../read/log-read-error.js';
import { expectedRows } from './expected-rows.js';
import { readConnLog, type BadLinePolicy } from '../read/read-conn-log.js';
import type { FileActivity } from '../findings/file-activity.js';

export interface ScoreOptions {
  /** `per-file`: flag the top (1 − quantile) of each file; `baseline`: flag rows above the model's saved threshold. */
  mode: ThresholdMode;
  /** 0.95 flags the top 5% per file. */
  quantile: number;
  badLines?: BadLinePolicy;
  /** Features named in each anomaly's explanation. */
  explainTop?: number;
  /** Stops scoring between blocks: the outcome is then `aborted` and nothing is flagged. */
  signal?: AbortSignal;
  /** Called once, as the file's first read for scoring begins (the service logs it). */
  onStart?: () => void;
  /**
   * The context stage: every row is counted into `state` as it is read (whether or not the model
   * has a context model, so the state is warm when one arrives), and `rewound` gives a copy of it
   * as it was before this file, for a second read to replay.
   */
  context?: FileContext;
  /** Gathers every row for the findings detectors (on the first read only). */
  activity?: FileActivity;
  /** Each chunk of the file as read from the disk (on the first read only): to hash it in the same read. */
  onFileBytes?: (chunk: Buffer) => void;
}

export interface FileContext {
  state: ContextState;
  rewound: () => ContextState;
  /** Counts the first read's rows on this thread while the rows are transformed and scored here; `state` is handed to it for the read. */
  thread?: ContextThread;
}

export type ScoreOutcome =
  | {
      status: 'scored';
      rows: number;
      badLines: number;
      /** How many rows were flagged, and the rows themselves, made one at a time (a 10M-row file flags 500k). */
      flaggedCount: number;
      flagged: Iterable<FlaggedConnection>;
      threshold: number;
      firstTs: number | null;
      lastTs: number | null;
      seconds: number;
      /** True when the exact top share was not all among the first pass's candidates and the file was read again. */
      readTwice: boolean;
    }
  | { status: 'failed'; error: LogReadError; seconds: number }
  | { status: 'aborted' };

// Rows are scored in blocks of this many, whatever the reader's batches hold. Small enough that a
// block's records die young: blocks of 8,192 survived into V8's old space and lifted a 10M-row
// file's peak RSS from 543 MB to 949 MB, for no gain in speed (scoring batches are 2,048 rows).
const BLOCK_ROWS = 2048;
// Per-file mode keeps, as candidates, the rows above this much more than the flagged share
// (1.25 × 5% = the top 6.25% as estimated so far): enough slack that a second read is rare,
// little enough that a 10M-row file keeps about 600k rows, not a million.
const CANDIDATE_MARGIN = 1.25;
// The candidate cut is re-estimated each time the rows read double, starting here.
const FIRST_CUT_ESTIMATE_AT = 4096;

/**
 * Scores every connection of one file and returns the flagged ones with their explanations.
 * Per-file mode is exact: it keeps every score (4 bytes a row) and only the records that may
 * end up flagged, then checks that the exact top share is among them, reading the file a second
 * time in the rare case it is not. Memory stays bounded by the flagged share, not the file.
 */
export async function scoreFile(tf: Tf, model: ScoringModel, file: string, options: ScoreOptions): Promise<ScoreOutcome> {
  const started = performance.now();
  const explainTop = options.explainTop ?? 3;
  const fileContext = options.context;
  const thread = fileContext?.thread;
  const contextStage = fileContext === undefined ? null : thread === undefined ? countedHere(fileContext.state) : thread;
  const scorer = new BlockScorer(tf, model, explainTop, contextStage, options.signal);
  const scores = new GrowableScores(await expectedRows(file));
  const featureNames = [...model.preprocessor.featureNames, ...CONTEXT_FEATURE_NAMES];
  const candidates = new CandidateTable(featureNames);
  const flaggedShare = 1 - options.quantile;
  const baseline = options.mode === 'baseline';
  const baselineThreshold = model.context !== null && options.context !== undefined ? model.context.combinedThreshold : model.baselineThreshold;
  let cut = baseline ? baselineThreshold : -Infinity;
  let nextCutEstimate = FIRST_CUT_ESTIMATE_AT;

  const activity = options.activity;
  const reader = readConnLog(file, { badLines: options.badLines, onFileBytes: options.onFileBytes });
  options.onStart?.();
  if (thread !== undefined) thread.begin(fileContext!.state);
  try {
    await scorer.scoreStream(
      reader,
      (index, score, record, explain, conn, context) => {
        scores.push(score);
        activity?.add(record);
        if (baseline ? score > cut : score >= cut) candidates.add(index, score, record, explain(), conn, context);
      },
      (rowsSoFar) => {
        if (baseline || rowsSoFar < nextCutEstimate) return;
        nextCutEstimate = rowsSoFar * 2;
        // The k-th highest score by selection: linear time, where a quantile would sort.
        cut = topFraction(scores.view(), Math.min(1, flaggedShare * CANDIDATE_MARGIN)).threshold;
        candidates.prune(cut);
      },
    );
  } catch (error) {
    if (error instanceof LogReadError) return { status: 'failed', error, seconds: since(started) };
    if (error instanceof Aborted) return { status: 'aborted' };
    throw error;
  } finally {
    // The state comes back whatever happened to the read: the caller saves it or sends it back to its saved copy.
    if (thread !== undefined) await thread.end();
  }
  if (options.signal?.aborted) return { status: 'aborted' };

  const summary = reader.summary;
  const version = model.version;
  let flagged: Iterable<FlaggedConnection>;
  let flaggedCount: number;
  let threshold: number;
  let readTwice = false;
  if (baseline) {
    threshold = baselineThreshold;
    flaggedCount = candidates.size;
    flagged = candidates.rows(threshold, version);
  } else {
    const top = topFraction(scores.view(), flaggedShare);
    threshold = top.threshold;
    // Rows of the exact top share that fell below an earlier cut: read the file again for them.
    const missing = top.indices.filter((i) => !candidates.has(i));
    const fetched = new CandidateTable(featureNames);
    if (missing.length > 0) {
      readTwice = true;
      // The context of each row as it was when first read: replayed from the state before the file.
      // The read stops after the last missing row: they are mostly early ones, scored before the
      // running cut had settled (a fresh context state warming up, say).
      const again = new BlockScorer(tf, model, explainTop, fileContext === undefined ? null : countedHere(fileContext.rewound()), options.signal, missing);
      try {
        await again.scoreStream(readConnLog(file, { badLines: options.badLines }), (index, score, record, explain, conn, context) => {
          fetched.add(index, score, record, explain(), conn, context);
        });
      } catch (error) {
        if (error instanceof LogReadError) return { status: 'failed', error, seconds: since(started) };
        if (error instanceof Aborted) return { status: 'aborted' };
        throw error;
      }
      // The rows are found by their position: a file that changed in between has other rows there
      // (or too few). A change anywhere else is caught by the caller's check of the file's content.
      if (fetched.size !== missing.length) {
        const error = new LogReadError({
          code: 'changed',
          file,
          message: `the file changed between two reads of it (${summary.rows} rows, then ${again.rowsScored} up to its last missing row); it is scored again once it is stable`,
          rowsRead: summary.rows,
        });
        return { status: 'failed', error, seconds: since(started) };
      }
    }
    flaggedCount = top.indices.length;
    flagged = rowsAt(top.indices, candidates, fetched, threshold, version);
  }
  return {
    status: 'scored',
    rows: summary.rows,
    badLines: summary.badLines,
    flaggedCount,
    flagged,
    threshold,
    firstTs: summary.firstTs,
    lastTs: summary.lastTs,
    seconds: since(started),
    readTwice,
  };
}

/** The rows at `indices` (ascending), each made when it is needed. */
function* rowsAt(indices: Uint32Array, candidates: CandidateTable, fetched: CandidateTable, threshold: number, modelVersion: string): Generator<FlaggedConnection> {
  for (const index of indices) {
    const row = candidates.get(index, threshold, modelVersion) ?? fetched.get(index, threshold, modelVersion);
    if (row === undefined) throw new Error(`row ${index} of the top share was neither a candidate nor read again`);
    yield row;
  }
}

/** Counts a block's rows into the context state and gives their features, rows × CONTEXT_WIDTH: here, or on a `ContextThread`. */
interface ContextStage {
  observe(block: readonly ConnRecord[]): Float32Array | Promise<Float32Array>;
}

/** The context stage on this thread, its features written into one block's buffer. */
function countedHere(state: ContextState): ContextStage {
  const out = new Float32Array(BLOCK_ROWS * CONTEXT_WIDTH);
  return { observe: (block) => state.observeAll(block, out.subarray(0, block.length * CONTEXT_WIDTH)) };
}

/** What BlockScorer knows of the row it is handing on. */
interface CurrentRow {
  conn: Scores | null;
  context: Scores | null;
  raw: Float32Array | null;
  row: number;
  connScore: number;
  contextScore: number;
  score: number;
}

/**
 * A row scored: its score, how to explain it (made only for rows that are kept, and only during
 * the call), and each model's error (context NaN without one).
 */
type RowSink = (index: number, score: number, record: ConnRecord, explain: () => ScoredFeature[], conn: number, context: number) => void;

/**
 * Gathers reader batches into blocks, counts them into the context state, transforms and scores
 * them, and hands each row on with its score: the per-connection error, or with a context model
 * both errors combined, each over its own baseline.
 */
class BlockScorer {
  private readonly width: number;
  private readonly input: Float32Array;
  private readonly contextInput: Float32Array | null;
  private block: ConnRecord[] = [];
  private rowIndex = 0;
  /** Into `only`: the first wanted row not yet passed. */
  private nextWanted = 0;
  /** The block being handed on and its row at hand, for `explainCurrent`: one object, not a closure per row. */
  private readonly current: CurrentRow = { conn: null, context: null, raw: null, row: 0, connScore: 0, contextScore: NaN, score: 0 };
  /** What the sink is given to explain the row it is handed; valid only during that call. */
  private readonly explainCurrent = (): ScoredFeature[] => this.explainCurrentRow();

  constructor(
    private readonly tf: Tf,
    private readonly model: ScoringModel,
    private readonly explainTop: number,
    private readonly context: ContextStage | null,
    private readonly signal?: AbortSignal,
    /** Row indices (ascending) to hand on, the stream ending after the last; all rows when absent. */
    private readonly only?: Uint32Array,
  ) {
    this.width = model.preprocessor.width;
    this.input = new Float32Array(BLOCK_ROWS * this.width);
    this.contextInput = context !== null && model.context !== null ? new Float32Array(BLOCK_ROWS * CONTEXT_WIDTH) : null;
  }

  get rowsScored(): number {
    return this.rowIndex;
  }

  async scoreStream(batches: AsyncIterable<ConnRecord[]>, sink: RowSink, afterBlock: (rows: number) => void = () => {}): Promise<void> {
    for await (const batch of batches) {
      for (const record of batch) {
        this.block.push(record);
        if (this.block.length === BLOCK_ROWS) {
          await this.flush(sink);
          afterBlock(this.rowIndex);
          // Leaving the loop closes the file.
          if (this.passedLastWanted()) return;
        }
      }
    }
    await this.flush(sink);
    afterBlock(this.rowIndex);
  }

  private passedLastWanted(): boolean {
    return this.only !== undefined && this.nextWanted >= this.only.length;
  }

  private async flush(sink: RowSink): Promise<void> {
    if (this.signal?.aborted) throw new Aborted();
    const rows = this.block.length;
    if (rows === 0) return;
    const { preprocessor, model } = this.model;
    // Sent first: on a context thread, the block is counted there while it is transformed and scored here.
    const counted = this.context?.observe(this.block) ?? null;
    // Awaited below; marked as handled now, so that a throw in between cannot leave a failed thread's rejection unhandled.
    if (counted instanceof Promise) counted.catch(() => undefined);
    const x = preprocessor.transform(this.block, this.input.subarray(0, rows * this.width));
    const conn = scoreAll(this.tf, model, x, rows, this.width, DEFAULT_SCORE_BATCH);
    const raw = counted === null ? null : await counted;
    const contextModel = this.model.context;
    const context =
      raw !== null && contextModel !== null && this.contextInput !== null
        ? scoreAll(this.tf, contextModel.model, contextModel.scaler.transform(raw, rows, this.contextInput.subarray(0, rows * CONTEXT_WIDTH)), rows, CONTEXT_WIDTH, DEFAULT_SCORE_BATCH)
        : null;
    const current = this.current;
    current.conn = conn;
    current.context = context;
    current.raw = raw;
    for (let r = 0; r < rows; r++) {
      if (!this.wants(this.rowIndex + r)) continue;
      const connScore = conn.scores[r]!;
      const contextScore = context === null ? NaN : context.scores[r]!;
      const score = context === null || contextModel === null ? connScore : combinedScore(connScore, contextScore, contextModel.scales);
      current.row = r;
      current.connScore = connScore;
      current.contextScore = contextScore;
      current.score = score;
      sink(this.rowIndex + r, score, this.block[r]!, this.explainCurrent, connScore, contextScore);
    }
    this.rowIndex += rows;
    this.block = [];
  }

  /**
   * The explanation of the row being handed on (`current`): the per-connection model's features,
   * or with a context model each model's features weighted by its part of the combined score.
   */
  private explainCurrentRow(): ScoredFeature[] {
    const { conn, context, raw, row, connScore, contextScore, score } = this.current;
    const { preprocessor } = this.model;
    const contextModel = this.model.context;
    if (conn === null) throw new Error('explain() was called outside a block');
    if (context === null || raw === null || contextModel === null) return preprocessor.explain(conn.squaredErrors, row, this.explainTop);
    const { scales, scaler } = contextModel;
    const connPart = connScore / scales.conn / score;
    const contextPart = contextScore / scales.context / score;
    const fromConn = preprocessor.explain(conn.squaredErrors, row, this.explainTop).map((f) => ({ feature: f.feature, share: f.share * connPart }));
    const fromContext = scaler.explain(context.squaredErrors, row, this.explainTop).map((f) => ({
      feature: f.feature,
      share: f.share * contextPart,
      value: raw[row * CONTEXT_WIDTH + CONTEXT_FEATURE_NAMES.indexOf(f.feature)]!,
    }));
    return [...fromConn, ...fromContext].sort((a, b) => b.share - a.share).slice(0, this.explainTop);
  }

  /** Whether row `index` is wanted; rows are asked about in ascending order. */
  private wants(index: number): boolean {
    if (this.only === undefined) return true;
    if (this.only[this.nextWanted] !== index) return false;
    this.nextWanted++;
    return true;
  }
}

class Aborted extends Error {}

/** Scores of every row of a file, 4 bytes each. */
class GrowableScores {
  private values: Float32Array;
  private length = 0;

  constructor(capacity: number) {
    this.values = new Float32Array(capacity);
  }

  push(value: number): void {
    if (this.length === this.values.length) {
      const bigger = new Float32Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = value;
  }

  view(): Float32Array {
    return this.values.subarray(0, this.length);
  }
}

function since(started: number): number {
  return (performance.now() - started) / 1000;
}
