import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LayersModel, io } from '@tensorflow/tfjs';
import type { Tf } from './backend.js';

export interface ModelVersionInfo {
  version: string;
  /** ISO 8601, from metrics.json (or the folder name when metrics.json is unreadable). */
  createdAt: string;
  active: boolean;
  /** metrics.json as saved; null when it cannot be read (see `problem`). */
  metrics: unknown;
  /** Why metrics.json could not be read, or null. Listing goes on so a broken version can still be seen and replaced. */
  problem: string | null;
}

export interface LoadedModel {
  version: string;
  model: LayersModel;
  preprocess: unknown;
  metrics: unknown;
  /** The context autoencoder and its scaler's saved state; null for a version trained without context. */
  context: { model: LayersModel; scaler: unknown } | null;
}

export interface SaveArgs {
  model: LayersModel;
  /** Whatever the caller needs to rebuild its preprocessing; a numeric `width` is checked against the model at load. */
  preprocess: object;
  metrics: object;
  activate: boolean;
  /** The context autoencoder and its scaler's state (a numeric `width` is checked against the network at load). */
  context?: { model: LayersModel; scaler: object };
}

/** A version folder (or the ACTIVE pointer) that cannot be loaded: `file` is the one at fault. */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';

  constructor(
    readonly version: string,
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

/** `v0001-20261120T231500Z`: an increasing number (at least four digits) and the UTC time of saving. */
export const VERSION_PATTERN = /^v(\d{4,})-(\d{8}T\d{6}Z)$/;
const VERSION_EXAMPLE = 'v0001-20261120T231500Z';

/** A network's two files: tfjs's model.json layout and its weights. */
interface NetworkFiles {
  json: string;
  weights: string;
}
/** The per-connection autoencoder. */
const MAIN: NetworkFiles = { json: 'model.json', weights: 'weights.bin' };
/** The context autoencoder, with its scaler beside it; absent from versions trained without context. */
const CONTEXT: NetworkFiles = { json: 'context-model.json', weights: 'context-weights.bin' };
const CONTEXT_SCALER_JSON = 'context-scaler.json';
const PREPROCESS_JSON = 'preprocess.json';
const METRICS_JSON = 'metrics.json';
const VERSION_FILES = [MAIN.json, MAIN.weights, PREPROCESS_JSON, METRICS_JSON];
const ACTIVE = 'ACTIVE';
const TEMP_PREFIX = '.tmp-';
const ACTIVE_TEMP_PREFIX = '.ACTIVE.tmp-';
// Leftovers younger than this may belong to a save still in progress in another process.
const LEFTOVER_AGE_MS = 60 * 60 * 1000;
// Two processes saving at once can pick the same number; the loser takes the next one.
const SAVE_ATTEMPTS = 20;
const WEIGHT_FILE_NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * Model versions in `<dataDir>/models/`, one folder each, and the ACTIVE pointer. Every write is
 * made in a temporary name and renamed into place, so a reader never sees half a model.
 */
export class ModelStore {
  /** `<dataDir>/models` */
  readonly root: string;

  constructor(options: { dataDir: string }) {
    if (typeof options.dataDir !== 'string' || options.dataDir === '') {
      throw new Error(`ModelStore: dataDir is ${JSON.stringify(options.dataDir)}; it must be a directory path`);
    }
    this.root = join(options.dataDir, 'models');
  }

  /** Every version, oldest first. */
  async list(): Promise<ModelVersionInfo[]> {
    const versions = await this.versionNames();
    // A corrupt ACTIVE must not hide the versions an operator would activate to repair it.
    const active = await this.activeVersion().catch((error: unknown) => {
      if (error instanceof ModelLoadError) return null;
      throw error;
    });
    return Promise.all(versions.map((version) => this.info(version, version === active)));
  }

  /** The version ACTIVE names, or null when no version has been activated. */
  async activeVersion(): Promise<string | null> {
    const path = join(this.root, ACTIVE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return null;
      throw error;
    }
    const version = text.trim();
    if (!VERSION_PATTERN.test(version)) {
      throw new ModelLoadError(version, path, `${path} holds ${JSON.stringify(text.slice(0, 80))}, which is not a version name like ${VERSION_EXAMPLE}`);
    }
    return version;
  }

  /** Writes a new version (and activates it when asked); returns its name. */
  async save(args: SaveArgs): Promise<string> {
    checkObject('preprocess', args.preprocess);
    checkObject('metrics', args.metrics);
    await mkdir(this.root, { recursive: true });
    await this.removeLeftovers();
    const temp = join(this.root, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    await mkdir(temp);
    try {
      await writeNetwork(temp, args.model, MAIN);
      await writeDurably(join(temp, PREPROCESS_JSON), JSON.stringify(args.preprocess));
      if (args.context !== undefined) {
        checkObject('context scaler', args.context.scaler);
        await writeNetwork(temp, args.context.model, CONTEXT);
        await writeDurably(join(temp, CONTEXT_SCALER_JSON), JSON.stringify(args.context.scaler));
      }
      const createdAt = new Date();
      for (let attempt = 1; ; attempt++) {
        const version = versionName((await this.lastNumber()) + 1, createdAt);
        const metrics = { ...args.metrics, version, createdAt: createdAt.toISOString() };
        await writeDurably(join(temp, METRICS_JSON), `${JSON.stringify(metrics, null, 2)}\n`);
        await syncDirectory(temp);
        try {
          await rename(temp, join(this.root, version));
        } catch (error) {
          const taken = codeOf(error) === 'ENOTEMPTY' || codeOf(error) === 'EEXIST';
          if (taken && attempt < SAVE_ATTEMPTS) continue;
          throw error;
        }
        await syncDirectory(this.root);
        if (args.activate) await this.activate(version);
        return version;
      }
    } finally {
      // After a successful rename there is nothing left here; after a failure, the partial folder goes.
      await rm(temp, { recursive: true, force: true });
    }
  }

  /** Points ACTIVE at `version` (a rollback when it is an older one). */
  async activate(version: string): Promise<void> {
    checkVersionName(version, 'activate');
    const dir = join(this.root, version);
    const missing: string[] = [];
    for (const file of VERSION_FILES) {
      if (!(await exists(join(dir, file)))) missing.push(file);
    }
    if (missing.length === VERSION_FILES.length) {
      throw new Error(`cannot activate ${version}: there is no such version in ${this.root} (${await this.describeVersions()})`);
    }
    if (missing.length > 0) throw new Error(`cannot activate ${version}: ${dir} lacks ${missing.join(', ')}`);
    const temp = join(this.root, `${ACTIVE_TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      await writeDurably(temp, `${version}\n`);
      await rename(temp, join(this.root, ACTIVE));
    } finally {
      await rm(temp, { force: true });
    }
    await syncDirectory(this.root);
  }

  /** Loads `version`, or the active one; every way a folder can be broken is a `ModelLoadError`. */
  async load(tf: Tf, version?: string): Promise<LoadedModel> {
    const name = version ?? (await this.activeVersion());
    if (name === null) {
      const path = join(this.root, ACTIVE);
      throw new ModelLoadError('', path, `no active model: ${path} does not exist (save a model with activate, or activate a version)`);
    }
    if (!VERSION_PATTERN.test(name)) {
      throw new ModelLoadError(name, this.root, `${JSON.stringify(name)} is not a model version name; expected one like ${VERSION_EXAMPLE}`);
    }
    const dir = join(this.root, name);
    if (!(await isDirectory(dir))) {
      throw new ModelLoadError(name, dir, `unknown model version ${name}: ${dir} does not exist (${await this.describeVersions()})`);
    }
    const fail = (file: string, message: string) => new ModelLoadError(name, join(dir, file), `${join(dir, file)}: ${message}`);

    const model = await readNetwork(tf, dir, MAIN, fail);
    let preprocess: unknown;
    let metrics: unknown;
    let context: LoadedModel['context'] = null;
    try {
      preprocess = await readJson(dir, PREPROCESS_JSON, fail);
      if (!isObject(preprocess)) throw fail(PREPROCESS_JSON, `holds ${describeJson(preprocess)}, not a JSON object`);
      metrics = await readJson(dir, METRICS_JSON, fail);
      checkWidth(model, preprocess.width, MAIN, PREPROCESS_JSON, fail);
      if (await exists(join(dir, CONTEXT.json))) {
        const scaler = await readJson(dir, CONTEXT_SCALER_JSON, fail);
        if (!isObject(scaler)) throw fail(CONTEXT_SCALER_JSON, `holds ${describeJson(scaler)}, not a JSON object`);
        const network = await readNetwork(tf, dir, CONTEXT, fail);
        context = { model: network, scaler };
        checkWidth(network, Array.isArray(scaler.columns) ? scaler.columns.length : undefined, CONTEXT, CONTEXT_SCALER_JSON, fail);
      }
    } catch (error) {
      model.dispose();
      context?.model.dispose();
      throw error;
    }
    return { version: name, model, preprocess, metrics, context };
  }

  /** Removes temporary folders and files that a crashed save or activate left behind. */
  async removeLeftovers(olderThanMs = LEFTOVER_AGE_MS): Promise<void> {
    const entries = await readdir(this.root).catch((error: unknown) => {
      if (codeOf(error) === 'ENOENT') return [];
      throw error;
    });
    const now = Date.now();
    for (const entry of entries) {
      if (!entry.startsWith(TEMP_PREFIX) && !entry.startsWith(ACTIVE_TEMP_PREFIX)) continue;
      const path = join(this.root, entry);
      const info = await stat(path).catch(() => null);
      if (info !== null && now - info.mtimeMs >= olderThanMs) await rm(path, { recursive: true, force: true });
    }
  }

  private async info(version: string, active: boolean): Promise<ModelVersionInfo> {
    const path = join(this.root, version, METRICS_JSON);
    const fallback = createdAtFromName(version);
    try {
      const metrics: unknown = JSON.parse(await readFile(path, 'utf8'));
      const createdAt = isObject(metrics) && typeof metrics.createdAt === 'string' ? metrics.createdAt : fallback;
      return { version, createdAt, active, metrics, problem: null };
    } catch (error) {
      return { version, createdAt: fallback, active, metrics: null, problem: `${path}: ${messageOf(error)}` };
    }
  }

  /** Version folders, by number. Anything else in the folder (temporary folders, ACTIVE, stray files) is not a version. */
  private async versionNames(): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(this.root, { withFileTypes: true });
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return [];
      throw error;
    }
    return entries
      .filter((entry) => entry.isDirectory() && VERSION_PATTERN.test(entry.name))
      .map((entry) => entry.name)
      .sort((a, b) => numberOf(a) - numberOf(b) || a.localeCompare(b));
  }

  private async lastNumber(): Promise<number> {
    const names = await this.versionNames();
    return names.length === 0 ? 0 : numberOf(names[names.length - 1]!);
  }

  private async describeVersions(): Promise<string> {
    const names = await this.versionNames();
    return names.length === 0 ? 'the store holds no versions' : `versions: ${names.join(', ')}`;
  }
}

interface Manifest {
  /** model.json's fields other than the manifest, as tfjs's ModelArtifacts names them. */
  artifacts: io.ModelArtifacts;
  weightSpecs: io.WeightsManifestEntry[];
  paths: string[];
}

type Fail = (file: string, message: string) => ModelLoadError;

async function writeNetwork(dir: string, model: LayersModel, files: NetworkFiles): Promise<void> {
  const artifacts = await captureArtifacts(model);
  await writeDurably(join(dir, files.json), JSON.stringify(modelJsonOf(artifacts, files)));
  await writeDurably(join(dir, files.weights), weightBytes(artifacts.weightData));
}

async function readNetwork(tf: Tf, dir: string, files: NetworkFiles, fail: Fail): Promise<LayersModel> {
  const manifest = parseModelJson(await readJson(dir, files.json, fail), fail, files);
  const weightData = await readWeights(dir, manifest, fail, files);
  try {
    return await tf.loadLayersModel(tf.io.fromMemory({ ...manifest.artifacts, weightSpecs: manifest.weightSpecs, weightData }));
  } catch (error) {
    throw fail(files.json, `tfjs cannot build a model from it: ${messageOf(error)}`);
  }
}

/** A network whose width is not its companion file's: the files come from different models. */
function checkWidth(model: LayersModel, width: unknown, files: NetworkFiles, companion: string, fail: Fail): void {
  if (typeof width !== 'number') return;
  const inputs = model.inputs[0]?.shape[1];
  const outputs = model.outputs[0]?.shape[1];
  if (inputs !== width || outputs !== width) {
    throw fail(companion, `width is ${width} but the model in ${files.json} takes ${inputs} inputs and gives ${outputs} outputs (files from different models?)`);
  }
}

function captureArtifacts(model: LayersModel): Promise<io.ModelArtifacts> {
  return new Promise((resolve, reject) => {
    // An IOHandler that hands the artifacts back instead of writing them (what tf.io.withSaveHandler
    // builds): tfjs's own file:// handler needs tfjs-node, and the writing here must be atomic.
    const handler: io.IOHandler = {
      save: (artifacts) => {
        resolve(artifacts);
        return Promise.resolve({
          modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' },
        });
      },
    };
    model.save(handler).catch(reject);
  });
}

/** The layout tfjs's file:// and http handlers write, so the folder also loads with tfjs-node or in a browser. */
function modelJsonOf(artifacts: io.ModelArtifacts, files: NetworkFiles): io.ModelJSON {
  if (artifacts.modelTopology === undefined || artifacts.weightSpecs === undefined) {
    throw new Error('ModelStore.save: tfjs gave no model topology or weight specs for this model');
  }
  return {
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology,
    ...(artifacts.trainingConfig === undefined ? {} : { trainingConfig: artifacts.trainingConfig }),
    ...(artifacts.userDefinedMetadata === undefined ? {} : { userDefinedMetadata: artifacts.userDefinedMetadata }),
    weightsManifest: [{ paths: [files.weights], weights: artifacts.weightSpecs }],
  };
}

function weightBytes(data: io.WeightData | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  const parts = Array.isArray(data) ? data : [data];
  return Buffer.concat(parts.map((part) => new Uint8Array(part)));
}

function parseModelJson(json: unknown, fail: Fail, files: NetworkFiles): Manifest {
  if (!isObject(json)) throw fail(files.json, `holds ${describeJson(json)}, not a tfjs model.json object`);
  if (!isObject(json.modelTopology)) throw fail(files.json, 'has no modelTopology object');
  const groups = json.weightsManifest;
  if (!Array.isArray(groups)) throw fail(files.json, 'has no weightsManifest array');
  const weightSpecs: io.WeightsManifestEntry[] = [];
  const paths: string[] = [];
  for (const [i, group] of groups.entries()) {
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw fail(files.json, `weightsManifest[${i}] needs a paths array and a weights array`);
    }
    for (const path of group.paths) {
      // Weight files live in the version folder itself: a name with a slash could read anywhere.
      if (typeof path !== 'string' || !WEIGHT_FILE_NAME.test(path) || path === '.' || path === '..') {
        throw fail(files.json, `weightsManifest[${i}].paths holds ${JSON.stringify(path)}; only file names in the version folder are allowed`);
      }
      paths.push(path);
    }
    for (const spec of group.weights as unknown[]) {
      if (!isObject(spec) || typeof spec.name !== 'string' || !Array.isArray(spec.shape) || typeof spec.dtype !== 'string') {
        throw fail(files.json, `weightsManifest[${i}].weights holds an entry without name, shape and dtype: ${JSON.stringify(spec).slice(0, 120)}`);
      }
      weightSpecs.push(spec as unknown as io.WeightsManifestEntry);
    }
  }
  const { weightsManifest: _manifest, ...rest } = json;
  return { artifacts: rest, weightSpecs, paths };
}

async function readWeights(dir: string, manifest: Manifest, fail: Fail, files: NetworkFiles): Promise<ArrayBuffer> {
  const parts: Buffer[] = [];
  for (const path of manifest.paths) {
    try {
      parts.push(await readFile(join(dir, path)));
    } catch (error) {
      throw fail(path, codeOf(error) === 'ENOENT' ? `is missing (${files.json} lists it)` : messageOf(error));
    }
  }
  const bytes = Buffer.concat(parts);
  let expected = 0;
  for (const spec of manifest.weightSpecs) expected += byteLengthOf(spec, fail, files);
  if (bytes.length !== expected) {
    const file = manifest.paths.length === 1 ? manifest.paths[0]! : manifest.paths.join(' + ');
    throw fail(
      file,
      `is ${bytes.length} bytes but the weightsManifest in ${files.json} describes ${expected} (${bytes.length < expected ? 'truncated' : 'from another model'}?)`,
    );
  }
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

function byteLengthOf(spec: io.WeightsManifestEntry, fail: Fail, files: NetworkFiles): number {
  const elements = spec.shape.reduce((product, n) => product * n, 1);
  if (!Number.isInteger(elements) || elements < 0) {
    throw fail(files.json, `weight ${spec.name} has shape ${JSON.stringify(spec.shape)}, not a list of whole numbers`);
  }
  const quantized = spec.quantization?.dtype;
  const bytes = quantized !== undefined ? QUANTIZED_BYTES[quantized] : DTYPE_BYTES[spec.dtype];
  if (bytes === undefined) {
    throw fail(files.json, `weight ${spec.name} has dtype ${quantized ?? spec.dtype}; supported: float32, int32, bool, complex64, or quantized uint8, uint16, float16`);
  }
  return elements * bytes;
}

const DTYPE_BYTES: Partial<Record<string, number>> = { float32: 4, int32: 4, bool: 1, complex64: 8 };
const QUANTIZED_BYTES: Partial<Record<string, number>> = { uint8: 1, uint16: 2, float16: 2 };

async function readJson(dir: string, file: string, fail: Fail): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(join(dir, file), 'utf8');
  } catch (error) {
    throw fail(file, codeOf(error) === 'ENOENT' ? 'is missing' : messageOf(error));
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw fail(file, `is not valid JSON (${messageOf(error)})`);
  }
}

async function writeDurably(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync a directory, so the names created or renamed in it survive a power cut. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems (and Windows) refuse fsync on a directory; the data files themselves are synced.
    if (!['EINVAL', 'EISDIR', 'EPERM', 'EBADF'].includes(codeOf(error) ?? '')) throw error;
  } finally {
    await handle.close();
  }
}

function versionName(number: number, at: Date): string {
  const stamp = at.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
  return `v${String(number).padStart(4, '0')}-${stamp}`;
}

function checkVersionName(version: string, action: string): void {
  if (typeof version !== 'string' || !VERSION_PATTERN.test(version)) {
    throw new Error(`cannot ${action} ${JSON.stringify(version)}: not a model version name; expected one like ${VERSION_EXAMPLE}`);
  }
}

function numberOf(version: string): number {
  return Number(VERSION_PATTERN.exec(version)?.[1] ?? NaN);
}

function createdAtFromName(version: string): string {
  const stamp = VERSION_PATTERN.exec(version)?.[2] ?? '';
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  return m === null ? '' : `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
}

function checkObject(name: string, value: unknown): void {
  if (!isObject(value)) throw new Error(`ModelStore.save: ${name} is ${describeJson(value)}; it must be a JSON object`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
