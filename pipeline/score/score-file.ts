import { performance } from 'node:perf_hooks';
import type { ThresholdMode } from '../../db/files.js';
import { combinedScore } from '../../model/combine.js';
import type { ScoringModel } from '../../model/load-scoring-model.js';
import { DEFAULT_SCORE_BATCH, scoreAll, type Scores } from '../../model/autoencoder.js';
import type { Tf } from '../../model/backend.js';
import { topFraction } from '../../model/metrics.js';
import { CONTEXT_FEATURE_NAMES, CONTEXT_WIDTH } from '../context/context-features.js';
import type { ContextState } from '../context/context-state.js';
import { CandidateTable, type FlaggedConnection, type ScoredFeature } from '../first-read/candidate-table.js';
import { LogReadError } from '../read/log-read-error.js';
import { expectedRows } from './expected-rows.js';
import { readConnLog } from '../read/read-conn-log.js';
import type { BadLinePolicy } from '../read/bad-line-policy.js';
import type { FileActivity } from '../findings/file-activity.js';
import { featureBlocks, newFeatureBuffers, type FeatureBlock, type Featurizer } from '../first-read/feature-blocks.js';
import { readHere, type FirstReadEnd } from '../first-read/first-read.js';
import type { ReadThread } from '../first-read/read-thread.js';

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
  /** Hash the file in the read that scores it: the outcome's `sha256`. */
  sha256?: boolean;
  /**
   * Reads, counts and featurises the first read on this thread while this one scores: the
   * context state and the activity are handed to it for the read, and back at its end.
   */
  thread?: ReadThread;
}

export interface FileContext {
  state: ContextState;
  rewound: () => ContextState;
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
      /** The file's SHA-256 as read, when `sha256` asked for it. */
      sha256: string | null;
    }
  | { status: 'failed'; error: LogReadError; seconds: number }
  | { status: 'aborted' };

// The candidate cut is made again each time the rows read grow by this factor, starting at
// FIRST_CUT_AT. A row is kept if it scores above the cut as it stands when the row comes, so a cut
// made often keeps fewer (on the 1M-row benchmark, a cut at each doubling kept 270,549 rows, one at each eighth 221,990), and a
// selection over the scores so far costs a few milliseconds a million rows.
const CUT_EVERY = 1.125;
const FIRST_CUT_AT = 4096;

/**
 * Scores every connection of one file and returns the flagged ones with their explanations.
 * Per-file mode is exact: it keeps every score (4 bytes a row) and only the records that may
 * end up flagged, then checks that the exact top share is among them, reading the file a second
 * time in the rare case it is not. Memory stays bounded by the flagged share, not the file.
 */
export async function scoreFile(tf: Tf, model: ScoringModel, file: string, options: ScoreOptions): Promise<ScoreOutcome> {
  const started = performance.now();
  const explainTop = options.explainTop ?? 3;
  const state = options.context?.state ?? null;
  const featureNames = [...model.preprocessor.featureNames, ...CONTEXT_FEATURE_NAMES];
  const readOptions = { file, badLines: options.badLines, sha256: options.sha256 === true, featureNames };
  const rowBound = await expectedRows(file);
  const scores = new GrowableScores(rowBound);
  const flaggedShare = 1 - options.quantile;
  const baseline = options.mode === 'baseline';
  const baselineThreshold = model.context !== null && state !== null ? model.context.combinedThreshold : model.baselineThreshold;
  let cut = baseline ? baselineThreshold : -Infinity;
  let nextCut = FIRST_CUT_AT;

  options.onStart?.();
  const first =
    options.thread === undefined
      ? readHere(featurizerFor(model, state, options.activity), readOptions)
      : options.thread.read({ ...readOptions, model, state, activity: options.activity });
  const scorer = new BlockScorer(tf, model, explainTop);
  let read: FirstReadEnd;
  try {
    for await (const block of first.blocks()) {
      if (options.signal?.aborted) throw new Aborted();
      scorer.score(block, (index, row, score, explain, conn, context) => {
        scores.push(score);
        if (baseline ? score > cut : score >= cut) first.keep(index, row, score, explain(), conn, context);
      });
      if (!baseline && scorer.rowsScored >= nextCut) {
        nextCut = scorer.rowsScored * CUT_EVERY;
        cut = candidateCut(scores.view(), flaggedShare, rowBound, cut);
      }
      first.blockDone(cut);
    }
    read = await first.end();
  } catch (error) {
    if (error instanceof LogReadError) return { status: 'failed', error, seconds: since(started) };
    if (error instanceof Aborted) return { status: 'aborted' };
    throw error;
  } finally {
    // What the read holds (the activity) comes back, and its thread stops, whatever happened to it.
    await first.close();
  }
  if (options.signal?.aborted) return { status: 'aborted' };

  const { summary, candidates } = read;
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
      const again = new BlockScorer(tf, model, explainTop, missing);
      const featurizer = featurizerFor(model, options.context === undefined ? null : options.context.rewound());
      const buffers = newFeatureBuffers(featurizer);
      try {
        for await (const block of featureBlocks(readConnLog(file, { badLines: options.badLines }), featurizer, () => buffers)) {
          if (options.signal?.aborted) throw new Aborted();
          again.score(block, (index, row, score, explain, conn, context) => fetched.add(index, score, block.records![row]!, explain(), conn, context));
          // Leaving the loop closes the file.
          if (again.passedLastWanted()) break;
        }
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
    sha256: read.sha256,
  };
}

/**
 * The score below which a row can no longer be among the file's top share, from the scores so far:
 * that of the k-th highest, where k is the share of as many rows as the file holds. At least k rows
 * score above anything below it, and more rows can only add to them. The file's rows are bounded
 * by its size (`expectedRows`, an upper bound for a plain file or a single gzip member), so the
 * first read keeps every row the top share will need, and about that share of the file at its end.
 * A file with more rows than that (a concatenated gzip records only its last member's size) raises
 * the bound as its rows come, and a row let go under the lower one may then need a second read.
 * The k-th highest is found by selection: linear time, where a quantile would sort.
 */
function candidateCut(scores: Float32Array, flaggedShare: number, rowBound: number, cut: number): number {
  // One more than the share rounds to, so that rounding cannot make it one row short.
  const keep = Math.ceil(flaggedShare * Math.max(rowBound, scores.length)) + 1;
  return keep >= scores.length ? cut : topFraction(scores, keep / scores.length).threshold;
}

/** The rows at `indices` (ascending), each made when it is needed. */
function* rowsAt(indices: Uint32Array, candidates: CandidateTable, fetched: CandidateTable, threshold: number, modelVersion: string): Generator<FlaggedConnection> {
  for (const index of indices) {
    const row = candidates.get(index, threshold, modelVersion) ?? fetched.get(index, threshold, modelVersion);
    if (row === undefined) throw new Error(`row ${index} of the top share was neither a candidate nor read again`);
    yield row;
  }
}

/** What turns `model`'s input rows into features here: the context counted into `state` (none when null). */
function featurizerFor(model: ScoringModel, state: ContextState | null, activity?: FileActivity): Featurizer {
  return { preprocessor: model.preprocessor, context: state, contextScaler: model.context?.scaler ?? null, activity };
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
 * A row scored: the file's row `index`, row `row` of its block, its score, how to explain it
 * (made only for rows that are kept, and only during the call), and each model's error (context
 * NaN without one).
 */
type RowSink = (index: number, row: number, score: number, explain: () => ScoredFeature[], conn: number, context: number) => void;

/**
 * Scores blocks of features and hands each row on with its score: the per-connection error, or
 * with a context model both errors combined, each over its own baseline.
 */
class BlockScorer {
  private readonly width: number;
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
    /** Row indices (ascending) to hand on, all rows when absent. */
    private readonly only?: Uint32Array,
  ) {
    this.width = model.preprocessor.width;
  }

  get rowsScored(): number {
    return this.rowIndex;
  }

  /** Whether every row of `only` has been handed on. */
  passedLastWanted(): boolean {
    return this.only !== undefined && this.nextWanted >= this.only.length;
  }

  score(block: FeatureBlock, sink: RowSink): void {
    const rows = block.rows;
    const conn = scoreAll(this.tf, this.model.model, block.x, rows, this.width, DEFAULT_SCORE_BATCH);
    const contextModel = this.model.context;
    const context = block.contextX !== null && contextModel !== null ? scoreAll(this.tf, contextModel.model, block.contextX, rows, CONTEXT_WIDTH, DEFAULT_SCORE_BATCH) : null;
    const current = this.current;
    current.conn = conn;
    current.context = context;
    current.raw = block.context;
    for (let r = 0; r < rows; r++) {
      if (!this.wants(this.rowIndex + r)) continue;
      const connScore = conn.scores[r]!;
      const contextScore = context === null ? NaN : context.scores[r]!;
      const score = context === null || contextModel === null ? connScore : combinedScore(connScore, contextScore, contextModel.scales);
      current.row = r;
      current.connScore = connScore;
      current.contextScore = contextScore;
      current.score = score;
      sink(this.rowIndex + r, r, score, this.explainCurrent, connScore, contextScore);
    }
    this.rowIndex += rows;
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
