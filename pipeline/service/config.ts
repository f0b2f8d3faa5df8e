import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_DATABASE_NAME, defaultDatabasePath, isPostgresUrl } from '../../db/open-database.js';
import { SENSOR_NAME, SENSOR_NAME_RULE } from '../../db/sensors.js';
import { DEFAULT_TRAIN_OPTIONS, type TrainOptions } from '../../model/autoencoder.js';
import type { Preset } from '../../preprocess/feature-spec.js';
import { PRESETS } from '../../preprocess/presets.js';
import { CONTEXT_SCHEMA, DEFAULT_CONTEXT } from '../context/context-settings.js';
import type { ContextLimits } from '../context/context-state.js';
import { DEFAULT_WATCH, WATCH_SCHEMA } from '../discover/discover-settings.js';
import { DEFAULT_FINDINGS, FINDINGS_SCHEMA } from '../findings/findings-settings.js';
import { DEFAULT_READ, READ_SCHEMA } from '../first-read/first-read-settings.js';
import { DEFAULT_LEASE, LEASE_SCHEMA } from '../ledger/ledger-settings.js';
import { badLinePolicyOf, BAD_LINES_SCHEMA, DEFAULT_BAD_LINES } from '../read/read-settings.js';
import type { BadLinePolicy } from '../read/bad-line-policy.js';
import { DEFAULT_THRESHOLD, THRESHOLD_SCHEMA } from '../score/score-settings.js';
import { DEFAULT_SERVE, SERVE_SCHEMA } from '../serve/serve-settings.js';
import { schedule, wholeFrom } from '../settings/schema-words.js';
import { BOOTSTRAP_SCHEMA, DEFAULT_BOOTSTRAP, DEFAULT_RETRAIN, RETRAIN_SCHEMA } from '../train/train-settings.js';
import type { SamplingMethod } from '../train/training-sample.js';

// The whole config, put together once here: the service's own keys (where it runs, retention), and
// the section each module owns, in that module's *-settings.ts (`badLines` the reader, `context` the
// context stage, `read` the first read, `threshold` the scorer, `lease` the ledger, `watch` the
// watcher, `retrain` and `bootstrap` training, `findings` the detectors' registry, `serve` the
// dashboard). Each schema says every key once: its type, its bounds, and (in its description) how
// those bounds are put to a user.

const path = (what: string) => z.string().describe(what);

const sensorName = z
  .string()
  .refine((value) => value === '' || SENSOR_NAME.test(value), { error: 'is not a sensor name' })
  .describe(`${SENSOR_NAME_RULE}; or "" for the host name`);

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
  threshold: THRESHOLD_SCHEMA,
  badLines: BAD_LINES_SCHEMA,
  bootstrap: BOOTSTRAP_SCHEMA,
  retrain: RETRAIN_SCHEMA,
  /** Anomalies and findings older than `days` are deleted; the findings' audit trail is kept `auditDays`, and never less than `days`. */
  retention: z.strictObject({ schedule, days: wholeFrom(1, 36_500), auditDays: wholeFrom(1, 36_500) }),
  watch: WATCH_SCHEMA,
  lease: LEASE_SCHEMA,
  context: CONTEXT_SCHEMA,
  read: READ_SCHEMA,
  /** What the findings detectors look for: see pipeline/findings/. */
  findings: FINDINGS_SCHEMA,
  /** The dashboard (`serve`, `watch --serve`): where it listens, and the token it asks for. Owned by pipeline/serve. */
  serve: SERVE_SCHEMA,
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
  threshold: { ...DEFAULT_THRESHOLD },
  badLines: { ...DEFAULT_BAD_LINES },
  bootstrap: { ...DEFAULT_BOOTSTRAP },
  retrain: { ...DEFAULT_RETRAIN },
  retention: { schedule: '30 4 * * *', days: 90, auditDays: 365 },
  watch: { ...DEFAULT_WATCH },
  lease: { ...DEFAULT_LEASE },
  context: structuredClone(DEFAULT_CONTEXT),
  read: { ...DEFAULT_READ },
  findings: structuredClone(DEFAULT_FINDINGS),
  serve: { ...DEFAULT_SERVE },
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
  return badLinePolicyOf(config.badLines);
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
