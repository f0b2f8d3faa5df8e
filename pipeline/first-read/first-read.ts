import { createHash } from 'node:crypto';
import { readConnLog } from '../read/read-conn-log.js';
import type { BadLinePolicy } from '../read/bad-line-policy.js';
import type { ReadSummary } from '../read/log-reader.js';
import { CandidateTable, type ScoredFeature } from './candidate-table.js';
import { featureBlocks, newFeatureBuffers, type FeatureBlock, type FeatureBuffers, type Featurizer } from './feature-blocks.js';

/**
 * A file's first read for scoring, as the scorer drives it: blocks of features to score, the rows
 * worth keeping as candidates (`keep`, for the block just given), and at the end what the read
 * found. Made here (`readHere`) or on a read thread (`ReadThread.read`), with the same results.
 */
export interface FirstRead {
  /** The file's blocks, in order. Throws `LogReadError` for a file that cannot be used. */
  blocks(): AsyncIterable<FeatureBlock>;
  /** Keeps row `row` of the block last given (the file's row `index`) as a candidate. */
  keep(index: number, row: number, score: number, explanation: readonly ScoredFeature[], conn: number, context: number): void;
  /** The block last given is done; candidates scoring below `cut` can go. */
  blockDone(cut: number): void;
  /** After the last block: what the read found. */
  end(): Promise<FirstReadEnd>;
  /** Stops a read not ended (the scorer gave up on the file) and gives back what it held; does nothing after `end`. */
  close(): Promise<void>;
}

export interface FirstReadEnd {
  summary: ReadSummary;
  candidates: CandidateTable;
  /** The file's SHA-256, when asked for. */
  sha256: string | null;
}

export interface FirstReadOptions {
  file: string;
  badLines?: BadLinePolicy;
  /** Hash the file in the same read. */
  sha256: boolean;
  /** Names of the features an explanation may name: the preprocessor's, then the context's. */
  featureNames: readonly string[];
}

/** The first read on this thread: every block in the same buffers, each scored before the next is read. */
export function readHere(featurizer: Featurizer, options: FirstReadOptions): FirstRead {
  const buffers = newFeatureBuffers(featurizer);
  const opened = openFirstRead(featurizer, options, () => buffers);
  let current: FeatureBlock | null = null;
  let cut = -Infinity;
  return {
    async *blocks() {
      for await (const block of opened.blocks) {
        current = block;
        yield block;
      }
      current = null;
    },
    keep(index, row, score, explanation, conn, context) {
      opened.candidates.add(index, score, current!.records![row]!, explanation, conn, context);
    },
    blockDone(newCut) {
      if (newCut === cut) return;
      cut = newCut;
      opened.candidates.prune(cut);
    },
    end: () => Promise.resolve(opened.end()),
    close: () => Promise.resolve(),
  };
}

/** A first read's parts, here or on a read thread: its blocks, its candidates, and at the end what it found. */
export function openFirstRead(featurizer: Featurizer, options: FirstReadOptions, room: () => FeatureBuffers): { blocks: AsyncIterable<FeatureBlock>; candidates: CandidateTable; end: () => FirstReadEnd } {
  const hash = options.sha256 ? createHash('sha256') : null;
  const reader = readConnLog(options.file, { badLines: options.badLines, onFileBytes: hash === null ? undefined : (chunk) => hash.update(chunk) });
  const candidates = new CandidateTable(options.featureNames);
  return {
    blocks: featureBlocks(reader, featurizer, room),
    candidates,
    end: () => ({ summary: reader.summary, candidates, sha256: hash?.digest('hex') ?? null }),
  };
}
