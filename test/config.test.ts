import * as assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_TRAIN_OPTIONS } from '../model/autoencoder.js';
import { DEFAULT_BAD_LINE_POLICY } from '../pipeline/read/bad-line-policy.js';
import { CONFIG_FILE_ENV, ConfigError, DEFAULTS, resolveConfig, retrainSettings, type ConfigInput } from '../pipeline/service/config.js';
import { PRESETS } from '../preprocess/presets.js';
import { tempDir } from './support/paths.js';

let dir = '';
let cleanup = async (): Promise<void> => {};
before(async () => ({ dir, cleanup } = await tempDir('zeek-anomaly-config-')));
after(() => cleanup());

/** Writes `content` as a JSON config file and returns its path. */
async function configFile(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** Asserts that resolving refuses with exactly `message`, from `source`. */
function assertRefused(options: Parameters<typeof resolveConfig>[0], message: string, source: ConfigError['source']): void {
  assert.throws(
    () => resolveConfig({ env: {}, cwd: dir, ...options }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.message, message);
      assert.equal(error.source, source);
      return true;
    },
  );
}

describe('config layering', () => {
  test('with nothing given, the config is the defaults, with paths made absolute and the database in the data folder', () => {
    const config = resolveConfig({ env: {}, cwd: '/srv/anomaly' });
    assert.equal(config.dataDir, '/srv/anomaly/data');
    assert.equal(config.db, '/srv/anomaly/data/zeek-anomaly.sqlite');
    assert.equal(config.logDir, DEFAULTS.logDir);
    assert.deepEqual(config.threshold, DEFAULTS.threshold);
    assert.deepEqual(config.retrain, DEFAULTS.retrain);
  });

  test('the sensor is the host name unless the file, ZEEK_ANOMALY_SENSOR or a flag names it', async () => {
    assert.equal(resolveConfig({ env: {}, cwd: dir }).sensor, hostname());
    const file = await configFile('sensor.json', { sensor: 'edge-1' });
    assert.equal(resolveConfig({ env: {}, cwd: dir, file }).sensor, 'edge-1');
    assert.equal(resolveConfig({ env: { ZEEK_ANOMALY_SENSOR: 'edge-2' }, cwd: dir, file }).sensor, 'edge-2');
    assert.equal(resolveConfig({ env: { ZEEK_ANOMALY_SENSOR: 'edge-2' }, cwd: dir, file, flags: { sensor: 'dmz.example_3' } }).sensor, 'dmz.example_3');
  });

  test('the training and bad-line defaults are the ones the model and the reader state', () => {
    assert.equal(DEFAULTS.retrain.epochs, DEFAULT_TRAIN_OPTIONS.maxEpochs);
    assert.equal(DEFAULTS.retrain.learningRate, DEFAULT_TRAIN_OPTIONS.learningRate);
    assert.equal(DEFAULTS.badLines.maxRatio, DEFAULT_BAD_LINE_POLICY.maxBadLineRatio);
    assert.equal(DEFAULTS.badLines.minCount, DEFAULT_BAD_LINE_POLICY.minBadLinesToReject);
  });

  test('the file overrides the defaults, the environment the file, and flags the environment', async () => {
    const file = await configFile('layers.json', { threshold: { mode: 'baseline', quantile: 0.9 }, retention: { days: 30 }, logDir: '/from/file' });
    const fileOnly = resolveConfig({ file, env: {}, cwd: dir });
    assert.deepEqual(fileOnly.threshold, { mode: 'baseline', quantile: 0.9 });
    assert.equal(fileOnly.retention.days, 30);
    assert.equal(fileOnly.retention.schedule, DEFAULTS.retention.schedule, 'a key the file leaves out keeps its default');

    const env = { ZEEK_ANOMALY_THRESHOLD_QUANTILE: '0.99', ZEEK_ANOMALY_RETENTION_DAYS: '14', ZEEK_ANOMALY_LOG_DIR: '/from/env' };
    const withEnv = resolveConfig({ file, env, cwd: dir });
    assert.deepEqual(withEnv.threshold, { mode: 'baseline', quantile: 0.99 });
    assert.equal(withEnv.retention.days, 14);
    assert.equal(withEnv.logDir, '/from/env');

    const withFlags = resolveConfig({ file, env, cwd: dir, flags: { threshold: { mode: 'per-file' }, logDir: '/from/flags' } });
    assert.deepEqual(withFlags.threshold, { mode: 'per-file', quantile: 0.99 });
    assert.equal(withFlags.logDir, '/from/flags');
  });

  test('ZEEK_ANOMALY_CONFIG names the file when --config does not, and --config wins over it', async () => {
    const fromEnv = await configFile('env.json', { retention: { days: 11 } });
    const fromFlag = await configFile('flag.json', { retention: { days: 22 } });
    assert.equal(resolveConfig({ env: { [CONFIG_FILE_ENV]: fromEnv }, cwd: dir }).retention.days, 11);
    assert.equal(resolveConfig({ file: fromFlag, env: { [CONFIG_FILE_ENV]: fromEnv }, cwd: dir }).retention.days, 22);
  });

  test('the result is frozen all the way down, and so are the defaults', () => {
    const config = resolveConfig({ env: {}, cwd: dir });
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.retrain) && Object.isFrozen(config.threshold));
    assert.throws(() => {
      (config.threshold as { quantile: number }).quantile = 0.5;
    }, TypeError);
    assert.ok(Object.isFrozen(DEFAULTS.retrain));
  });

  test('retrainSettings gives retrain.* as training options, the preset and the bad-line policy', async () => {
    const file = await configFile('retrain.json', { retrain: { maxRows: 5000, sampling: 'uniform', preset: 'seed', epochs: 7, learningRate: 0.003 }, badLines: { maxRatio: 0.2 } });
    const settings = retrainSettings(resolveConfig({ file, env: {}, cwd: dir }));
    assert.equal(settings.maxRows, 5000);
    assert.equal(settings.sampling, 'uniform');
    assert.equal(settings.preset, PRESETS.seed);
    assert.deepEqual(settings.train, { ...DEFAULT_TRAIN_OPTIONS, maxEpochs: 7, learningRate: 0.003 });
    assert.deepEqual(settings.badLines, { maxBadLineRatio: 0.2, minBadLinesToReject: DEFAULT_BAD_LINE_POLICY.minBadLinesToReject });
  });

  test('a schedule of null turns a job off', async () => {
    const file = await configFile('off.json', { retrain: { schedule: null }, retention: { schedule: null } });
    const config = resolveConfig({ file, env: {}, cwd: dir });
    assert.equal(config.retrain.schedule, null);
    assert.equal(config.retention.schedule, null);
  });
});

describe('config errors name the source and key, the value, and what is allowed', () => {
  test('a word in a number-valued environment variable names the variable, its key and the word', () => {
    assertRefused(
      { env: { ZEEK_ANOMALY_THRESHOLD_QUANTILE: 'abc' } },
      'ZEEK_ANOMALY_THRESHOLD_QUANTILE (threshold.quantile): "abc" is not a number; allowed: a number from 0.5 to 0.9999',
      'environment',
    );
  });

  test('a sensor name with a space, a slash or a leading dot is refused, saying what a name may hold', () => {
    for (const bad of ['edge 1', 'site/edge', '.hidden', 'x'.repeat(65)]) {
      assertRefused(
        { env: { ZEEK_ANOMALY_SENSOR: bad } },
        `ZEEK_ANOMALY_SENSOR (sensor): ${JSON.stringify(bad)} is not a sensor name; allowed: 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit; or "" for the host name`,
        'environment',
      );
    }
  });

  test('an environment number out of range, or not whole, says so', () => {
    assertRefused(
      { env: { ZEEK_ANOMALY_THRESHOLD_QUANTILE: '0.3' } },
      'ZEEK_ANOMALY_THRESHOLD_QUANTILE (threshold.quantile): 0.3 is too small; allowed: a number from 0.5 to 0.9999',
      'environment',
    );
    assertRefused(
      { env: { ZEEK_ANOMALY_RETENTION_DAYS: '1.5' } },
      'ZEEK_ANOMALY_RETENTION_DAYS (retention.days): 1.5 is not a whole number; allowed: a whole number from 1 to 36500',
      'environment',
    );
  });

  test('a dashboard token that is too short is refused without repeating it, and the port must be a port', () => {
    assertRefused(
      { env: { ZEEK_ANOMALY_SERVE_TOKEN: 'hunter2' } },
      'ZEEK_ANOMALY_SERVE_TOKEN (serve.token): a value of 7 characters is shorter than 16 characters; allowed: a token of at least 16 characters, or "" for none (allowed only on a loopback address)',
      'environment',
    );
    assertRefused(
      { env: { ZEEK_ANOMALY_SERVE_PORT: '70000' } },
      'ZEEK_ANOMALY_SERVE_PORT (serve.port): 70000 is too large; allowed: a whole number from 0 to 65535',
      'environment',
    );
  });

  test('a sampling method that is not one is refused, listing the methods', async () => {
    const file = await configFile('sampling.json', { retrain: { sampling: 'random' } });
    assertRefused({ file }, `config file ${file}, key 'retrain.sampling': "random" is not one of the allowed values; allowed: "uniform" or "stratified"`, 'file');
  });

  test('a read thread setting that is not one is refused, listing the settings', async () => {
    const file = await configFile('thread.json', { read: { thread: 'maybe' } });
    assertRefused({ file }, `config file ${file}, key 'read.thread': "maybe" is not one of the allowed values; allowed: "auto", "on" or "off"`, 'file');
  });

  test('the context thread setting of the version before is pointed to the read thread setting that replaced it', async () => {
    const file = await configFile('old-thread.json', { context: { thread: 'off' } });
    assertRefused({ file }, `config file ${file}, key 'context.thread': unknown key; did you mean 'read.thread'? allowed: maxKeys`, 'file');
  });

  test('an unknown threshold mode in the environment lists the modes', () => {
    assertRefused(
      { env: { ZEEK_ANOMALY_THRESHOLD_MODE: 'top' } },
      'ZEEK_ANOMALY_THRESHOLD_MODE (threshold.mode): "top" is not one of the allowed values; allowed: "per-file" or "baseline"',
      'environment',
    );
  });

  test('an unknown key in the file is refused by name, with the closest known key suggested', async () => {
    const file = await configFile('typo.json', { threshold: { quantil: 0.9 } });
    assertRefused({ file }, `config file ${file}, key 'threshold.quantil': unknown key; did you mean 'threshold.quantile'? allowed: mode, quantile`, 'file');
  });

  test('a key put in the wrong section is pointed to its section', async () => {
    const file = await configFile('misplaced.json', { quantile: 0.9 });
    assertRefused(
      { file },
      `config file ${file}, key 'quantile': unknown key; did you mean 'threshold.quantile'? allowed: sensor, dataDir, db, logDir, threshold, badLines, bootstrap, retrain, retention, watch, lease, context, read, findings, serve`,
      'file',
    );
  });

  test('a network that is not one is refused naming its place in the list and the value', async () => {
    const file = await configFile('networks.json', { findings: { internalNetworks: ['10.0.0.0/8', '10.1.2.3/40'] } });
    assertRefused(
      { file },
      `config file ${file}, key 'findings.internalNetworks.1': "10.1.2.3/40" is not a network; allowed: a network as an address and a prefix length, such as "10.0.0.0/8" or "fd00::/8"`,
      'file',
    );
  });

  test('thresholds that do not rise are refused, naming the detector', async () => {
    const file = await configFile('thresholds.json', { findings: { flood: { thresholds: { min: 100, low: 50, medium: 1000, high: 3000, critical: 10000 } } } });
    assertRefused(
      { file },
      `config file ${file}, key 'findings.flood.thresholds': {"min":100,"low":50,"medium":1000,"high":3000,"critical":10000} must rise: min ≤ low ≤ medium ≤ high < critical; allowed: { min, low, medium, high, critical }, rising`,
      'file',
    );
  });

  test('a findings setting given alone keeps the other defaults beside it', async () => {
    const file = await configFile('findings-partial.json', { findings: { internalNetworks: ['64.225.56.0/24'], exfiltration: { minRatio: 10 } } });
    const config = resolveConfig({ file, env: {}, cwd: dir });
    assert.deepEqual(config.findings.internalNetworks, ['64.225.56.0/24'], 'a list replaces the default list');
    assert.equal(config.findings.exfiltration.minRatio, 10);
    assert.deepEqual(config.findings.exfiltration.thresholds, DEFAULTS.findings.exfiltration.thresholds);
    assert.deepEqual(config.findings.beacon, DEFAULTS.findings.beacon);
  });

  test('an unknown key with nothing close is refused without a guess', async () => {
    const file = await configFile('unknown.json', { retrain: { gpu: true } });
    assertRefused({ file }, `config file ${file}, key 'retrain.gpu': unknown key; allowed: schedule, days, maxRows, sampling, preset, epochs, learningRate`, 'file');
  });

  test('every bad value in the file is reported, each with its key', async () => {
    const file = await configFile('bad.json', { retrain: { schedule: 'every sunday', epochs: 'many' }, retention: 5 });
    assertRefused(
      { file },
      [
        `config file ${file}, key 'retrain.schedule': "every sunday" is not a cron expression; allowed: a cron expression such as "0 3 * * 0", or null to turn the job off`,
        `config file ${file}, key 'retrain.epochs': "many" is not a number; allowed: a whole number from 1 to 10000`,
        `config file ${file}, key 'retention': 5 is not an object; allowed: an object with the keys schedule, days, auditDays`,
      ].join('\n'),
      'file',
    );
  });

  test('a bad value in the file is refused even when a later source sets the same key', async () => {
    const file = await configFile('overridden.json', { threshold: { quantile: 2 } });
    assertRefused(
      { file, env: { ZEEK_ANOMALY_THRESHOLD_QUANTILE: '0.9' } },
      `config file ${file}, key 'threshold.quantile': 2 is too large; allowed: a number from 0.5 to 0.9999`,
      'file',
    );
  });

  test('a file named by ZEEK_ANOMALY_CONFIG says so in its errors', async () => {
    const file = await configFile('named-by-env.json', { watch: { stableMs: -1 } });
    assertRefused(
      { env: { [CONFIG_FILE_ENV]: file } },
      `config file ${file} (ZEEK_ANOMALY_CONFIG), key 'watch.stableMs': -1 is too small; allowed: a whole number from 0 to 3600000`,
      'file',
    );
  });

  test('a missing file, a file that is not JSON, and JSON that is not an object are refused naming the file', async () => {
    const missing = join(dir, 'missing.json');
    assert.throws(() => resolveConfig({ file: missing, env: {}, cwd: dir }), { name: 'ConfigError', message: new RegExp(`^cannot read the config file ${missing}: ENOENT`) });
    const broken = await configFile('broken.json', '{ "threshold": ');
    assert.throws(() => resolveConfig({ file: broken, env: {}, cwd: dir }), { name: 'ConfigError', message: new RegExp(`^the config file ${broken} is not valid JSON`) });
    const list = await configFile('list.json', '[1, 2]');
    assertRefused({ file: list }, `the config file ${list} must hold one JSON object, not [1,2]`, 'file');
  });

  test('a bad flag names the flag when the caller says which flag set the key', () => {
    const flags: ConfigInput = { threshold: { quantile: 1 }, retrain: { maxRows: 50 } };
    assertRefused(
      { flags, flagNames: { 'threshold.quantile': '--quantile', 'retrain.maxRows': '--max-rows' } },
      [
        '--quantile (threshold.quantile): 1 is too large; allowed: a number from 0.5 to 0.9999',
        '--max-rows (retrain.maxRows): 50 is too small; allowed: a whole number of 100 or more',
      ].join('\n'),
      'flags',
    );
  });
});
