import type { MatrixScaler } from '../../preprocess/matrix-scaler.js';
import type { Preprocessor } from '../../preprocess/preprocessor.js';
import { CONTEXT_WIDTH } from '../context/context-features.js';
import type { ContextState } from '../context/context-state.js';
import type { FileActivity } from '../findings/file-activity.js';
import type { ConnRecord } from '../read/conn-record.js';

/** One block of a file's rows, as the models take them. */
export interface FeatureBlock {
  rows: number;
  /** The rows themselves: null where the block crossed from a read thread, which keeps them. */
  records: readonly ConnRecord[] | null;
  /** rows × the preprocessor's width, encoded and scaled. */
  x: Float32Array;
  /** The context features as counted, rows × CONTEXT_WIDTH (an explanation quotes them); null without a context state. */
  context: Float32Array | null;
  /** The same scaled for the context model; null without one. */
  contextX: Float32Array | null;
}

/** What turns records into a block's features, and gathers what else each row is counted into. */
export interface Featurizer {
  preprocessor: Preprocessor;
  /** Counts every row into it, whether or not the model has a context model (so the state is warm when one arrives). */
  context: ContextState | null;
  /** The context model's scaler; null without a context model. */
  contextScaler: MatrixScaler | null;
  /** Gathers every row for the findings detectors. */
  activity?: FileActivity;
}

// Rows are featurised and scored in blocks of this many, whatever the reader's batches hold. Small
// enough that a block's records die young: blocks of 8,192 survived into V8's old space and lifted
// a 10M-row file's peak RSS from 543 MB to 949 MB, for no gain in speed (scoring batches are 2,048 rows).
export const BLOCK_ROWS = 2048;

/** Room for one block's features (BLOCK_ROWS rows). */
export interface FeatureBuffers {
  x: Float32Array;
  context: Float32Array | null;
  contextX: Float32Array | null;
}

/**
 * The reader's batches as blocks of BLOCK_ROWS rows, each counted into the context state and the
 * activity, and featurised into the buffers `room` gives for it: the same ones each time where a
 * block is done with before the next is asked for, or others while blocks are on another thread.
 */
export async function* featureBlocks(batches: AsyncIterable<ConnRecord[]>, featurizer: Featurizer, room: () => FeatureBuffers): AsyncGenerator<FeatureBlock> {
  let records: ConnRecord[] = [];
  for await (const batch of batches) {
    for (const record of batch) {
      records.push(record);
      if (records.length === BLOCK_ROWS) {
        yield featurized(records, featurizer, room());
        records = [];
      }
    }
  }
  if (records.length > 0) yield featurized(records, featurizer, room());
}

/** Buffers for a block of `featurizer`'s features. */
export function newFeatureBuffers(featurizer: Featurizer): FeatureBuffers {
  const withContext = featurizer.context !== null;
  return {
    x: new Float32Array(BLOCK_ROWS * featurizer.preprocessor.width),
    context: withContext ? new Float32Array(BLOCK_ROWS * CONTEXT_WIDTH) : null,
    contextX: withContext && featurizer.contextScaler !== null ? new Float32Array(BLOCK_ROWS * CONTEXT_WIDTH) : null,
  };
}

function featurized(records: ConnRecord[], featurizer: Featurizer, buffers: FeatureBuffers): FeatureBlock {
  const rows = records.length;
  const { preprocessor, context: state, contextScaler, activity } = featurizer;
  if (activity !== undefined) for (const record of records) activity.add(record);
  const x = preprocessor.transform(records, buffers.x.subarray(0, rows * preprocessor.width));
  const context = state === null || buffers.context === null ? null : state.observeAll(records, buffers.context.subarray(0, rows * CONTEXT_WIDTH));
  const contextX = context === null || contextScaler === null || buffers.contextX === null ? null : contextScaler.transform(context, rows, buffers.contextX.subarray(0, rows * CONTEXT_WIDTH));
  return { rows, records, x, context, contextX };
}
