import { Preprocessor, PreprocessStateError } from '../preprocess/preprocessor.js';
import type { ScoringModel } from '../pipeline/score-file.js';
import type { Tf } from './detector.js';
import { ModelLoadError, type ModelStore } from './store.js';

/** Loads a version (the active one by default) with its preprocessing, ready to score; a bad folder is a `ModelLoadError`. */
export async function loadScoringModel(tf: Tf, store: ModelStore, version?: string): Promise<ScoringModel> {
  const loaded = await store.load(tf, version);
  let preprocessor: Preprocessor;
  try {
    preprocessor = Preprocessor.fromJSON(loaded.preprocess, `model ${loaded.version}: preprocess.json`);
  } catch (error) {
    if (error instanceof PreprocessStateError) throw new ModelLoadError(loaded.version, 'preprocess.json', error.message);
    throw error;
  }
  const inputWidth = loaded.model.inputs[0]?.shape[1];
  if (inputWidth !== preprocessor.width) {
    throw new ModelLoadError(
      loaded.version,
      'model.json',
      `model ${loaded.version}: the network takes ${inputWidth} inputs but its preprocessing makes ${preprocessor.width}`,
    );
  }
  const threshold = (loaded.metrics as { threshold?: { value?: unknown } } | null)?.threshold?.value;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) {
    throw new ModelLoadError(loaded.version, 'metrics.json', `model ${loaded.version}: metrics.json has no threshold.value`);
  }
  return { version: loaded.version, preprocessor, model: loaded.model, baselineThreshold: threshold };
}
