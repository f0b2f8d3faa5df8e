import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import cron from 'node-cron';
import type { ThresholdMode } from '../../db/files.js';
import { DEFAULT_TRAIN_OPTIONS, type TrainOptions } from '../../model/autoencoder.js';
import type { Preset } from '../../preprocess/feature-spec.js';
import { presetNamed } from '../../preprocess/presets.js';
import type { BadLinePolicy } from '../read/read-conn-log.js';

/** Everything the service and the commands can be told, resolved once at start and passed down read-only. */
export interface Config {
  /** Models live in `<dataDir>/models`; the database defaults to `<dataDir>/zeek-anomaly.sqlite`. */
  dataDir: string;
  db: string;
  /** The Zeek log directory the service watches (zeekctl's `logdir`). */
  logDir: string;
  threshold: { mode: ThresholdMode; quantile: number };
  badLines: { maxRatio: number; minCount: number };
  /** With no active model, the service first trains one from the archives already present. */
  bootstrap: { minRows: number; maxRows: number };
  retrain: { schedule: string | null; days: number; maxRows: number; preset: 'default' | 'seed'; epochs: number; learningRate: number };
  retention: { schedule: string | null; days: number };
  /** A file is taken once its size has not changed for this long (Zeek may still be writing it). */
  watch: { stableMs: number };
}

export type ConfigInput = DeepPartial<Config>;
type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export const DEFAULTS: Config = {
  dataDir: './data',
  db: '',
  logDir: '/opt/zeek/logs',
  threshold: { mode: 'per-file', quantile: 0.95 },
  badLines: { maxRatio: 0.01, minCount: 100 },
  bootstrap: { minRows: 10_000, maxRows: 1_000_000 },
  retrain: { schedule: '0 3 * * 0', days: 7, maxRows: 1_000_000, preset: 'default', epochs: DEFAULT_TRAIN_OPTIONS.maxEpochs, learningRate: DEFAULT_TRAIN_OPTIONS.learningRate },
  retention: { schedule: '30 4 * * *', days: 90 },
  watch: { stableMs: 5000 },
};

/** Environment variables and the keys they set. */
export const ENVIRONMENT: Readonly<Record<string, string>> = {
  ZEEK_ANOMALY_DATA_DIR: 'dataDir',
  ZEEK_ANOMALY_DB: 'db',
  ZEEK_ANOMALY_LOG_DIR: 'logDir',
  ZEEK_ANOMALY_THRESHOLD_MODE: 'threshold.mode',
  ZEEK_ANOMALY_THRESHOLD_QUANTILE: 'threshold.quantile',
  ZEEK_ANOMALY_RETENTION_DAYS: 'retention.days',
};
export const CONFIG_FILE_ENV = 'ZEEK_ANOMALY_CONFIG';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Defaults, then the JSON config file (`--config` or ZEEK_ANOMALY_CONFIG), then environment
 * variables, then flags: later sources win. The result is validated once and frozen.
 */
export function resolveConfig(options: { file?: string; env?: NodeJS.ProcessEnv; flags?: ConfigInput; cwd?: string } = {}): Readonly<Config> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = options.file ?? env[CONFIG_FILE_ENV];
  const fromFile = file === undefined || file === '' ? {} : readConfigFile(resolve(cwd, file));
  const merged = merge(merge(merge(structuredClone(DEFAULTS), fromFile, file ?? ''), fromEnvironment(env), 'environment'), options.flags ?? {}, 'flags');
  const config = validate(merged);
  config.dataDir = resolve(cwd, config.dataDir);
  config.db = config.db === '' ? join(config.dataDir, 'zeek-anomaly.sqlite') : isAbsolute(config.db) ? config.db : resolve(cwd, config.db);
  config.logDir = resolve(cwd, config.logDir);
  return deepFreeze(config);
}

/** The reader's bad-line policy, from `badLines.*`. */
export function badLinePolicy(config: Readonly<Config>): BadLinePolicy {
  return { maxBadLineRatio: config.badLines.maxRatio, minBadLinesToReject: config.badLines.minCount };
}

/** How `retrain.*` says to train: the service's schedule, its bootstrap and `retrain` by hand all start from this. */
export function retrainSettings(config: Readonly<Config>): { maxRows: number; preset: Preset; train: TrainOptions; badLines: BadLinePolicy } {
  return {
    maxRows: config.retrain.maxRows,
    preset: presetNamed(config.retrain.preset),
    train: { ...DEFAULT_TRAIN_OPTIONS, maxEpochs: config.retrain.epochs, learningRate: config.retrain.learningRate },
    badLines: badLinePolicy(config),
  };
}

function readConfigFile(path: string): ConfigInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the config file ${path}: ${(error as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('it must hold one JSON object');
    return parsed;
  } catch (error) {
    throw new ConfigError(`the config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function fromEnvironment(env: NodeJS.ProcessEnv): ConfigInput {
  const input: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENVIRONMENT)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const [head, tail] = key.split('.') as [string, string | undefined];
    const parsed = /quantile|days/.test(key) ? Number(value) : value;
    if (tail === undefined) input[head] = parsed;
    else input[head] = { ...(input[head] as object | undefined), [tail]: parsed };
  }
  return input;
}

/** Copies `input` onto `base`, refusing keys the config does not have (a typo must not pass silently). */
function merge(base: Config, input: ConfigInput, source: string): Config {
  const walk = (target: Record<string, unknown>, patch: Record<string, unknown>, defaults: Record<string, unknown>, path: string): void => {
    for (const [key, value] of Object.entries(patch)) {
      const where = path === '' ? key : `${path}.${key}`;
      if (!(key in defaults)) {
        throw new ConfigError(`${source}: unknown key '${where}'; the keys here are ${Object.keys(defaults).join(', ')}`);
      }
      const known = defaults[key];
      if (known !== null && typeof known === 'object' && !Array.isArray(known)) {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          throw new ConfigError(`${source}: '${where}' must be an object with ${Object.keys(known).join(', ')}, not ${JSON.stringify(value)}`);
        }
        walk(target[key] as Record<string, unknown>, value as Record<string, unknown>, known as Record<string, unknown>, where);
      } else if (value !== undefined) {
        target[key] = value;
      }
    }
  };
  walk(base as unknown as Record<string, unknown>, input, DEFAULTS as unknown as Record<string, unknown>, '');
  return base;
}

function validate(config: Config): Config {
  const fail = (key: string, value: unknown, allowed: string): never => {
    throw new ConfigError(`config '${key}' is ${JSON.stringify(value)}; allowed: ${allowed}`);
  };
  const text = (key: string, value: unknown): void => {
    if (typeof value !== 'string') fail(key, value, 'a string');
  };
  const number = (key: string, value: unknown, min: number, max: number, whole = false): void => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (whole && !Number.isInteger(value))) {
      fail(key, value, `${whole ? 'a whole number' : 'a number'} from ${min} to ${max}`);
    }
  };
  const schedule = (key: string, value: unknown): void => {
    if (value !== null && (typeof value !== 'string' || !cron.validate(value))) fail(key, value, 'a cron expression such as "0 3 * * 0", or null to turn the job off');
  };
  text('dataDir', config.dataDir);
  text('db', config.db);
  text('logDir', config.logDir);
  if (config.threshold.mode !== 'per-file' && config.threshold.mode !== 'baseline') fail('threshold.mode', config.threshold.mode, '"per-file" or "baseline"');
  number('threshold.quantile', config.threshold.quantile, 0.5, 0.9999);
  number('badLines.maxRatio', config.badLines.maxRatio, 0, 1);
  number('badLines.minCount', config.badLines.minCount, 0, Number.MAX_SAFE_INTEGER, true);
  number('bootstrap.minRows', config.bootstrap.minRows, 100, Number.MAX_SAFE_INTEGER, true);
  number('bootstrap.maxRows', config.bootstrap.maxRows, 100, Number.MAX_SAFE_INTEGER, true);
  schedule('retrain.schedule', config.retrain.schedule);
  number('retrain.days', config.retrain.days, 1, 3650, true);
  number('retrain.maxRows', config.retrain.maxRows, 100, Number.MAX_SAFE_INTEGER, true);
  if (config.retrain.preset !== 'default' && config.retrain.preset !== 'seed') fail('retrain.preset', config.retrain.preset, '"default" or "seed"');
  number('retrain.epochs', config.retrain.epochs, 1, 10_000, true);
  number('retrain.learningRate', config.retrain.learningRate, 1e-7, 1);
  schedule('retention.schedule', config.retention.schedule);
  number('retention.days', config.retention.days, 1, 36500, true);
  number('watch.stableMs', config.watch.stableMs, 0, 3_600_000, true);
  return config;
}

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) if (inner !== null && typeof inner === 'object') deepFreeze(inner as object);
  return Object.freeze(value);
}
