#!/usr/bin/env -S node --max-semi-space-size=32
// A 32 MB semi-space (the young generation's halves) lets each scoring block's records die young instead of being promoted
// to the old space: on a loaded machine it cut a 10M-row file's peak RSS from 900 to 700 MB and
// sped scoring up by a third (docs/benchmarks.md). The flag has no effect once Node has started,
// so it is here, in the npm scripts and in the systemd unit.
// Each command's module is imported when that command runs: import() of TensorFlow.js alone took
// 0.8 s here and of playwright-core 1.0 s, and a query such as `findings` needs neither.
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { SEVERITIES, type Severity } from '../db/findings.js';
import { FINDING_TYPES } from '../pipeline/findings/registry.js';
import { badLinePolicy, ConfigError, DEFAULTS, resolveConfig, retrainSettings, type Config } from '../pipeline/service/config.js';
import { DEFAULT_DATABASE_NAME } from '../db/open-database.js';
import { parseUtcTime, UTC_TIME_FORMS } from '../db/utc-time.js';
import { TRIAGE_STATUSES, VERDICTS, type TriageStatus, type Verdict } from '../db/triage-status.js';
import { SUPPRESSION_SCOPES, type SuppressionScope } from '../db/suppressions.js';
import { DEFAULT_TRAIN_OPTIONS } from '../model/autoencoder.js';
import { BASELINE_QUANTILE } from '../model/train-model.js';
import { PRESETS, presetNamed } from '../preprocess/presets.js';
import { SAMPLING_METHODS } from '../pipeline/train/training-sample.js';

const DEFAULT_SEED = 1;
const SENSOR_HELP = 'the sensor these logs are from: the ledger, findings and context state are each sensor’s own [env ZEEK_ANOMALY_SENSOR; default the host name]';
const PRESET_NAMES = Object.keys(PRESETS);

/** A command line that parses but makes no sense together (found in an action, after commander's checks). */
class UsageError extends Error {}

// The one place that decides how the process ends: commands return an exit code.
const program = new Command()
  .name('zeek-anomaly')
  .description('Scores Zeek conn logs with an autoencoder and keeps the anomalies in SQLite.')
  .version(packageVersion())
  .showHelpAfterError()
  // `models activate V --data-dir D`: options after a subcommand are the subcommand's.
  .enablePositionalOptions()
  // Commander's own errors (an unknown option, a bad choice) come to the catch below, which gives
  // them exit code 2 like every other command line that makes no sense.
  .exitOverride();

program
  .command('inspect')
  .description('read conn logs and report their format, fields, row count, bad lines and time range')
  .argument('<file...>', 'conn logs: Zeek TSV or JSON, or CSV exports; gzip or plain')
  .option('--json', 'one JSON object per file, one per line')
  .option('--config <file>', 'JSON config file, for its badLines.* [env ZEEK_ANOMALY_CONFIG]')
  .addOption(
    new Option('--max-bad-line-ratio <ratio>', `reject a file when more than this share of its lines is bad… [config badLines.maxRatio; default ${DEFAULTS.badLines.maxRatio}]`).argParser(ratio),
  )
  .addOption(
    new Option('--min-bad-lines <count>', `…and at least this many lines are bad [config badLines.minCount; default ${DEFAULTS.badLines.minCount}]`).argParser(wholeNumber),
  )
  .action(async (files: string[], flags: ConfigFlags & { json?: boolean }) => {
    // The same bad-line policy as the service's, so inspect tells whether the service would reject a file.
    const { inspectCommand } = await import('./commands/inspect.js');
    process.exitCode = await inspectCommand(files, { json: flags.json === true, badLines: badLinePolicy(configFrom(flags)) });
  });

/** --config, --data-dir and --db: every command that touches the store or the database resolves its config from them. */
const withConfig = (command: Command, extra: { logDir?: boolean; threshold?: boolean } = {}): Command => {
  command
    .option('--config <file>', 'JSON config file [env ZEEK_ANOMALY_CONFIG]')
    .option('--data-dir <dir>', `where models (and by default the database) are kept [env ZEEK_ANOMALY_DATA_DIR; default ${DEFAULTS.dataDir}]`)
    .option('--db <file-or-url>', `the SQLite database, or a postgres:// URL [env ZEEK_ANOMALY_DB; default <data-dir>/${DEFAULT_DATABASE_NAME}]`);
  if (extra.logDir) command.option('--log-dir <dir>', `the Zeek log directory to watch [env ZEEK_ANOMALY_LOG_DIR; default ${DEFAULTS.logDir}]`);
  if (extra.threshold) {
    command
      .addOption(new Option('--threshold <mode>', 'per-file: flag the top share of each file; baseline: flag above the model’s saved threshold').choices(['per-file', 'baseline']))
      .addOption(
        new Option('--quantile <q>', `per-file: flag rows above this quantile of the file (0.95 flags the top 5%) [env ZEEK_ANOMALY_THRESHOLD_QUANTILE; default ${DEFAULTS.threshold.quantile}]`).argParser(ratio),
      );
  }
  return command;
};

/** The flags that set config keys: commander's name for each, the flag, and the key it sets. */
const CONFIG_FLAGS = {
  // In watch and score, the sensor written as; in the query commands, a filter (checked as a name all the same).
  sensor: { flag: '--sensor', key: 'sensor' },
  dataDir: { flag: '--data-dir', key: 'dataDir' },
  db: { flag: '--db', key: 'db' },
  logDir: { flag: '--log-dir', key: 'logDir' },
  threshold: { flag: '--threshold', key: 'threshold.mode' },
  quantile: { flag: '--quantile', key: 'threshold.quantile' },
  maxBadLineRatio: { flag: '--max-bad-line-ratio', key: 'badLines.maxRatio' },
  minBadLines: { flag: '--min-bad-lines', key: 'badLines.minCount' },
  maxRows: { flag: '--max-rows', key: 'retrain.maxRows' },
  sampling: { flag: '--sampling', key: 'retrain.sampling' },
  preset: { flag: '--preset', key: 'retrain.preset' },
  epochs: { flag: '--epochs', key: 'retrain.epochs' },
  learningRate: { flag: '--learning-rate', key: 'retrain.learningRate' },
  // `--host` and `--port` of serve and watch; renamed apart from the query commands' --host filter.
  serveHost: { flag: '--host', key: 'serve.host' },
  servePort: { flag: '--port', key: 'serve.port' },
} as const;

type ConfigFlags = { config?: string } & { [K in keyof typeof CONFIG_FLAGS]?: string | number };

/**
 * Defaults, file, environment, then the flags given: resolved once here and passed down
 * read-only. A flag left out has no default of its own, so the config's value stands.
 */
function configFrom(flags: ConfigFlags): Readonly<Config> {
  const input: Record<string, unknown> = {};
  const flagNames: Record<string, string> = {};
  for (const [name, { flag, key }] of Object.entries(CONFIG_FLAGS)) {
    const value = flags[name as keyof typeof CONFIG_FLAGS];
    if (value === undefined) continue;
    const [section, inner] = key.split('.') as [string, string | undefined];
    if (inner === undefined) input[section] = value;
    else input[section] = { ...(input[section] as object | undefined), [inner]: value };
    flagNames[key] = flag;
  }
  return resolveConfig({ file: flags.config, flags: input, flagNames });
}

withConfig(
  program
    .command('retrain')
    .description('train a new model version on historical conn logs, and (by default) activate it; unset flags take the config’s retrain.*')
    .requiredOption('--logs <paths...>', 'conn logs: files, folders (zeekctl archives YYYY-MM-DD/conn.*.log.gz) or globs')
    .option('--since <date>', 'only rows at or after this time (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]; no zone is UTC)', date)
    .option('--until <date>', 'only rows before this time', date)
    .addOption(
      new Option('--max-rows <n>', `train on a sample of at most this many rows [config retrain.maxRows; default ${DEFAULTS.retrain.maxRows}]`).argParser(positiveWhole),
    )
    .addOption(
      new Option('--sampling <method>', `how the sample is drawn: uniform, or stratified (rare kinds of rows kept, weighted) [config retrain.sampling; default ${DEFAULTS.retrain.sampling}]`).choices(
        SAMPLING_METHODS,
      ),
    )
    .addOption(new Option('--preset <name>', `feature preset [config retrain.preset; default ${DEFAULTS.retrain.preset}]`).choices(PRESET_NAMES))
    .addOption(
      new Option('--epochs <n>', `the most epochs to train (early stopping usually ends sooner) [config retrain.epochs; default ${DEFAULTS.retrain.epochs}]`).argParser(
        positiveWhole,
      ),
    )
    .addOption(new Option('--learning-rate <rate>', `Adam learning rate [config retrain.learningRate; default ${DEFAULTS.retrain.learningRate}]`).argParser(positiveNumber))
    .addOption(new Option('--seed <n>', 'seed for the split, the sample and the initial weights').default(DEFAULT_SEED).argParser(wholeNumber))
    .option('--no-activate', 'save the new version without making it the active one')
    .option('--json', 'print the outcome as one JSON object'),
).action(async (flags: ConfigFlags & { logs: string[]; since?: Date; until?: Date; seed: number; activate: boolean; json?: boolean }) => {
  const config = configFrom(flags);
  const { retrainCommand } = await import('./commands/retrain.js');
  process.exitCode = await retrainCommand({
    ...retrainSettings(config),
    logs: flags.logs,
    since: flags.since,
    until: flags.until,
    seed: flags.seed,
    activate: flags.activate,
    dataDir: config.dataDir,
    json: flags.json === true,
  });
});

// evaluate is a fixed protocol, not a use of the service's settings: it takes no config, and by
// default measures what retrain trains with its defaults.
program
  .command('evaluate')
  .description('measure detection on labeled logs: per file, train on the Benign rows of its first half, test on its second half')
  .argument('[files...]', 'labeled conn logs (a label column: Stratosphere or IoT-23)')
  .option('--train <files...>', 'instead: train on the Benign rows of these files…')
  .option('--test <files...>', '…and test on the labeled rows of these')
  .addOption(new Option('--preset <name>', 'feature preset').choices(PRESET_NAMES).default(DEFAULTS.retrain.preset))
  .addOption(new Option('--epochs <n>', 'the most epochs to train (early stopping usually ends sooner)').default(DEFAULT_TRAIN_OPTIONS.maxEpochs).argParser(positiveWhole))
  .addOption(new Option('--learning-rate <rate>', 'Adam learning rate').default(DEFAULT_TRAIN_OPTIONS.learningRate).argParser(positiveNumber))
  .addOption(new Option('--seed <n>', 'seed for the split and the initial weights').default(DEFAULT_SEED).argParser(wholeNumber))
  .addOption(new Option('--quantile <q>', 'flag rows above this quantile of the training rows’ scores').default(BASELINE_QUANTILE).argParser(ratio))
  .option('--no-context', 'score with the per-connection model alone, without the context model')
  .option('--json', 'one JSON object per evaluation, one per line')
  .action(
    async (
      files: string[],
      flags: { train?: string[]; test?: string[]; preset: string; epochs: number; learningRate: number; seed: number; quantile: number; context: boolean; json?: boolean },
    ) => {
      if ((flags.train === undefined) !== (flags.test === undefined)) throw new UsageError('--train and --test go together');
      if (files.length === 0 && flags.train === undefined) throw new UsageError('name labeled files, or --train and --test');
      const { evaluateCommand } = await import('./commands/evaluate.js');
      process.exitCode = await evaluateCommand({
        files,
        trainFiles: flags.train ?? [],
        testFiles: flags.test ?? [],
        preset: presetNamed(flags.preset),
        train: { ...DEFAULT_TRAIN_OPTIONS, maxEpochs: flags.epochs, learningRate: flags.learningRate },
        seed: flags.seed,
        thresholdQuantile: flags.quantile,
        context: flags.context,
        json: flags.json === true,
      });
    },
  );

const models = program
  .command('models')
  .enablePositionalOptions()
  .description('list the model versions in the store (* marks the active one)')
  .option('--json', 'one JSON object per version');
withConfig(models).action(async (flags: ConfigFlags & { json?: boolean }) => {
  const { listModelsCommand } = await import('./commands/models.js');
  process.exitCode = await listModelsCommand({ dataDir: configFrom(flags).dataDir, json: flags.json === true });
});

withConfig(
  models
    .command('activate')
    .description('make a saved version the active one (rollback)')
    .argument('<version>', 'a version name as `models` lists it'),
).action(async (version: string, flags: ConfigFlags) => {
  const { activateModelCommand } = await import('./commands/models.js');
  process.exitCode = await activateModelCommand(version, { dataDir: configFrom(flags).dataDir });
});

withConfig(
  program
    .command('score')
    .description('score conn logs into the database with the active model (the service’s code path, once)')
    .argument('<file...>', 'conn logs')
    .option('--sensor <name>', SENSOR_HELP)
    .option('--json', 'one JSON object per file'),
  { threshold: true },
).action(async (files: string[], flags: ConfigFlags & { json?: boolean }) => {
  const { scoreCommand } = await import('./commands/score.js');
  process.exitCode = await scoreCommand(files, configFrom(flags), { json: flags.json === true });
});

/** --host and --port: where the dashboard listens. */
const withListen = (command: Command): Command =>
  command
    .option('--host <addr>', `the address the dashboard listens on; beyond loopback it needs a token [env ZEEK_ANOMALY_SERVE_HOST; default ${DEFAULTS.serve.host}]`)
    .addOption(new Option('--port <n>', `the dashboard's port [env ZEEK_ANOMALY_SERVE_PORT; default ${DEFAULTS.serve.port}]`).argParser(wholeNumber));

type ListenFlags = ConfigFlags & { host?: string; port?: number };

/** The listen flags under the config keys they set (commander calls them host and port). */
const listenConfig = (flags: ListenFlags): Readonly<Config> => configFrom({ ...flags, serveHost: flags.host, servePort: flags.port });

withConfig(
  withListen(
    program
      .command('watch')
      .description('the service: score every rotated conn log in the log directory, catching up first, then following new ones')
      .option('--once', 'catch up on the archives present, then exit')
      .option('--sensor <name>', SENSOR_HELP)
      .option('--serve', 'serve the dashboard from the same process (see serve)')
      .addOption(new Option('--log-format <format>', 'log lines as JSON or text').choices(['json', 'text'])),
  ),
  { logDir: true, threshold: true },
).action(async (flags: ListenFlags & { once?: boolean; serve?: boolean; logFormat?: 'json' | 'text' }) => {
  const logFormat = flags.logFormat ?? (process.stdout.isTTY ? 'text' : 'json');
  const { watchCommand } = await import('./commands/watch.js');
  process.exitCode = await watchCommand(listenConfig(flags), { once: flags.once === true, logFormat, serve: flags.serve === true });
});

withConfig(
  withListen(
    program
      .command('serve')
      .description('the dashboard: findings, hosts, anomalies, files and models in a browser, read-only over the database (token: env ZEEK_ANOMALY_SERVE_TOKEN)')
      .addOption(new Option('--log-format <format>', 'log lines as JSON or text').choices(['json', 'text'])),
  ),
  { logDir: true },
).action(async (flags: ListenFlags & { logFormat?: 'json' | 'text' }) => {
  const { serveCommand } = await import('./commands/serve.js');
  process.exitCode = await serveCommand(listenConfig(flags), { logFormat: flags.logFormat ?? (process.stdout.isTTY ? 'text' : 'json') });
});

withConfig(
  program
    .command('anomalies')
    .description('list flagged connections, newest first')
    .option('--since <time>', 'at or after this time (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]; no zone is UTC)', date)
    .option('--until <time>', 'before this time', date)
    .option('--host <ip>', 'either end of the connection')
    .option('--sensor <name>', 'only the anomalies of this sensor’s files')
    .addOption(new Option('--min-score <s>', 'only scores at or above this').argParser(positiveNumber))
    .addOption(new Option('--order <by>', 'newest first, or highest score first').choices(['ts', 'score']).default('ts'))
    .addOption(new Option('--limit <n>', 'at most this many').default(50).argParser(positiveWhole))
    .addOption(new Option('--format <format>', 'output').choices(['table', 'json', 'csv']).default('table')),
).action(
  async (
    flags: ConfigFlags & { sensor?: string; since?: Date; until?: Date; host?: string; minScore?: number; order: 'ts' | 'score'; limit: number; format: 'table' | 'json' | 'csv' },
  ) => {
    const { anomaliesCommand } = await import('./commands/anomalies.js');
    process.exitCode = await anomaliesCommand({
      db: configFrom(flags).db,
      since: flags.since,
      until: flags.until,
      host: flags.host,
      sensor: flags.sensor,
      minScore: flags.minScore,
      order: flags.order,
      limit: flags.limit,
      format: flags.format,
    });
  },
);

const findings = program
  .command('findings')
  .enablePositionalOptions()
  .description('list the findings (typed, explained detections on hosts, pairs and channels), highest score first')
  .option('--since <time>', 'last seen at or after this time (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]; no zone is UTC)', date)
  .option('--until <time>', 'first seen before this time', date)
  .option('--host <ip>', 'either end of the entity')
  .option('--sensor <name>', 'only this sensor’s findings')
  .addOption(new Option('--type <type>', 'only findings of this type').choices(FINDING_TYPES))
  .addOption(new Option('--min-severity <severity>', 'only this severity or above').choices(SEVERITIES))
  .addOption(new Option('--status <statuses>', `only findings in these triage statuses, comma-separated (${TRIAGE_STATUSES.join(', ')})`).argParser(statusList))
  .addOption(new Option('--limit <n>', 'at most this many').default(50).argParser(positiveWhole))
  .addOption(new Option('--format <format>', 'output').choices(['table', 'json', 'csv']).default('table'))
  .option('--all', 'include the findings the allow-list (findings.allow) hides');
withConfig(findings).action(
  async (flags: ConfigFlags & { sensor?: string; since?: Date; until?: Date; host?: string; type?: string; minSeverity?: Severity; status?: TriageStatus[]; limit: number; format: 'table' | 'json' | 'csv'; all?: boolean }) => {
    const config = configFrom(flags);
    const { findingsCommand } = await import('./commands/findings.js');
    process.exitCode = await findingsCommand({
      db: config.db,
      allow: config.findings.allow,
      all: flags.all === true,
      since: flags.since,
      until: flags.until,
      host: flags.host,
      sensor: flags.sensor,
      type: flags.type,
      minSeverity: flags.minSeverity,
      statuses: flags.status,
      limit: flags.limit,
      format: flags.format,
    });
  },
);

withConfig(
  findings
    .command('triage')
    .description('record a verdict on a finding (acknowledged, threat, benign, closed), with a note; it is added to the finding’s audit trail')
    .argument('<id>', 'a finding id as `findings` lists it', positiveWhole)
    .addOption(new Option('--as <status>', 'the verdict').choices(VERDICTS).makeOptionMandatory())
    .option('--note <text>', 'why, in words (kept in the audit trail)')
    .option('--by <name>', 'who gives it [default: the OS user]', analystName)
    .addOption(new Option('--suppress <scope>', 'with --as benign: hide what it matches from now on: this finding\'s entity, its pair, channel, source or destination').choices(SUPPRESSION_SCOPES))
    .option('--for <duration>', 'with --suppress: for this long (30m, 12h, 7d) [default: until revoked]', duration)
    .option('--every-type', 'with --suppress: for every finding type, not only this one')
    .option('--every-sensor', 'with --suppress: on every sensor of the store, not only this finding\'s'),
).action(
  async (
    id: number,
    flags: ConfigFlags & { as: Verdict; note?: string; by?: string; suppress?: SuppressionScope; for?: number; everyType?: boolean; everySensor?: boolean },
  ) => {
    if (flags.suppress !== undefined && flags.as !== 'benign') throw new UsageError(`--suppress goes with --as benign, not --as ${flags.as}`);
    if (flags.suppress === undefined && (flags.for !== undefined || flags.everyType === true || flags.everySensor === true)) throw new UsageError('--for, --every-type and --every-sensor go with --suppress');
    const { triageCommand } = await import('./commands/findings.js');
    process.exitCode = await triageCommand({
      db: configFrom(flags).db,
      id,
      status: flags.as,
      note: flags.note ?? null,
      by: flags.by ?? osUserName(),
      suppress: flags.suppress === undefined ? undefined : { scope: flags.suppress, forSeconds: flags.for ?? null, everyType: flags.everyType === true, everySensor: flags.everySensor === true },
    });
  },
);

const suppressions = program
  .command('suppressions')
  .enablePositionalOptions()
  .description('list the suppressions in force (noise hidden from a verdict of benign), newest first')
  .option('--all', 'every suppression, revoked and expired ones too')
  .addOption(new Option('--format <format>', 'output').choices(['table', 'json', 'csv']).default('table'));
withConfig(suppressions).action(async (flags: ConfigFlags & { all?: boolean; format: 'table' | 'json' | 'csv' }) => {
  const { suppressionsCommand } = await import('./commands/findings.js');
  process.exitCode = await suppressionsCommand({ db: configFrom(flags).db, all: flags.all === true, format: flags.format });
});

withConfig(
  suppressions
    .command('revoke')
    .description('revoke a suppression: what it hid is listed again')
    .argument('<id>', 'a suppression id as `suppressions` lists it', positiveWhole)
    .option('--by <name>', 'who revokes it [default: the OS user]', analystName),
).action(async (id: number, flags: ConfigFlags & { by?: string }) => {
  const { revokeSuppressionCommand } = await import('./commands/findings.js');
  process.exitCode = await revokeSuppressionCommand({ db: configFrom(flags).db, id, by: flags.by ?? osUserName() });
});

withConfig(
  findings
    .command('show')
    .description('one finding: its evidence, the files that raised it and its flagged connections')
    .argument('<id>', 'a finding id as `findings` lists it', positiveWhole)
    .addOption(new Option('--connections <n>', 'at most this many flagged connections').default(20).argParser(positiveWhole))
    .option('--json', 'one JSON object'),
).action(async (id: number, flags: ConfigFlags & { connections: number; json?: boolean }) => {
  const { showFindingCommand } = await import('./commands/findings.js');
  process.exitCode = await showFindingCommand({ db: configFrom(flags).db, id, format: flags.json === true ? 'json' : 'text', connections: flags.connections });
});

withConfig(
  program
    .command('files')
    .description('list the ledger: every file met, with its status, rows, flagged count or error')
    .addOption(new Option('--status <status>', 'only files with this status').choices(['done', 'failed', 'skipped']))
    .option('--sensor <name>', 'only this sensor’s files')
    .addOption(new Option('--limit <n>', 'at most this many').default(100).argParser(positiveWhole))
    .addOption(new Option('--format <format>', 'output').choices(['table', 'json', 'csv']).default('table')),
).action(async (flags: ConfigFlags & { sensor?: string; status?: 'done' | 'failed' | 'skipped'; limit: number; format: 'table' | 'json' | 'csv' }) => {
  const { filesCommand } = await import('./commands/files.js');
  process.exitCode = await filesCommand({ db: configFrom(flags).db, status: flags.status, sensor: flags.sensor, limit: flags.limit, format: flags.format });
});

withConfig(
  program
    .command('notebook')
    .description('write an HTML report with charts (and each chart as PNG and SVG): explore the logs, a model version, or the flagged connections')
    .addArgument(new Argument('<name>', 'explore: the conn logs; model: a model version; anomalies: the database').choices(['explore', 'model', 'anomalies']))
    .option('--logs <paths...>', 'explore: conn logs, folders or globs [default: the log directory]; model: where its training logs are now, if they moved')
    .option('--since <date>', 'explore: only rows at or after this time (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]; no zone is UTC)', date)
    .option('--until <date>', 'explore: only rows before this time', date)
    .option('--model <version>', 'model: the version to report on [default: the active one]')
    .option('--sensor <name>', 'anomalies: only this sensor’s anomalies and files [default: every sensor’s]')
    .option('--out <dir>', 'where the report and its charts go [default: reports/<name>/]'),
  { logDir: true },
).action(
  async (
    name: 'explore' | 'model' | 'anomalies',
    flags: ConfigFlags & { sensor?: string; logs?: string[]; since?: Date; until?: Date; model?: string; out?: string },
  ) => {
    const config = configFrom(flags);
    const { notebookCommand } = await import('./commands/notebook.js');
    process.exitCode = await notebookCommand(
      {
        name,
        logs: flags.logs ?? (name === 'explore' ? [config.logDir] : undefined),
        since: flags.since,
        until: flags.until,
        model: flags.model,
        sensor: flags.sensor,
        out: flags.out,
      },
      config,
    );
  },
);

program.parseAsync().catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // Commander has printed its message (or the help, or the version, which exit 0).
    process.exit(error.exitCode === 0 ? 0 : 2);
  }
  process.stderr.write(`zeek-anomaly: ${error instanceof Error ? error.message : String(error)}\n`);
  // 2 for a command line that makes no sense (a bad flag value among them), 1 for a run that failed.
  process.exit(error instanceof UsageError || (error instanceof ConfigError && error.source === 'flags') ? 2 : 1);
});

function ratio(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError(`expected a number from 0 to 1, got '${value}'`);
  return n;
}

function positiveWhole(value: string): number {
  const n = wholeNumber(value);
  if (n === 0) throw new InvalidArgumentError(`expected a whole number of 1 or more, got '${value}'`);
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number above 0, got '${value}'`);
  return n;
}

/** YYYY-MM-DD (midnight UTC) or a full ISO 8601 time. */
function date(value: string): Date {
  const ms = parseUtcTime(value);
  if (ms === null) throw new InvalidArgumentError(`expected ${UTC_TIME_FORMS}, got '${value}'`);
  return new Date(ms);
}

function statusList(value: string): TriageStatus[] {
  const statuses = value.split(',').map((s) => s.trim());
  const bad = statuses.filter((s) => !(TRIAGE_STATUSES as readonly string[]).includes(s));
  if (bad.length > 0 || statuses.length === 0) throw new InvalidArgumentError(`'${bad.join(',') || value}' is not a triage status; allowed: ${TRIAGE_STATUSES.join(', ')}, comma-separated`);
  return statuses as TriageStatus[];
}

/** A name for the audit trail: printable, 1 to 64 characters. */
function analystName(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (value.trim() === '' || value.length > 64 || /[\x00-\x1f\x7f]/.test(value)) throw new InvalidArgumentError(`expected a name of 1 to 64 printable characters, got ${JSON.stringify(value.slice(0, 80))}`);
  return value.trim();
}

/** `30m`, `12h`, `7d`, `2w` as seconds. */
function duration(value: string): number {
  const match = /^(\d{1,6})([mhdw])$/.exec(value.trim());
  if (match === null || Number(match[1]) === 0) throw new InvalidArgumentError(`expected a duration such as 30m, 12h, 7d or 2w, got '${value}'`);
  return Number(match[1]) * { m: 60, h: 3600, d: 86_400, w: 604_800 }[match[2] as 'm' | 'h' | 'd' | 'w'];
}

function osUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected a whole number of 0 or more, got '${value}'`);
  return n;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
