import { performance } from 'node:perf_hooks';
import type { FeatureShare } from '../../preprocess/preprocessor.js';
import type { ThresholdMode } from '../../db/files.js';
import type { ScoringModel } from '../../model/load-scoring-model.js';
import { DEFAULT_SCORE_BATCH, scoreAll } from '../../model/autoencoder.js';
import type { Tf } from '../../model/backend.js';
import { topFraction } from '../../model/metrics.js';
import type { ConnRecord } from '../read/conn-record.js';
import { CandidateTable, type FlaggedConnection } from './candidate-table.js';
import { LogReadError } from '../read/log-read-error.js';
import { readConnLog, type BadLinePolicy } from '../read/read-conn-log.js';

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
  const scorer = new BlockScorer(tf, model, explainTop, options.signal);
  const scores = new GrowableScores();
  const candidates = new CandidateTable(model.preprocessor.featureNames);
  const flaggedShare = 1 - options.quantile;
  const baseline = options.mode === 'baseline';
  let cut = baseline ? model.baselineThreshold : -Infinity;
  let nextCutEstimate = FIRST_CUT_ESTIMATE_AT;

  const reader = readConnLog(file, { badLines: options.badLines });
  options.onStart?.();
  try {
    await scorer.scoreStream(
      reader,
      (index, score, record, explain) => {
        scores.push(score);
        if (baseline ? score > cut : score >= cut) candidates.add(index, score, record, explain());
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
  }
  if (options.signal?.aborted) return { status: 'aborted' };

  const summary = reader.summary;
  const version = model.version;
  let flagged: Iterable<FlaggedConnection>;
  let flaggedCount: number;
  let threshold: number;
  let readTwice = false;
  if (baseline) {
    threshold = model.baselineThreshold;
    flaggedCount = candidates.size;
    flagged = candidates.rows(threshold, version);
  } else {
    const top = topFraction(scores.view(), flaggedShare);
    threshold = top.threshold;
    // Rows of the exact top share that fell below an earlier cut: read the file again for them.
    const missing = new Set(Array.from(top.indices).filter((i) => !candidates.has(i)));
    const fetched = new CandidateTable(model.preprocessor.featureNames);
    if (missing.size > 0) {
      readTwice = true;
      const again = new BlockScorer(tf, model, explainTop, options.signal);
      try {
        await again.scoreStream(readConnLog(file, { badLines: options.badLines }), (index, score, record, explain) => {
          if (missing.has(index)) fetched.add(index, score, record, explain());
        });
      } catch (error) {
        if (error instanceof LogReadError) return { status: 'failed', error, seconds: since(started) };
        if (error instanceof Aborted) return { status: 'aborted' };
        throw error;
      }
      // The rows are found by their position: a file that changed in between has other rows there.
      if (again.rowsScored !== summary.rows || fetched.size !== missing.size) {
        const error = new LogReadError({
          code: 'changed',
          file,
          message: `the file changed between two reads of it (${summary.rows} rows, then ${again.rowsScored}); it is scored again once it is stable`,
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

type RowSink = (index: number, score: number, record: ConnRecord, explain: () => FeatureShare[]) => void;

/** Gathers reader batches into blocks, transforms and scores them, and hands each row on with its score. */
class BlockScorer {
  private readonly width: number;
  private readonly input: Float32Array;
  private block: ConnRecord[] = [];
  private rowIndex = 0;

  get rowsScored(): number {
    return this.rowIndex;
  }

  constructor(
    private readonly tf: Tf,
    private readonly model: ScoringModel,
    private readonly explainTop: number,
    private readonly signal?: AbortSignal,
  ) {
    this.width = model.preprocessor.width;
    this.input = new Float32Array(BLOCK_ROWS * this.width);
  }

  async scoreStream(batches: AsyncIterable<ConnRecord[]>, sink: RowSink, afterBlock: (rows: number) => void = () => {}): Promise<void> {
    for await (const batch of batches) {
      for (const record of batch) {
        this.block.push(record);
        if (this.block.length === BLOCK_ROWS) {
          this.flush(sink);
          afterBlock(this.rowIndex);
        }
      }
    }
    this.flush(sink);
    afterBlock(this.rowIndex);
  }

  private flush(sink: RowSink): void {
    if (this.signal?.aborted) throw new Aborted();
    const rows = this.block.length;
    if (rows === 0) return;
    const { preprocessor, model } = this.model;
    const x = preprocessor.transform(this.block, this.input.subarray(0, rows * this.width));
    const { scores, squaredErrors } = scoreAll(this.tf, model, x, rows, this.width, DEFAULT_SCORE_BATCH);
    for (let r = 0; r < rows; r++) {
      sink(this.rowIndex + r, scores[r]!, this.block[r]!, () => preprocessor.explain(squaredErrors, r, this.explainTop));
    }
    this.rowIndex += rows;
    this.block = [];
  }
}

class Aborted extends Error {}

/** Scores of every row of a file, 4 bytes each. */
class GrowableScores {
  private values: Float32Array = new Float32Array(65_536);
  private length = 0;

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
