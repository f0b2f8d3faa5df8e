// Measures the figures behind DEFAULT_SCORE_BATCH and DEFAULT_TRAIN_OPTIONS in autoencoder.ts.
// Not a test: timings are noisy on a shared machine, so they are read by a person, not asserted.
//
//   node dist/scripts/dev/measure-training-defaults.js score [--backend wasm] [--width 48] [--rows 262144] [--runs 5]
//   node dist/scripts/dev/measure-training-defaults.js train [--backend wasm] [--rows 1000000] [--width 48] [--lr 1e-3,1e-4] [--max-epochs 40]
//   node dist/scripts/dev/measure-training-defaults.js train --real ../shared/data/rotated/honeypot [--preset seed] [--rows 1000000] ...
//     (the real conn logs under that folder, through the preprocessing stage, instead of synthetic rows)
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ConnRecord } from '../../pipeline/read/conn-record.js';
import { readConnLog } from '../../pipeline/read/read-conn-log.js';
import { presetNamed } from '../../preprocess/presets.js';
import { Preprocessor } from '../../preprocess/preprocessor.js';
import { DEFAULT_TRAIN_OPTIONS, buildAutoencoder, evaluateLoss, scoreAll, trainAutoencoder } from '../../model/autoencoder.js';
import { BACKEND_NAMES, initBackend, type BackendName } from '../../model/backend.js';
import { seededRandom, shuffleInPlace } from '../../model/random.js';
import { syntheticFeatures, unstructuredRows } from '../../model/synthetic-features.js';

const SCORE_BATCHES = [256, 512, 1024, 2048, 4096, 8192];
const LATENT = 6;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    backend: { type: 'string', default: 'wasm' },
    width: { type: 'string', default: '48' },
    rows: { type: 'string' },
    runs: { type: 'string', default: '5' },
    lr: { type: 'string', default: String(DEFAULT_TRAIN_OPTIONS.learningRate) },
    'max-epochs': { type: 'string', default: String(DEFAULT_TRAIN_OPTIONS.maxEpochs) },
    'batch-size': { type: 'string', default: String(DEFAULT_TRAIN_OPTIONS.batchSize) },
    seed: { type: 'string', default: '1' },
    real: { type: 'string' },
    preset: { type: 'string', default: 'default' },
  },
});

const mode = positionals[0];
if (mode !== 'score' && mode !== 'train') throw new Error(`measure-defaults: the first argument is ${mode ?? 'missing'}; allowed: score, train`);
const backendName = values.backend as BackendName;
if (!BACKEND_NAMES.includes(backendName)) throw new Error(`--backend ${values.backend}: allowed ${BACKEND_NAMES.join(', ')}`);
const { tf, name } = await initBackend({ prefer: backendName, log: (msg) => console.log(msg) });
let width = Number(values.width);
const seed = Number(values.seed);

if (mode === 'score') await measureScoring(Number(values.rows ?? 262_144), Number(values.runs));
else await measureTraining(Number(values.rows ?? 1_000_000));

async function measureScoring(rows: number, runs: number): Promise<void> {
  const model = buildAutoencoder(tf, width, seed);
  const x = unstructuredRows(rows, width, seed);
  scoreAll(tf, model, x.subarray(0, 4096 * width), 4096, width, 512); // warm-up: kernels, wasm memory growth
  const seconds = new Map<number, number[]>(SCORE_BATCHES.map((b) => [b, []]));
  // Interleaved, so a noisy moment on the shared machine falls on every batch size alike.
  for (let run = 0; run < runs; run++) {
    for (const batch of SCORE_BATCHES) {
      const started = performance.now();
      scoreAll(tf, model, x, rows, width, batch);
      seconds.get(batch)!.push((performance.now() - started) / 1000);
      await Promise.resolve();
    }
  }
  console.log(`backend ${name}, width ${width}, ${rows} rows, median of ${runs} runs`);
  console.log('| batch | median s | rows/s |');
  console.log('|---:|---:|---:|');
  for (const [batch, times] of seconds) {
    const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
    console.log(`| ${batch} | ${median.toFixed(3)} | ${Math.round(rows / median).toLocaleString('en-US')} |`);
  }
  model.dispose();
}

async function measureTraining(rows: number): Promise<void> {
  const { train, validation, test, validationRows, trainRows, what } = values.real === undefined ? syntheticSplits(rows) : await realSplits(values.real, rows);
  console.log(what);
  for (const learningRate of values.lr.split(',').map(Number)) {
    const options = {
      ...DEFAULT_TRAIN_OPTIONS,
      learningRate,
      maxEpochs: Number(values['max-epochs']),
      batchSize: Number(values['batch-size']),
      seed,
    };
    console.log(`backend ${name}: ${trainRows} train + ${validationRows} validation rows × ${width}, lr ${learningRate}, max ${options.maxEpochs} epochs, batch ${options.batchSize}`);
    const started = performance.now();
    const result = await trainAutoencoder(tf, train, validation, width, {
      ...options,
      onEpoch: (e) => console.log(`  epoch ${e.epoch}: loss ${e.loss.toFixed(5)} val ${e.valLoss.toFixed(5)} ${e.seconds.toFixed(1)} s`),
    });
    const total = (performance.now() - started) / 1000;
    const testLoss = evaluateLoss(tf, result.model, test, validationRows, width);
    console.log(
      `  → best epoch ${result.bestEpoch} of ${result.epochs.length}${result.stoppedEarly ? ' (stopped early)' : ''}, ` +
        `test loss ${testLoss.toFixed(5)}, ${total.toFixed(0)} s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
    );
    result.model.dispose();
  }
}

function syntheticSplits(rows: number) {
  const validationRows = Math.round(rows / 10);
  const trainRows = rows - validationRows;
  const structure = { width, latent: LATENT, structureSeed: seed };
  return {
    what: `synthetic rows: ${LATENT} hidden factors, width ${width}`,
    trainRows,
    validationRows,
    train: syntheticFeatures({ ...structure, rows: trainRows, rowSeed: seed + 1 }),
    validation: syntheticFeatures({ ...structure, rows: validationRows, rowSeed: seed + 2 }),
    test: syntheticFeatures({ ...structure, rows: validationRows, rowSeed: seed + 3 }),
  };
}

/** 80% train, 10% validation, 10% test of up to `rows` records from the conn logs under `dir`, shuffled. */
async function realSplits(dir: string, rows: number) {
  const records: ConnRecord[] = [];
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.includes('conn')).sort();
  for (const file of files) {
    for await (const batch of readConnLog(join(dir, file))) for (const record of batch) records.push(record);
  }
  const sample = shuffleInPlace(records, seededRandom(seed)).slice(0, rows);
  const validationRows = Math.round(sample.length / 10);
  const trainRows = sample.length - 2 * validationRows;
  const trainRecords = sample.slice(0, trainRows);
  const preprocessor = Preprocessor.fit(trainRecords, presetNamed(values.preset));
  width = preprocessor.width;
  return {
    what: `${sample.length} of ${records.length} records from ${files.length} files in ${dir}, preset ${values.preset}, width ${width}`,
    trainRows,
    validationRows,
    train: preprocessor.transform(trainRecords),
    validation: preprocessor.transform(sample.slice(trainRows, trainRows + validationRows)),
    test: preprocessor.transform(sample.slice(trainRows + validationRows)),
  };
}
