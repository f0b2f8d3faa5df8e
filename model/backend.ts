import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import * as tfjs from '@tensorflow/tfjs';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
/** The tfjs namespace, as `import * as tf from '@tensorflow/tfjs'` gives it. */
export type Tf = typeof tfjs;

export interface BackendOptions {
  /** Use exactly this backend (tests, benchmarks); an unavailable one is an error, not a fallback. */
  prefer?: BackendName;
  log?: (msg: string) => void;
}

export interface Backend {
  name: BackendName;
  tf: Tf;
}

export const BACKEND_ENV = 'ZEEK_ANOMALY_BACKEND';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

const TFJS_NODE = '@tensorflow/tfjs-node';
const TFJS_WASM = '@tensorflow/tfjs-backend-wasm';
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'];

type Attempt = { ok: true; detail: string } | { ok: false; reason: string };
type Choice = { name: BackendName; source: 'prefer' | 'env' } | { name: undefined; source: 'auto' };

// One backend per process: tfjs keeps it in a global engine. Calls are chained so two concurrent
// callers never race two setBackend calls, and a failed start is retried by the next call.
let state: Promise<Backend> | undefined;

/**
 * Picks and initialises the tfjs backend: `prefer`, else `ZEEK_ANOMALY_BACKEND`, else the fastest
 * available (tfjs-node, then wasm, then the pure JS cpu backend). Later calls return the same
 * backend unless they name a different one explicitly, which switches (benchmarks compare backends
 * in one process).
 */
export async function initBackend(options: BackendOptions = {}): Promise<Backend> {
  const choice = chooseBackend(options);
  const log = options.log ?? (() => {});
  const previous = state;
  const next = (async () => {
    const running = previous === undefined ? undefined : await previous.catch(() => undefined);
    if (running !== undefined && (choice.name === undefined || choice.name === running.name)) return running;
    return start(choice, log);
  })();
  state = next;
  return next;
}

async function start(choice: Choice, log: (msg: string) => void): Promise<Backend> {
  // The pure JS backend prints a "Hi, looks like you are running TensorFlow.js in Node.js" banner
  // on first use, and layers prints deprecation notes; prod mode silences both (the flag only gates
  // tfjs's own warnings and logs). Our log callback says which backend runs instead.
  tfjs.enableProdMode();
  const order = choice.name === undefined ? BACKEND_NAMES : [choice.name];
  const skipped: string[] = [];
  for (const name of order) {
    const attempt = await tryBackend(name);
    if (attempt.ok) {
      const how = choice.source === 'env' ? ` (from ${BACKEND_ENV})` : choice.source === 'prefer' ? ' (requested)' : '';
      const why = skipped.length > 0 ? `; ${skipped.join('; ')}` : '';
      log(`tfjs backend: ${name}${how}, ${attempt.detail}${why}`);
      return { name, tf: tfjs };
    }
    if (choice.name !== undefined) {
      const source = choice.source === 'env' ? `${BACKEND_ENV}=${name}` : `prefer: '${name}'`;
      throw new Error(`tfjs backend ${name} (${source}) cannot run: ${attempt.reason}`);
    }
    skipped.push(`${name} skipped: ${attempt.reason}`);
  }
  // cpu is always registered by @tensorflow/tfjs, so the loop returns before this.
  throw new Error(`no tfjs backend could start: ${skipped.join('; ')}`);
}

async function tryBackend(name: BackendName): Promise<Attempt> {
  switch (name) {
    case 'tensorflow':
      return tryTensorflow();
    case 'wasm':
      return tryWasm();
    case 'cpu':
      return (await setBackend('cpu')) ? { ok: true, detail: 'pure JavaScript (slowest)' } : { ok: false, reason: 'tf.setBackend("cpu") failed' };
  }
}

async function tryTensorflow(): Promise<Attempt> {
  if (tfjs.findBackend('tensorflow') === null) {
    try {
      // A variable specifier: the package is optional, so TypeScript must not resolve it. Importing
      // it registers the 'tensorflow' backend on the shared tfjs-core.
      const specifier = TFJS_NODE;
      await import(specifier);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const reason = code === 'ERR_MODULE_NOT_FOUND' ? `${TFJS_NODE} is not installed` : `${TFJS_NODE} failed to load: ${messageOf(error)}`;
      return { ok: false, reason };
    }
  }
  if (!(await setBackend('tensorflow'))) return { ok: false, reason: `${TFJS_NODE} loaded but its backend did not initialise` };
  return { ok: true, detail: 'native libtensorflow' };
}

async function tryWasm(): Promise<Attempt> {
  let dir: string;
  try {
    // In Node the .wasm binaries must be found on disk next to the package's main file; without
    // setWasmPaths it would look for them relative to the current directory.
    dir = dirname(createRequire(import.meta.url).resolve(TFJS_WASM));
  } catch (error) {
    return { ok: false, reason: `${TFJS_WASM} is not installed: ${messageOf(error)}` };
  }
  const missing = WASM_FILES.filter((file) => !existsSync(join(dir, file)));
  if (missing.length > 0) return { ok: false, reason: `${missing.join(', ')} missing from ${dir}` };
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // usePlatformFetch false: Emscripten reads the files with fs, never over the network.
  wasm.setWasmPaths(dir + sep, false);
  if (!(await setBackend('wasm'))) return { ok: false, reason: `tf.setBackend("wasm") failed (binaries in ${dir})` };
  // tfjs turns wasm threads off in Node (tensorflow/tfjs#3830), so this is one core whatever the machine.
  const simd = await tfjs.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return { ok: true, detail: `${simd === true ? 'SIMD' : 'no SIMD'}, ${wasm.getThreadsCount()} thread(s), binaries from ${dir}` };
}

async function setBackend(name: BackendName): Promise<boolean> {
  try {
    const ok = await tfjs.setBackend(name);
    await tfjs.ready();
    return ok && tfjs.getBackend() === name;
  } catch {
    return false;
  }
}

function chooseBackend(options: BackendOptions): Choice {
  if (options.prefer !== undefined) {
    if (!isBackendName(options.prefer)) {
      throw new Error(`initBackend: prefer is ${JSON.stringify(options.prefer)}; allowed: ${BACKEND_NAMES.join(', ')}`);
    }
    return { name: options.prefer, source: 'prefer' };
  }
  const value = process.env[BACKEND_ENV];
  if (value === undefined || value === '') return { name: undefined, source: 'auto' };
  if (!isBackendName(value)) {
    throw new Error(`${BACKEND_ENV}=${JSON.stringify(value)} is not a backend; allowed: ${BACKEND_NAMES.join(', ')}`);
  }
  return { name: value, source: 'env' };
}

function isBackendName(value: string): value is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(value);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
