import { join } from 'node:path';
import { Preprocessor, PreprocessStateError } from '../preprocess/preprocessor.js';
import type { LayersModel } from '@tensorflow/tfjs';
import type { Tf } from './backend.js';
import { ModelLoadError, type ModelStore } from './store.js';

/** A model version loaded and ready to score: the network, its preprocessing and its saved threshold. */
export interface ScoringModel {
  version: string;
  preprocessor: Preprocessor;
  model: LayersModel;
  /** The quantile of validation errors saved with the model, for `baseline` thresholds. */
  baselineThreshold: number;
}

/** Loads a version (the active one by default) with its preprocessing, ready to score; a bad folder is a `ModelLoadError`. */
export async function loadScoringModel(tf: Tf, store: ModelStore, version?: string): Promise<ScoringModel> {
  const loaded = await store.load(tf, version);
  const fileOf = (name: string): string => join(store.root, loaded.version, name);
  const fail = (name: string, message: string): never => {
    // A model that will not be used must not keep its weights in the backend's memory.
    loaded.model.dispose();
    throw new ModelLoadError(loaded.version, fileOf(name), message);
  };
  let preprocessor: Preprocessor;
  try {
    preprocessor = Preprocessor.fromJSON(loaded.preprocess, fileOf('preprocess.json'));
  } catch (error) {
    if (error instanceof PreprocessStateError) return fail('preprocess.json', error.message);
    throw error;
  }
  const inputWidth = loaded.model.inputs[0]?.shape[1];
  if (inputWidth !== preprocessor.width) {
    return fail('model.json', `${fileOf('model.json')}: the network takes ${inputWidth} inputs but its preprocessing makes ${preprocessor.width}`);
  }
  const threshold = (loaded.metrics as { threshold?: { value?: unknown } } | null)?.threshold?.value;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) {
    return fail('metrics.json', `${fileOf('metrics.json')}: there is no finite threshold.value (the baseline threshold saved at training)`);
  }
  return { version: loaded.version, preprocessor, model: loaded.model, baselineThreshold: threshold };
}
