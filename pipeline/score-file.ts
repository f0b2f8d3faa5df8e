import { performance } from 'node:perf_hooks';
import type { LayersModel } from '@tensorflow/tfjs';
import type { Preprocessor, FeatureShare } from '../preprocess/preprocessor.js';
import { DEFAULT_SCORE_BATCH, scoreAll } from '../model/autoencoder.js';
import type { Tf } from '../model/detector.js';
import { topFraction } from '../model/metrics.js';
import { detachedRecord, type ConnRecord } from './conn-record.js';
import { LogReadError } from './log-read-error.js';
import { readConnLog, type BadLinePolicy } from './read-conn-log.js';

/** The active model, loaded and ready to score. */
export interface ScoringModel {
  version: string;
  preprocessor: Preprocessor;
  model: LayersModel;
  /** The quantile of validation errors saved with the model, for `baseline` thresholds. */
  baselineThreshold: number;
}

export type ThresholdMode = 'per-file' | 'baseline';

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
}

/** A flagged connection, as it goes into the `anomalies` table. */
export interface FlaggedConnection {
  ts: number;
  uid: string | null;
  origH: string;
  origP: number;
  respH: string;
  respP: number;
  proto: string;
  service: string | null;
  duration: number | null;
  origBytes: number | null;
  respBytes: number | null;
  connState: string | null;
  history: string | null;
  origPkts: number | null;
  respPkts: number | null;
  score: number;
  threshold: number;
  modelVersion: string;
  explanation: FeatureShare[];
}

export type ScoreOutcome =
  | {
      status: 'scored';
      rows: number;
      badLines: number;
      flagged: FlaggedConnection[];
      threshold: number;
      firstTs: number | null;
      lastTs: number | null;
      seconds: number;
      /** True when the exact top share was not all among the first pass's candidates and the file was read again. */
      readTwice: boolean;
    }
  | { status: 'failed'; error: LogReadError; seconds: number }
  | { status: 'aborted' };

// Rows are scored in blocks of this many, whatever the reader's batches hold.
const BLOCK_ROWS = 8192;
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
  const scorer = new BlockScorer(tf, model, options.explainTop ?? 3, options.signal);
  const scores = new GrowableScores();
  const candidates = new Map<number, FlaggedConnection>();
  const flaggedShare = 1 - options.quantile;
  let cut = options.mode === 'baseline' ? model.baselineThreshold : -Infinity;
  let nextCutEstimate = FIRST_CUT_ESTIMATE_AT;

  const reader = readConnLog(file, { badLines: options.badLines });
  try {
    await scorer.scoreStream(reader, (index, score, record, explain) => {
      scores.push(score);
      if (options.mode === 'baseline' ? score > cut : score >= cut) {
        candidates.set(index, flaggedConnection(record, score, model.version, explain()));
      }
    }, (rowsSoFar) => {
      if (options.mode !== 'per-file' || rowsSoFar < nextCutEstimate) return;
      nextCutEstimate = rowsSoFar * 2;
      // The k-th highest score by selection: linear time, where a quantile would sort.
      cut = topFraction(scores.view(), Math.min(1, flaggedShare * CANDIDATE_MARGIN)).threshold;
      for (const [index, flagged] of candidates) if (flagged.score < cut) candidates.delete(index);
    });
  } catch (error) {
    if (error instanceof LogReadError) return { status: 'failed', error, seconds: since(started) };
    if (error instanceof Aborted) return { status: 'aborted' };
    throw error;
  }
  if (options.signal?.aborted) return { status: 'aborted' };

  const summary = reader.summary;
  const all = scores.view();
  let flagged: FlaggedConnection[];
  let threshold: number;
  let readTwice = false;
  if (options.mode === 'baseline') {
    threshold = model.baselineThreshold;
    flagged = [...candidates.values()];
  } else {
    const top = topFraction(all, flaggedShare);
    threshold = top.threshold;
    const missing = new Set(Array.from(top.indices).filter((i) => !candidates.has(i)));
    if (missing.size > 0) {
      readTwice = true;
      try {
        await new BlockScorer(tf, model, options.explainTop ?? 3, options.signal).scoreStream(
          readConnLog(file, { badLines: options.badLines }),
          (index, score, record, explain) => {
            if (missing.has(index)) candidates.set(index, flaggedConnection(record, score, model.version, explain()));
          },
        );
      } catch (error) {
        if (error instanceof Aborted) return { status: 'aborted' };
        throw error;
      }
    }
    flagged = Array.from(top.indices, (i) => candidates.get(i)!);
  }
  for (const row of flagged) row.threshold = threshold;
  return {
    status: 'scored',
    rows: summary.rows,
    badLines: summary.badLines,
    flagged,
    threshold,
    firstTs: summary.firstTs,
    lastTs: summary.lastTs,
    seconds: since(started),
    readTwice,
  };
}

type RowSink = (index: number, score: number, record: ConnRecord, explain: () => FeatureShare[]) => void;

/** Gathers reader batches into blocks, transforms and scores them, and hands each row on with its score. */
class BlockScorer {
  private readonly width: number;
  private readonly input: Float32Array;
  private block: ConnRecord[] = [];
  private rowIndex = 0;

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

function flaggedConnection(record: ConnRecord, score: number, modelVersion: string, explanation: FeatureShare[]): FlaggedConnection {
  // Candidates outlive their batch: their strings must not pin the chunk they were cut from.
  const r = detachedRecord(record);
  return {
    ts: r.ts,
    uid: r.uid,
    origH: r['id.orig_h'],
    origP: r['id.orig_p'],
    respH: r['id.resp_h'],
    respP: r['id.resp_p'],
    proto: r.proto,
    service: r.service,
    duration: r.duration,
    origBytes: r.orig_bytes,
    respBytes: r.resp_bytes,
    connState: r.conn_state,
    history: r.history,
    origPkts: r.orig_pkts,
    respPkts: r.resp_pkts,
    score,
    threshold: NaN,
    modelVersion,
    explanation,
  };
}

function since(started: number): number {
  return (performance.now() - started) / 1000;
}
