import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs';
import { MatrixScaler } from '../preprocess/matrix-scaler.js';
import { Preprocessor, PreprocessStateError } from '../preprocess/preprocessor.js';
import type { Tf } from './backend.js';
import type { ScoreScales } from './combine.js';
import { ModelLoadError, type ModelStore } from './store.js';

/** A model version loaded and ready to score: the network(s), preprocessing and the saved threshold. */
export interface ScoringModel {
  version: string;
  preprocessor: Preprocessor;
  model: LayersModel;
  /** The per-connection model's threshold saved with it, for `baseline` mode. */
  baselineThreshold: number;
  /**
   * The context autoencoder, its scaler, how its error combines with the per-connection one, and
   * the baseline threshold on the combined score; null for a model trained without context.
   */
  context: { scaler: MatrixScaler; model: LayersModel; scales: ScoreScales; combinedThreshold: number } | null;
}

export interface LoadScoringModelOptions {
  version?: string;
  /** The context features the scorer computes, in order: a context model trained on others cannot be used. */
  contextColumns?: readonly string[];
}

/** Loads a version (the active one by default) with its preprocessing, ready to score; a bad folder is a `ModelLoadError`. */
export async function loadScoringModel(tf: Tf, store: ModelStore, options: LoadScoringModelOptions = {}): Promise<ScoringModel> {
  const loaded = await store.load(tf, options.version);
  const fileOf = (name: string): string => join(store.root, loaded.version, name);
  const fail = (name: string, message: string): never => {
    // A model that will not be used must not keep its weights in the backend's memory.
    loaded.model.dispose();
    loaded.context?.model.dispose();
    throw new ModelLoadError(loaded.version, fileOf(name), message);
  };
  let preprocessor: Preprocessor;
  let contextScaler: MatrixScaler | null = null;
  try {
    preprocessor = Preprocessor.fromJSON(loaded.preprocess, fileOf('preprocess.json'));
    if (loaded.context !== null) contextScaler = MatrixScaler.fromJSON(loaded.context.scaler, fileOf('context-scaler.json'));
  } catch (error) {
    if (error instanceof PreprocessStateError) return fail(contextScaler === null && loaded.context !== null ? 'context-scaler.json' : 'preprocess.json', error.message);
    throw error;
  }
  const inputWidth = loaded.model.inputs[0]?.shape[1];
  if (inputWidth !== preprocessor.width) {
    return fail('model.json', `${fileOf('model.json')}: the network takes ${inputWidth} inputs but its preprocessing makes ${preprocessor.width}`);
  }
  const metrics = loaded.metrics as { threshold?: { value?: unknown }; context?: { scales?: { conn?: unknown; context?: unknown }; combinedThreshold?: { value?: unknown } } | null } | null;
  const threshold = metrics?.threshold?.value;
  if (!isFiniteNumber(threshold)) {
    return fail('metrics.json', `${fileOf('metrics.json')}: there is no finite threshold.value (the baseline threshold saved at training)`);
  }
  if (loaded.context === null || contextScaler === null) return { version: loaded.version, preprocessor, model: loaded.model, baselineThreshold: threshold, context: null };

  const expected = options.contextColumns;
  const columns = contextScaler.columnNames;
  if (expected !== undefined && (columns.length !== expected.length || columns.some((name, i) => name !== expected[i]))) {
    const differs = columns.findIndex((name, i) => name !== expected[i]);
    return fail(
      'context-scaler.json',
      `${fileOf('context-scaler.json')}: the context model was trained on other context features than this version computes (column ${differs + 1}: ${JSON.stringify(columns[differs] ?? null)}, expected ${JSON.stringify(expected[differs] ?? null)}); retrain`,
    );
  }
  const scales = metrics?.context?.scales;
  const combined = metrics?.context?.combinedThreshold?.value;
  if (!isFiniteNumber(scales?.conn) || !isFiniteNumber(scales?.context) || !isFiniteNumber(combined)) {
    return fail('metrics.json', `${fileOf('metrics.json')}: a model with context needs finite context.scales.conn, context.scales.context and context.combinedThreshold.value`);
  }
  return {
    version: loaded.version,
    preprocessor,
    model: loaded.model,
    baselineThreshold: threshold,
    context: { scaler: contextScaler, model: loaded.context.model, scales: { conn: scales.conn, context: scales.context }, combinedThreshold: combined },
  };
}

/** Frees the backend memory of a model's network(s). */
export function disposeScoringModel(model: ScoringModel): void {
  model.model.dispose();
  model.context?.model.dispose();
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
