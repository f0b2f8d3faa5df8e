import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import cron from 'node-cron';
import { z } from 'zod';
import { THRESHOLD_MODES } from '../../db/files.js';
import { DEFAULT_DATABASE_NAME, defaultDatabasePath, isPostgresUrl } from '../../db/open-database.js';
import { SENSOR_NAME, SENSOR_NAME_RULE } from '../../db/sensors.js';
import { DEFAULT_TRAIN_OPTIONS, type TrainOptions } from '../../model/autoencoder.js';
import type { Preset } from '../../preprocess/feature-spec.js';
import { PRESETS, type PresetName } from '../../preprocess/presets.js';
import { DEFAULT_BAD_LINE_POLICY, type BadLinePolicy } from '../read/bad-line-policy.js';
import { DEFAULT_CONTEXT_LIMITS, type ContextLimits } from '../context/context-state.js';
import { READ_THREAD_SETTINGS } from '../score/read-thread.js';
import { DEFAULT_FINDINGS } from '../findings/findings-options.js';
import { parseCidr } from '../findings/surroundings.js';
import { isAddressOrNetwork } from '../findings/allow-list.js';
import { FINDING_TYPES } from '../findings/detector.js';
import { SAMPLING_METHODS, type SamplingMethod } from '../train/training-sample.js';

// The schema says every key once: its type, its bounds, and (in its description) how those bounds
// are put to a user. Each check and the words that state it are made from the same numbers.

const MAX = Number.MAX_SAFE_INTEGER;

/** A dashboard token shorter than this is refused: it guards network data, and guessing must not pay. */
export const MIN_TOKEN_LENGTH = 16;

/** A number from `min` to `max`, both included. */
function numberFrom(min: number, max: number) {
  return z.number().min(min).max(max).describe(`a number from ${min} to ${max}`);
}

/** A whole number from `min` to `max` (or of `min` or more), both included. */
function wholeFrom(min: number, max = MAX) {
  return z.int().min(min).max(max).describe(max === MAX ? `a whole number of ${min} or more` : `a whole number from ${min} to ${max}`);
}

function oneOf<const T extends readonly string[]>(values: T) {
  const quoted = values.map((v) => JSON.stringify(v));
  return z.enum(values).describe(quoted.length === 1 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)!}`);
}

const path = (what: string) => z.string().describe(what);

const sensorName = z
  .string()
  .refine((value) => value === '' || SENSOR_NAME.test(value), { error: 'is not a sensor name' })
  .describe(`${SENSOR_NAME_RULE}; or "" for the host name`);

const schedule = z
  .string()
  .refine((value) => cron.validate(value), { error: 'is not a cron expression' })
  .nullable()
  .describe('a cron expression such as "0 3 * * 0", or null to turn the job off');

const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

const cidr = z
  .string()
  .refine((value) => parseCidr(value) !== null, { error: 'is not a network' })
  .describe('a network as an address and a prefix length, such as "10.0.0.0/8" or "fd00::/8"');

/** A detector's thresholds: the value of its measure at which a finding is raised (`min`) and each severity begins, rising. */
const thresholds = z
  .strictObject({ min: numberFrom(0, MAX), low: numberFrom(0, MAX), medium: numberFrom(0, MAX), high: numberFrom(0, MAX), critical: numberFrom(0, MAX) })
  .refine((t) => t.min <= t.low && t.low <= t.medium && t.medium <= t.high && t.high < t.critical, { error: 'must rise: min ≤ low ≤ medium ≤ high < critical' })
  .describe('{ min, low, medium, high, critical }, rising');

const addressOrNetwork = z
  .string()
  .refine(isAddressOrNetwork, { error: 'is neither an address nor a network' })
  .describe('an address ("10.1.0.10") or a network ("13.107.0.0/16")');

/** An allow-list entry: a comment, and what to match (all of the fields given). */
const allowEntry = z
  .strictObject({
    comment: z.string().min(1).describe('a comment saying why this traffic is harmless'),
    type: oneOf(FINDING_TYPES).optional(),
    host: addressOrNetwork.optional(),
    src: addressOrNetwork.optional(),
    dst: addressOrNetwork.optional(),
    port: wholeFrom(0, 65_535).optional(),
    proto: oneOf(['tcp', 'udp', 'icmp']).optional(),
  })
  .refine((e) => Object.keys(e).some((key) => key !== 'comment'), { error: 'matches everything: give a type, host, src, dst, port or proto' })
  .describe('{ comment, and any of type, host, src, dst, port, proto }');

const FINDINGS_SCHEMA = z.strictObject({
  internalNetworks: z.array(cidr),
  mergeGapHours: numberFrom(0, 24 * 365),
  maxPairs: wholeFrom(1),
  beacon: z.strictObject({ thresholds, minConnections: wholeFrom(4) }),
  portScan: z.strictObject({ thresholds, minFailed: wholeFrom(0), minFailedShare: numberFrom(0, 1) }),
  flood: z.strictObject({ thresholds }),
  refusedRetries: z.strictObject({ thresholds, minFailedShare: numberFrom(0, 1) }),
  exfiltration: z.strictObject({ thresholds, minRatio: numberFrom(0, MAX) }),
  longConnection: z.strictObject({ thresholds }),
  anomalyCluster: z.strictObject({ thresholds, minFlagged: wholeFrom(1) }),
  allow: z.array(allowEntry),
});

const CONFIG_SCHEMA = z.strictObject({
  /** The sensor this instance scores the logs of; '' (the default) is the host name. The ledger, findings and context state are each sensor's own. */
  sensor: sensorName,
  /** Models live in `<dataDir>/models`; the database defaults to `<dataDir>/<DEFAULT_DATABASE_NAME>`. */
  dataDir: path('a folder'),
  /** The store: a SQLite file, or a postgres:// URL; '' (the default) is `<dataDir>/<DEFAULT_DATABASE_NAME>`. */
  db: z
    .string()
    .refine((value) => !isPostgresUrl(value) || URL.canParse(value), { error: 'is not a URL (postgres://user@host:port/database)' })
    .describe(`a SQLite file, a postgres:// URL, or "" for <dataDir>/${DEFAULT_DATABASE_NAME}`),
  /** The Zeek log directory the service watches (zeekctl's `logdir`). */
  logDir: path('a folder'),
  threshold: z.strictObject({ mode: oneOf(THRESHOLD_MODES), quantile: numberFrom(0.5, 0.9999) }),
  badLines: z.strictObject({ maxRatio: numberFrom(0, 1), minCount: wholeFrom(0) }),
  /** With no active model, the service first trains one from the archives already present. */
  bootstrap: z.strictObject({ minRows: wholeFrom(100), maxRows: wholeFrom(100) }),
  retrain: z.strictObject({
    schedule,
    days: wholeFrom(1, 3650),
    maxRows: wholeFrom(100),
    sampling: oneOf(SAMPLING_METHODS),
    preset: oneOf(PRESET_NAMES),
    epochs: wholeFrom(1, 10_000),
    learningRate: numberFrom(1e-7, 1),
  }),
  retention: z.strictObject({ schedule, days: wholeFrom(1, 36_500) }),
  /** A file is taken once its size has not changed for this long (Zeek may still be writing it). */
  watch: z.strictObject({ stableMs: wholeFrom(0, 3_600_000) }),
  /**
   * Several scorers of one sensor take turns: the one scoring holds the sensor's lease, renewed every
   * third of this, and another takes over this long after it dies (docs/scale-out.md).
   */
  lease: z.strictObject({ seconds: wholeFrom(2, 3600) }),
  context: z.strictObject({
    /** The most keys each context table holds before it evicts its idle half. */
    maxKeys: z.strictObject({ hosts: wholeFrom(2), pairs: wholeFrom(2), channels: wholeFrom(2) }),
  }),
  /** Read, count and featurise each file on a thread of its own beside scoring: "auto" does where the process may use two cores or more. */
  read: z.strictObject({ thread: oneOf(READ_THREAD_SETTINGS) }),
  /** What the findings detectors look for: see pipeline/findings/. */
  findings: FINDINGS_SCHEMA,
  /** The dashboard (`serve`, `watch --serve`): where it listens, and the token it asks for. */
  serve: z.strictObject({
    host: z.string().min(1).describe('an address to listen on, such as "127.0.0.1" or "0.0.0.0"'),
    port: wholeFrom(0, 65_535),
    token: z
      .string()
      .refine((value) => value === '' || value.length >= MIN_TOKEN_LENGTH, { error: `is shorter than ${MIN_TOKEN_LENGTH} characters` })
      .describe(`a token of at least ${MIN_TOKEN_LENGTH} characters, or "" for none (allowed only on a loopback address)`),
  }),
});

/** Everything the service and the commands can be told, resolved once at start and passed down read-only. */
export type Config = z.infer<typeof CONFIG_SCHEMA>;

export type ConfigInput = DeepPartial<Config>;
type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export const DEFAULTS: Readonly<Config> = deepFreeze({
  sensor: '',
  dataDir: './data',
  db: '',
  logDir: '/opt/zeek/logs',
  threshold: { mode: 'per-file', quantile: 0.95 },
  badLines: { maxRatio: DEFAULT_BAD_LINE_POLICY.maxBadLineRatio, minCount: DEFAULT_BAD_LINE_POLICY.minBadLinesToReject },
  // 200,000 rows: on 1M rows of three normal days (docs/evaluation.md, cross-day at 1M rows) a
  // uniform sample of 200,000 detects every attack as well as all the rows, in half the time and
  // memory; 100,000 lost 0.018 ROC-AUC on the beacon.
  bootstrap: { minRows: 10_000, maxRows: 200_000 },
  retrain: {
    schedule: '0 3 * * 0',
    days: 7,
    maxRows: 200_000,
    // The stratified sample measured no better than the uniform one (docs/evaluation.md).
    sampling: 'uniform',
    preset: 'default',
    epochs: DEFAULT_TRAIN_OPTIONS.maxEpochs,
    learningRate: DEFAULT_TRAIN_OPTIONS.learningRate,
  },
  retention: { schedule: '30 4 * * *', days: 90 },
  watch: { stableMs: 5000 },
  // Longer than the longest stretch a scorer writes without renewing (a 10M-row file's transaction
  // holds its thread for some seconds); short enough that a dead scorer's files wait half a minute.
  lease: { seconds: 30 },
  context: { maxKeys: { ...DEFAULT_CONTEXT_LIMITS } },
  read: { thread: 'auto' },
  findings: structuredClone(DEFAULT_FINDINGS),
  serve: { host: '127.0.0.1', port: 8080, token: '' },
});

/** Environment variables and the keys they set. */
export const ENVIRONMENT: Readonly<Record<string, string>> = {
  ZEEK_ANOMALY_SENSOR: 'sensor',
  ZEEK_ANOMALY_DATA_DIR: 'dataDir',
  ZEEK_ANOMALY_DB: 'db',
  ZEEK_ANOMALY_LOG_DIR: 'logDir',
  ZEEK_ANOMALY_THRESHOLD_MODE: 'threshold.mode',
  ZEEK_ANOMALY_THRESHOLD_QUANTILE: 'threshold.quantile',
  ZEEK_ANOMALY_RETENTION_DAYS: 'retention.days',
  ZEEK_ANOMALY_LEASE_SECONDS: 'lease.seconds',
  ZEEK_ANOMALY_SERVE_HOST: 'serve.host',
  ZEEK_ANOMALY_SERVE_PORT: 'serve.port',
  // The token belongs in the environment (a systemd EnvironmentFile readable by root alone) rather
  // than in a config file that is often world-readable.
  ZEEK_ANOMALY_SERVE_TOKEN: 'serve.token',
};
export const CONFIG_FILE_ENV = 'ZEEK_ANOMALY_CONFIG';

/** Where a refused setting came from: a command line (exit code 2) or the setup around it. */
export type ConfigSource = 'defaults' | 'file' | 'environment' | 'flags';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly source: ConfigSource,
  ) {
    super(message);
  }
}

export interface ResolveOptions {
  /** The JSON config file; default: the file ZEEK_ANOMALY_CONFIG names, if any. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  flags?: ConfigInput;
  /** The flag that set each key (`'threshold.quantile': '--quantile'`), so an error can name it. */
  flagNames?: Readonly<Record<string, string>>;
  cwd?: string;
}

/**
 * Defaults, then the JSON config file (`--config` or ZEEK_ANOMALY_CONFIG), then environment
 * variables, then flags: later sources win. Each source is checked on its own, so an error names
 * where the bad value came from (the file and key, the variable, the flag); the result is frozen.
 */
export function resolveConfig(options: ResolveOptions = {}): Readonly<Config> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const named = options.file ?? env[CONFIG_FILE_ENV];
  const layers: { layer: ConfigInput; source: Source }[] = [];
  const add = (layer: unknown, source: Source): void => {
    layers.push({ layer: checked(layer, source), source });
  };
  if (named !== undefined && named !== '') {
    const file = resolve(cwd, named);
    const label = `config file ${file}${options.file === undefined ? ` (${CONFIG_FILE_ENV})` : ''}`;
    add(readConfigFile(file, label), { kind: 'file', label });
  }
  add(fromEnvironment(env), { kind: 'environment' });
  add(options.flags ?? {}, { kind: 'flags', names: options.flagNames ?? {} });

  const merged = layers.reduce<Record<string, unknown>>((base, { layer }) => mergeInto(base, layer), structuredClone(DEFAULTS));
  const parsed = CONFIG_SCHEMA.safeParse(merged);
  if (!parsed.success) {
    // A check across keys (thresholds that must rise) fails only once the sources are merged: it is
    // put to the last source that set a value there.
    const sourceOf = (issue: z.core.$ZodIssue): Source =>
      layers.findLast(({ layer }) => valueAt(layer, issue.path.map(String)) !== undefined)?.source ?? { kind: 'defaults' };
    const first = sourceOf(parsed.error.issues[0]!);
    throw new ConfigError(parsed.error.issues.map((issue) => describeIssue(issue, merged, sourceOf(issue))).join('\n'), first.kind);
  }
  const config = parsed.data;
  if (config.sensor === '') {
    const host = hostname();
    if (!SENSOR_NAME.test(host)) {
      throw new ConfigError(`sensor: not set, and the host name ${JSON.stringify(host)} is not a sensor name (${SENSOR_NAME_RULE}); set sensor in the config or ZEEK_ANOMALY_SENSOR`, 'defaults');
    }
    config.sensor = host;
  }
  config.dataDir = resolve(cwd, config.dataDir);
  config.db = config.db === '' ? defaultDatabasePath(config.dataDir) : isPostgresUrl(config.db) || isAbsolute(config.db) ? config.db : resolve(cwd, config.db);
  config.logDir = resolve(cwd, config.logDir);
  return deepFreeze(config);
}

/** The reader's bad-line policy, from `badLines.*`. */
export function badLinePolicy(config: Readonly<Config>): BadLinePolicy {
  return { maxBadLineRatio: config.badLines.maxRatio, minBadLinesToReject: config.badLines.minCount };
}

/** How `retrain.*` says to train: the service's schedule, its bootstrap and `retrain` by hand all start from this. */
export function retrainSettings(config: Readonly<Config>): {
  maxRows: number;
  sampling: SamplingMethod;
  preset: Preset;
  train: TrainOptions;
  badLines: BadLinePolicy;
  context: { limits: Readonly<ContextLimits> };
} {
  return {
    maxRows: config.retrain.maxRows,
    sampling: config.retrain.sampling,
    preset: PRESETS[config.retrain.preset],
    train: { ...DEFAULT_TRAIN_OPTIONS, maxEpochs: config.retrain.epochs, learningRate: config.retrain.learningRate },
    badLines: badLinePolicy(config),
    context: { limits: config.context.maxKeys },
  };
}

// ---------------------------------------------------------------------------------------------

type Source = { kind: 'defaults' } | { kind: 'file'; label: string } | { kind: 'environment' } | { kind: 'flags'; names: Readonly<Record<string, string>> };

/** The same keys as the config, every one optional: what one source may set. */
function partialOf(schema: z.ZodObject): z.ZodObject {
  const shape = Object.entries(schema.shape as Record<string, z.ZodType>).map(([key, value]) => [
    key,
    (value instanceof z.ZodObject ? partialOf(value) : value).optional(),
  ]);
  return z.strictObject(Object.fromEntries(shape) as Record<string, z.ZodType>);
}

const INPUT_SCHEMA = partialOf(CONFIG_SCHEMA);

function checked(input: unknown, source: Source): ConfigInput {
  const parsed = INPUT_SCHEMA.safeParse(input);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error.issues, input, source), source.kind);
  return parsed.data;
}

function readConfigFile(file: string, label: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the ${label}: ${(error as Error).message}`, 'file');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`the ${label} is not valid JSON: ${(error as Error).message}`, 'file');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`the ${label} must hold one JSON object, not ${JSON.stringify(parsed)}`, 'file');
  }
  return parsed;
}

/** The variables that are set, as config keys; a number-valued key gets a number when the text is one. */
function fromEnvironment(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENVIRONMENT)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const number = Number(raw);
    // Text that is not a number stays text, so the error shows what was written ("abc", not null).
    const value = schemaAt(key.split('.'))?.def.type === 'number' && raw.trim() !== '' && Number.isFinite(number) ? number : raw;
    setAt(input, key.split('.'), value);
  }
  return input;
}

/** Copies `patch` onto `base`, section by section. Both are checked: sections are plain objects. */
function mergeInto(base: Record<string, unknown>, patch: object): Record<string, unknown> {
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const inner = base[key];
    if (isPlainObject(value) && isPlainObject(inner)) mergeInto(inner, value);
    else base[key] = value;
  }
  return base;
}

// ---- error messages: where the value came from, the value, what is wrong, and what is allowed

const SECRET_KEYS = new Set(['serve.token']);

function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown, source: Source): string {
  return issues.map((issue) => describeIssue(issue, input, source)).join('\n');
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown, source: Source): string {
  const at = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((name) => {
        const key = [...at, name].join('.');
        const known = Object.keys(sectionAt(at)?.shape ?? {});
        const guess = closestKey(at, name);
        return `${where(source, key)}: unknown key; ${guess === null ? '' : `did you mean '${guess}'? `}allowed: ${known.join(', ')}`;
      })
      .join('\n');
  }
  const key = at.join('.');
  const value = valueAt(input, at);
  // A secret is not repeated into logs, even a wrong one: it may be one character off the real one.
  const described = SECRET_KEYS.has(key) && typeof value === 'string' ? `a value of ${value.length} characters` : shown(value);
  return `${where(source, key)}: ${described} ${problem(issue)}; allowed: ${allowedAt(at)}`;
}

function where(source: Source, key: string): string {
  switch (source.kind) {
    case 'file':
      return `${source.label}, key '${key}'`;
    case 'environment': {
      const variable = Object.keys(ENVIRONMENT).find((name) => ENVIRONMENT[name] === key);
      return variable === undefined ? `environment (${key})` : `${variable} (${key})`;
    }
    case 'flags': {
      const flag = source.names[key];
      return flag === undefined ? `flags, key '${key}'` : `${flag} (${key})`;
    }
    case 'defaults':
      return `the default of '${key}'`;
  }
}

function problem(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int' ? 'is not a whole number' : issue.expected === 'object' ? 'is not an object' : `is not a ${issue.expected}`;
    case 'too_small':
      return 'is too small';
    case 'too_big':
      return 'is too large';
    case 'invalid_value':
      return 'is not one of the allowed values';
    default:
      return issue.message;
  }
}

function allowedAt(at: readonly string[]): string {
  const schema = schemaAt(at);
  if (schema instanceof z.ZodObject && schema.description === undefined) return `an object with the keys ${Object.keys(schema.shape).join(', ')}`;
  return schema?.description ?? 'nothing: this is not a key of the config';
}

function shown(value: unknown): string {
  return value === undefined ? 'nothing' : (JSON.stringify(value) ?? typeof value);
}

/**
 * The known key `name` was most likely meant to be: a key beside it at most two edits away (any
 * case), else a key of the same name in another section (`quantile` → `threshold.quantile`).
 */
function closestKey(at: readonly string[], name: string): string | null {
  const siblings = Object.keys(sectionAt(at)?.shape ?? {});
  let best: string | null = null;
  let bestDistance = Math.min(2, name.length - 1);
  for (const sibling of siblings) {
    const distance = editDistance(name.toLowerCase(), sibling.toLowerCase());
    if (distance <= bestDistance) [best, bestDistance] = [sibling, distance];
  }
  if (best !== null) return [...at, best].join('.');
  for (const [section, schema] of Object.entries(CONFIG_SCHEMA.shape)) {
    if (schema instanceof z.ZodObject && name.toLowerCase() in lowerKeys(schema)) return `${section}.${lowerKeys(schema)[name.toLowerCase()]!}`;
  }
  return null;
}

function lowerKeys(schema: z.ZodObject): Record<string, string> {
  return Object.fromEntries(Object.keys(schema.shape).map((key) => [key.toLowerCase(), key]));
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function schemaAt(at: readonly string[]): z.ZodType | undefined {
  let schema: z.ZodType | undefined = CONFIG_SCHEMA;
  for (const key of at) {
    if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[key];
    else if (schema instanceof z.ZodArray && /^\d+$/.test(key)) schema = schema.element as z.ZodType;
    else schema = undefined;
  }
  return schema;
}

function sectionAt(at: readonly string[]): z.ZodObject | undefined {
  const schema = schemaAt(at);
  return schema instanceof z.ZodObject ? schema : undefined;
}

function valueAt(input: unknown, at: readonly string[]): unknown {
  let value = input;
  for (const key of at) value = isPlainObject(value) ? value[key] : Array.isArray(value) ? (value as unknown[])[Number(key)] : undefined;
  return value;
}

function setAt(target: Record<string, unknown>, at: readonly string[], value: unknown): void {
  const [head, ...rest] = at;
  if (head === undefined) return;
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const inner = isPlainObject(target[head]) ? target[head] : (target[head] = {});
  setAt(inner, rest, value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) if (inner !== null && typeof inner === 'object') deepFreeze(inner as object);
  return Object.freeze(value);
}
