// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DEFAULT_TRAIN_OPTIONS } from '../model/autoencoder.js';
import { CONTEXT_FEATURE_NAMES } from '../pipeline/context/context-features.js';
import { readConnLog } from '../pipeline/read/read-conn-log.js';
import { jsonLines, zeekAnomaly, type CliResult } from './support/cli.js';
import { shared, tempDir } from './support/paths.js';
import { dataLinesOf, zeekHeader, ZEEK_CLOSE } from './support/read.js';

// Archive names are in the sensor's local time; the rita sensor ran in UTC. The backend is pinned
// so metrics.json's `backend` is known.
const ENV = { TZ: 'UTC', ZEEK_ANOMALY_BACKEND: 'wasm' };
const RITA = shared('rotated', 'rita-missing-host');
const DAY = join(RITA, '2024-04-19');
const LABELED = (name: string): string => shared('labeled', name);

function dataLineCount(file: string): number {
  const raw = readFileSync(file);
  return dataLinesOf((file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')).length;
}

const archivesOf = (day: string): string[] =>
  readdirSync(day)
    .filter((name) => name.endsWith('.log.gz'))
    .sort()
    .map((name) => join(day, name));

const DAY_FILES = archivesOf(DAY);
const DAY_ROWS = DAY_FILES.reduce((sum, file) => sum + dataLineCount(file), 0);

// Every command runs in a scratch folder, so a command that ignores --data-dir and falls back to
// ./data writes there rather than into the repository.
let scratch: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  scratch = await tempDir('zeek-anomaly-cwd-');
});
after(() => scratch.cleanup());

async function cliRun(...args: string[]): Promise<CliResult> {
  return zeekAnomaly(args, { env: ENV, cwd: scratch.dir });
}

async function cliRunWithEnv(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  return zeekAnomaly(args, { env: { ...ENV, ...env }, cwd: scratch.dir });
}

async function cliJsonWithEnv(env: Record<string, string>, ...args: string[]): Promise<Record<string, unknown>> {
  const result = await cliRunWithEnv(env, ...args);
  assert.equal(result.code, 0, `exit code of ${args.join(' ')}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  const lines = jsonLines(result.stdout);
  assert.equal(lines.length, 1, `one JSON object: ${result.stdout}`);
  return lines[0]!;
}

/** What a test reads from a version's metrics.json. */
interface TrainingMetrics {
  preset: string;
  sampling: string;
  rows: { seen: number; used: number };
  epochs: unknown[];
  train: { maxEpochs: number; learningRate: number };
}

/** Runs a command that must print one JSON object, and returns it. */
async function cliJson(expectedCode: number, ...args: string[]): Promise<Record<string, unknown>> {
  const result = await cliRun(...args);
  assert.equal(result.code, expectedCode, `exit code of ${args.join(' ')}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  const lines = jsonLines(result.stdout);
  assert.equal(lines.length, 1, `one JSON object: ${result.stdout}`);
  return lines[0]!;
}

interface Listed {
  version: string;
  active: boolean;
  problem: string | null;
  metrics: unknown;
}

async function listModels(dataDir: string): Promise<Listed[]> {
  const result = await cliRun('models', '--json', '--data-dir', dataDir);
  assert.equal(result.code, 0, result.stderr);
  return jsonLines(result.stdout) as unknown as Listed[];
}

const activeOf = (listed: Listed[]): string[] => listed.filter((v) => v.active).map((v) => v.version);

describe('retrain, models and models activate share one store', () => {
  let dataDir: string;
  let cleanup: () => Promise<void>;
  const versions: string[] = [];
  before(async () => {
    ({ dir: dataDir, cleanup } = await tempDir());
    assert.equal(DAY_FILES.length, 24);
  });
  after(() => cleanup());

  test('retrain over one day trains v0001 on every row of it and activates it', async () => {
    const outcome = await cliJson(0, 'retrain', '--logs', DAY, '--epochs', '3', '--json', '--data-dir', dataDir);
    assert.equal(outcome.status, 'trained');
    assert.match(String(outcome.version), /^v0001-\d{8}T\d{6}Z$/);
    assert.equal(outcome.activated, true);
    assert.equal(outcome.rowsUsed, DAY_ROWS);
    assert.equal(outcome.rowsSeen, DAY_ROWS);
    assert.equal(outcome.files, 24);
    assert.deepEqual(outcome.failedFiles, []);
    assert.ok(typeof outcome.epochs === 'number' && outcome.epochs >= 1 && outcome.epochs <= 3, `epochs ${String(outcome.epochs)}`);
    assert.ok(Number.isFinite(outcome.testLoss) && Number.isFinite(outcome.threshold));
    versions.push(String(outcome.version));

    const listed = await listModels(dataDir);
    assert.deepEqual(listed.map((v) => v.version), versions);
    assert.deepEqual(activeOf(listed), [versions[0]]);
  });

  test('the version folder holds both models, their weights, the preprocessing, the context scaler and the metrics', async () => {
    const dir = join(dataDir, 'models', versions[0]!);
    assert.deepEqual((await readdir(dir)).sort(), [
      'context-model.json',
      'context-scaler.json',
      'context-weights.bin',
      'metrics.json',
      'model.json',
      'preprocess.json',
      'weights.bin',
    ]);
    const metrics = JSON.parse(await readFile(join(dir, 'metrics.json'), 'utf8')) as {
      context: { testLoss: number; threshold: { value: number }; scales: { conn: number; context: number }; combinedThreshold: { value: number } };
      epochs: { loss: number; valLoss: number }[];
      testLoss: number;
      threshold: { value: number; quantile: number };
      rows: { seen: number; used: number; train: number; validation: number; test: number };
      sourceFiles: string[];
      backend: string;
      preset: string;
      version: string;
    };
    assert.ok(Array.isArray(metrics.epochs) && metrics.epochs.length >= 1 && metrics.epochs.length <= 3);
    for (const epoch of metrics.epochs) {
      assert.ok(Number.isFinite(epoch.loss) && epoch.loss > 0, `loss ${epoch.loss}`);
      assert.ok(Number.isFinite(epoch.valLoss) && epoch.valLoss > 0, `valLoss ${epoch.valLoss}`);
    }
    assert.ok(Number.isFinite(metrics.testLoss) && metrics.testLoss > 0);
    assert.ok(Number.isFinite(metrics.threshold.value) && metrics.threshold.value > 0);
    assert.ok(metrics.context.testLoss > 0 && metrics.context.threshold.value > 0, JSON.stringify(metrics.context));
    assert.equal(metrics.context.scales.conn, metrics.threshold.value, 'the per-connection error is scaled by its own baseline');
    assert.equal(metrics.context.scales.context, metrics.context.threshold.value, 'the context error by its own');
    assert.ok(metrics.context.combinedThreshold.value > 0, JSON.stringify(metrics.context));
    const scaler = JSON.parse(await readFile(join(dir, 'context-scaler.json'), 'utf8')) as { columns: { name: string }[]; trainingRows: number };
    assert.deepEqual(scaler.columns.map((c) => c.name), CONTEXT_FEATURE_NAMES);
    assert.equal(scaler.trainingRows, metrics.rows.train, 'the context scaler was fitted on the training rows only');
    assert.equal(metrics.rows.used, DAY_ROWS);
    assert.equal(metrics.rows.train + metrics.rows.validation + metrics.rows.test, DAY_ROWS);
    assert.ok(metrics.rows.train > metrics.rows.test && metrics.rows.test > metrics.rows.validation, JSON.stringify(metrics.rows));
    assert.equal(metrics.sourceFiles.length, 24);
    assert.deepEqual([...metrics.sourceFiles].sort(), DAY_FILES);
    assert.equal(metrics.backend, 'wasm');
    assert.equal(metrics.preset, 'default');
    assert.equal(metrics.version, versions[0]);

    const preprocess = JSON.parse(await readFile(join(dir, 'preprocess.json'), 'utf8')) as { kind: string; width: number; trainingRows: number };
    assert.equal(preprocess.kind, 'zeek-anomaly-preprocess');
    assert.equal(preprocess.trainingRows, metrics.rows.train, 'preprocessing was fitted on the training rows only');
    const model = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { weightsManifest?: { paths: string[] }[] };
    assert.deepEqual(model.weightsManifest?.flatMap((g) => g.paths), ['weights.bin']);
    assert.ok((await stat(join(dir, 'weights.bin'))).size > 0);
  });

  test('a second retrain makes v0002 and activates it; models lists both', async () => {
    const outcome = await cliJson(0, 'retrain', '--logs', DAY, '--epochs', '2', '--json', '--data-dir', dataDir);
    assert.match(String(outcome.version), /^v0002-/);
    assert.equal(outcome.activated, true);
    versions.push(String(outcome.version));
    const listed = await listModels(dataDir);
    assert.deepEqual(listed.map((v) => v.version), versions);
    assert.deepEqual(activeOf(listed), [versions[1]]);
  });

  test('models activate VERSION --data-dir DIR rolls back to v0001 in DIR', async () => {
    const result = await cliRun('models', 'activate', versions[0]!, '--data-dir', dataDir);
    assert.equal(result.code, 0, `${result.stderr}(the store used should be ${dataDir}/models)`);
    assert.match(result.stdout, new RegExp(`active model: ${versions[0]}`));
    assert.deepEqual(activeOf(await listModels(dataDir)), [versions[0]]);
  });

  test('models activate with the store named by ZEEK_ANOMALY_DATA_DIR rolls back to v0001', async () => {
    const result = await cliRunWithEnv({ ZEEK_ANOMALY_DATA_DIR: dataDir }, 'models', 'activate', versions[0]!);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`active model: ${versions[0]}`));
    assert.deepEqual(activeOf(await listModels(dataDir)), [versions[0]]);
  });

  test('models activate refuses a version that does not exist, and changes nothing', async () => {
    const activeBefore = activeOf(await listModels(dataDir));
    const result = await cliRunWithEnv({ ZEEK_ANOMALY_DATA_DIR: dataDir }, 'models', 'activate', 'v0099-20240101T000000Z');
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /v0099-20240101T000000Z/);
    assert.deepEqual(activeOf(await listModels(dataDir)), activeBefore);
  });

  test('retrain --no-activate saves v0003 and leaves the active version as it was', async () => {
    const activeBefore = activeOf(await listModels(dataDir));
    assert.equal(activeBefore.length, 1);
    const outcome = await cliJson(0, 'retrain', '--logs', DAY, '--epochs', '2', '--no-activate', '--json', '--data-dir', dataDir);
    assert.match(String(outcome.version), /^v0003-/);
    assert.equal(outcome.activated, false);
    versions.push(String(outcome.version));
    const listed = await listModels(dataDir);
    assert.deepEqual(listed.map((v) => v.version), versions);
    assert.deepEqual(activeOf(listed), activeBefore);
  });

  test('a truncated weights.bin in the active version does not stop models from listing every version', async () => {
    const [active] = activeOf(await listModels(dataDir));
    assert.ok(active !== undefined);
    const weights = join(dataDir, 'models', active, 'weights.bin');
    await truncate(weights, Math.floor((await stat(weights)).size / 2));
    const listed = await listModels(dataDir);
    assert.deepEqual(listed.map((v) => v.version), versions);
    assert.deepEqual(activeOf(listed), [active]);
    const text = await cliRun('models', '--data-dir', dataDir);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout.trim().split('\n').length, 3);
    assert.match(text.stdout, new RegExp(`^\\* ${active}`, 'm'));
  });
});

describe('retrain input', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  test('a truncated archive and a dns.log named as a conn archive are skipped, named, and training goes on', async () => {
    const logs = join(dir, 'mixed');
    const day = join(logs, '2024-04-19');
    await mkdir(day, { recursive: true });
    const good = join(day, 'conn.12:00:00-13:00:00.log.gz');
    await copyFile(join(DAY, basename(good)), good);
    const truncated = join(day, 'conn.13:00:00-14:00:00.log.gz');
    const whole = await readFile(join(DAY, basename(truncated)));
    await writeFile(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    const dns = join(day, 'conn.14:00:00-15:00:00.log.gz');
    const dnsFields = ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'trans_id', 'query', 'rcode_name', 'answers'];
    const dnsTypes = ['time', 'string', 'addr', 'port', 'addr', 'port', 'enum', 'count', 'string', 'string', 'vector[string]'];
    let dnsText = zeekHeader({ path: 'dns', fields: dnsFields, types: dnsTypes });
    for (let i = 0; i < 200; i++) {
      dnsText += `${1713528000 + i}.000000\tCdns${i}\t10.0.0.5\t${40000 + i}\t10.0.0.1\t53\tudp\t${i}\texample${i}.com\tNOERROR\t192.0.2.${i % 250}\n`;
    }
    await writeFile(dns, gzipSync(dnsText + ZEEK_CLOSE));

    const goodRows = dataLineCount(good);
    const outcome = await cliJson(0, 'retrain', '--logs', logs, '--epochs', '2', '--json', '--data-dir', join(dir, 'data-mixed'));
    assert.equal(outcome.status, 'trained');
    assert.equal(outcome.files, 1);
    const failed = outcome.failedFiles as { file: string; error: string }[];
    assert.deepEqual(failed.map((f) => f.file).sort(), [truncated, dns]);
    for (const f of failed) assert.ok(f.error.includes(f.file), `the message names the file: ${f.error}`);
    assert.match(failed.find((f) => f.file === truncated)!.error, /truncated|gzip/i);
    assert.match(failed.find((f) => f.file === dns)!.error, /dns/);
    // A skipped file's rows are not trained on: only the good archive's rows count. (The rows the
    // truncated archive yielded before its gzip error must not slip into the sample: metrics.json
    // leaves that file out of sourceFiles.)
    assert.equal(outcome.rowsSeen, goodRows, `rowsSeen: only the ${goodRows} rows of the good archive (the skipped files add none)`);
    assert.equal(outcome.rowsUsed, goodRows);
  });

  test('an empty folder: exit 1, saying no conn logs were found', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const result = await cliRun('retrain', '--logs', empty, '--epochs', '2', '--data-dir', join(dir, 'data-empty'));
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /no conn logs (were )?found/);
    assert.ok(result.stderr.includes(empty), result.stderr);
    const json = await cliJson(1, 'retrain', '--logs', empty, '--epochs', '2', '--json', '--data-dir', join(dir, 'data-empty'));
    assert.equal(json.status, 'failed');
    assert.match(String(json.reason), /no conn logs (were )?found/);
  });

  test('a path that does not exist: a non-zero exit naming it', async () => {
    const missing = join(dir, 'no-such-folder');
    const result = await cliRun('retrain', '--logs', missing, '--epochs', '2', '--data-dir', join(dir, 'data-missing'));
    assert.notEqual(result.code, 0);
    assert.ok(result.stderr.includes(missing), result.stderr);
    assert.match(result.stderr, /does not exist/);
  });

  test('--max-rows 500 trains on a 500-row sample of every row read', async () => {
    const outcome = await cliJson(0, 'retrain', '--logs', DAY, '--max-rows', '500', '--epochs', '2', '--json', '--data-dir', join(dir, 'data-sample'));
    assert.equal(outcome.rowsUsed, 500);
    assert.equal(outcome.rowsSeen, DAY_ROWS);
    assert.equal(outcome.files, 24);
  });

  test('--since and --until keep only the rows of that day', async () => {
    const since = Date.UTC(2024, 3, 20) / 1000;
    const until = Date.UTC(2024, 3, 21) / 1000;
    const dayFiles = archivesOf(join(RITA, '2024-04-20'));
    let expected = 0;
    for (const file of dayFiles) {
      for await (const batch of readConnLog(file)) for (const r of batch) if (r.ts >= since && r.ts < until) expected++;
    }
    assert.ok(expected > 30_000, `${expected} rows`);

    const dataDir = join(dir, 'data-range');
    const outcome = await cliJson(0, 'retrain', '--logs', RITA, '--since', '2024-04-20', '--until', '2024-04-21', '--epochs', '2', '--json', '--data-dir', dataDir);
    assert.equal(outcome.status, 'trained');
    assert.equal(outcome.files, 24);
    assert.equal(outcome.rowsSeen, expected);
    assert.equal(outcome.rowsUsed, expected);
    const metrics = JSON.parse(await readFile(join(dataDir, 'models', String(outcome.version), 'metrics.json'), 'utf8')) as {
      sourceFiles: string[];
      since: string;
      until: string;
    };
    assert.deepEqual([...metrics.sourceFiles].sort(), dayFiles);
    assert.equal(metrics.since, '2024-04-20T00:00:00.000Z');
    assert.equal(metrics.until, '2024-04-21T00:00:00.000Z');
  });
});

describe('retrain takes its settings from the config, and flags over it', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let config: string;
  // One hour of the rita day: enough rows for any sample below, and quick to read.
  const HOUR = DAY_FILES[12]!;
  before(async () => {
    ({ dir, cleanup } = await tempDir());
    config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ retrain: { maxRows: 500, preset: 'seed', epochs: 2, learningRate: 0.002 } }));
    assert.ok(dataLineCount(HOUR) > 1000, `${HOUR} holds more rows than any sample here`);
  });
  after(() => cleanup());

  async function trainedWith(dataDir: string, ...args: string[]): Promise<{ outcome: Record<string, unknown>; metrics: TrainingMetrics }> {
    const outcome = await cliJson(0, 'retrain', '--logs', HOUR, '--json', '--data-dir', dataDir, ...args);
    assert.equal(outcome.status, 'trained');
    const metrics = JSON.parse(await readFile(join(dataDir, 'models', String(outcome.version), 'metrics.json'), 'utf8')) as TrainingMetrics;
    return { outcome, metrics };
  }

  test('retrain --config FILE trains with the file’s retrain.maxRows, .preset, .epochs and .learningRate', async () => {
    const { outcome, metrics } = await trainedWith(join(dir, 'data-config'), '--config', config);
    assert.equal(outcome.rowsUsed, 500);
    assert.equal(metrics.preset, 'seed');
    assert.equal(metrics.train.maxEpochs, 2);
    assert.equal(metrics.train.learningRate, 0.002);
    assert.ok(metrics.epochs.length <= 2, `${metrics.epochs.length} epochs`);
  });

  test('the config file named by ZEEK_ANOMALY_CONFIG counts for retrain too', async () => {
    const outcome = await cliJsonWithEnv({ ZEEK_ANOMALY_CONFIG: config }, 'retrain', '--logs', HOUR, '--json', '--data-dir', join(dir, 'data-env'));
    assert.equal(outcome.rowsUsed, 500);
  });

  test('--max-rows, --preset, --epochs and --learning-rate override the config file', async () => {
    const { outcome, metrics } = await trainedWith(
      join(dir, 'data-flags'),
      '--config', config, '--max-rows', '300', '--preset', 'default', '--epochs', '1', '--learning-rate', '0.005',
    );
    assert.equal(outcome.rowsUsed, 300);
    assert.equal(metrics.preset, 'default');
    assert.equal(metrics.train.maxEpochs, 1);
    assert.equal(metrics.train.learningRate, 0.005);
    assert.equal(metrics.epochs.length, 1);
  });

  test('--sampling stratified trains on a sample of at most --max-rows rows, and metrics.json says how it was drawn', async () => {
    const { outcome, metrics } = await trainedWith(join(dir, 'data-stratified'), '--max-rows', '300', '--sampling', 'stratified', '--epochs', '1');
    const used = outcome.rowsUsed as number;
    // A cut leaves the sample a little under its budget, never over it.
    assert.ok(used <= 300 && used > 250, `${used} rows used`);
    assert.equal(outcome.rowsSeen, dataLineCount(HOUR));
    assert.equal(metrics.sampling, 'stratified');
    assert.deepEqual([metrics.rows.seen, metrics.rows.used], [outcome.rowsSeen, used]);
  });

  test('with neither, retrain trains with the defaults the model states', async () => {
    const { metrics } = await trainedWith(join(dir, 'data-defaults'), '--max-rows', '300');
    assert.equal(metrics.preset, 'default');
    assert.equal(metrics.train.maxEpochs, DEFAULT_TRAIN_OPTIONS.maxEpochs);
    assert.equal(metrics.train.learningRate, DEFAULT_TRAIN_OPTIONS.learningRate);
  });

  test('a flag out of the config’s range is a usage error (exit 2) naming the flag, its key, the value and what is allowed', async () => {
    const result = await cliRun('retrain', '--logs', HOUR, '--max-rows', '50', '--data-dir', join(dir, 'data-bad-flag'));
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr, 'zeek-anomaly: --max-rows (retrain.maxRows): 50 is too small; allowed: a whole number of 100 or more\n');
  });

  test('a bad retrain value in the config file stops retrain (exit 1) naming the file, the key and the value', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ retrain: { preset: 'fast' } }));
    const result = await cliRun('retrain', '--logs', HOUR, '--config', bad, '--data-dir', join(dir, 'data-bad-file'));
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, `zeek-anomaly: config file ${bad}, key 'retrain.preset': "fast" is not one of the allowed values; allowed: "seed" or "default"\n`);
  });
});

describe('evaluate', () => {
  test('its defaults are the model’s training defaults, stated once', async () => {
    const result = await cliRun('evaluate', '--help');
    assert.equal(result.code, 0, result.stderr);
    const help = result.stdout.replace(/\s+/g, ' ');
    assert.match(help, new RegExp(`--epochs <n> the most epochs to train \\(early stopping usually ends sooner\\) \\(default: ${DEFAULT_TRAIN_OPTIONS.maxEpochs}\\)`));
    assert.match(help, new RegExp(`--learning-rate <rate> Adam learning rate \\(default: ${DEFAULT_TRAIN_OPTIONS.learningRate}\\)`));
  });

  test('one labeled file: one JSON object with the detection figures', async () => {
    const file = LABELED('ctu50-feel-010.conn.log.labeled');
    const outcome = await cliJson(0, 'evaluate', file, '--json', '--epochs', '5');
    for (const key of ['file', 'preset', 'train', 'test', 'malicious', 'rocAuc', 'prAuc', 'precision', 'recall', 'flagRate']) {
      assert.ok(key in outcome, `no '${key}' in ${JSON.stringify(outcome)}`);
    }
    assert.equal(outcome.status, 'evaluated');
    assert.equal(outcome.file, file);
    assert.equal(outcome.preset, 'default');
    const rocAuc = outcome.rocAuc as number;
    assert.ok(rocAuc >= 0 && rocAuc <= 1, `rocAuc ${rocAuc}`);
    assert.ok(rocAuc > 0.9, `rocAuc ${rocAuc}`);
    for (const key of ['prAuc', 'precision', 'recall', 'flagRate'] as const) {
      const v = outcome[key] as number;
      assert.ok(v >= 0 && v <= 1, `${key} ${v}`);
    }
    const train = outcome.train as number;
    const test = outcome.test as number;
    const malicious = outcome.malicious as number;
    assert.ok(train > 0 && test > 0 && malicious > 0 && malicious < test, JSON.stringify(outcome));
    // 5,347 rows, 37 Background: the labeled rows are split in two halves.
    assert.ok(train + test <= 5_347 - 37, JSON.stringify(outcome));
  });

  test('a file with benign rows only is skipped with a reason, and exit 1 when it is the only file', async () => {
    const file = LABELED('iot23-honeypot-4-1-crlf.conn.log.labeled');
    const outcome = await cliJson(1, 'evaluate', file, '--json', '--epochs', '2');
    assert.equal(outcome.status, 'skipped');
    assert.equal(outcome.file, file);
    assert.ok(typeof outcome.reason === 'string' && outcome.reason.length > 0);
    assert.match(String(outcome.reason), /one class|Malicious/);
  });

  test('--train A --test B trains on the Benign rows of A and tests on the labeled rows of B', async () => {
    const a = LABELED('ctu50-feel-010.conn.log.labeled');
    const b = LABELED('ctu50-feel-008.conn.log.labeled');
    const outcome = await cliJson(0, 'evaluate', '--train', a, '--test', b, '--json', '--epochs', '2');
    assert.equal(outcome.status, 'evaluated');
    assert.ok(String(outcome.file).includes(a) && String(outcome.file).includes(b), String(outcome.file));
    assert.equal(outcome.train, 1_937, 'the Benign rows of A');
    assert.equal(outcome.test, 1_402 + 4_201, 'the Benign and Malicious rows of B');
    assert.equal(outcome.malicious, 4_201);
    const rocAuc = outcome.rocAuc as number;
    assert.ok(rocAuc >= 0 && rocAuc <= 1, `rocAuc ${rocAuc}`);
  });

  test('--train without --test is a usage error', async () => {
    const result = await cliRun('evaluate', '--train', LABELED('ctu50-feel-010.conn.log.labeled'), '--json');
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--train and --test go together/);
  });
});
