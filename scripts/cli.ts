#!/usr/bin/env -S node --max-semi-space-size=64
// A 64 MB young generation lets each scoring block's records die young instead of being promoted
// to the old space: on a loaded machine it cut a 10M-row file's peak RSS from 900 to 700 MB and
// sped scoring up by a third (docs/benchmarks.md). The flag has no effect once Node has started,
// so it is here, in the npm scripts and in the systemd unit.
import { readFileSync } from 'node:fs';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { inspectCommand } from './commands/inspect.js';
import { retrainCommand } from './commands/retrain.js';
import { evaluateCommand } from './commands/evaluate.js';
import { activateModelCommand, listModelsCommand } from './commands/models.js';
import { scoreCommand } from './commands/score.js';
import { watchCommand } from './commands/watch.js';
import { anomaliesCommand } from './commands/anomalies.js';
import { filesCommand } from './commands/files.js';
import { notebookCommand } from './commands/notebook.js';
import { resolveConfig, type Config, type ConfigInput } from '../pipeline/service/config.js';
import { DEFAULT_BAD_LINE_POLICY } from '../pipeline/read/read-conn-log.js';
import { DEFAULT_TRAIN_OPTIONS } from '../model/autoencoder.js';
import { presetNamed } from '../preprocess/presets.js';

const DEFAULT_SEED = 1;

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
  .addOption(
    new Option('--max-bad-line-ratio <ratio>', 'reject a file when more than this share of its lines is bad…')
      .default(DEFAULT_BAD_LINE_POLICY.maxBadLineRatio)
      .argParser(ratio),
  )
  .addOption(
    new Option('--min-bad-lines <count>', '…and at least this many lines are bad')
      .default(DEFAULT_BAD_LINE_POLICY.minBadLinesToReject)
      .argParser(wholeNumber),
  )
  .action(async (files: string[], options: { json?: boolean; maxBadLineRatio: number; minBadLines: number }) => {
    process.exitCode = await inspectCommand(files, {
      json: options.json === true,
      badLines: { maxBadLineRatio: options.maxBadLineRatio, minBadLinesToReject: options.minBadLines },
    });
  });

/** --config, --data-dir and --db: every command that touches the store or the database resolves its config from them. */
const withConfig = (command: Command, extra: { logDir?: boolean; threshold?: boolean } = {}): Command => {
  command
    .option('--config <file>', 'JSON config file [env ZEEK_ANOMALY_CONFIG]')
    .option('--data-dir <dir>', 'where models (and by default the database) are kept [env ZEEK_ANOMALY_DATA_DIR; default ./data]')
    .option('--db <file>', 'the SQLite database [env ZEEK_ANOMALY_DB; default <data-dir>/zeek-anomaly.sqlite]');
  if (extra.logDir) command.option('--log-dir <dir>', 'the Zeek log directory to watch [env ZEEK_ANOMALY_LOG_DIR; default /opt/zeek/logs]');
  if (extra.threshold) {
    command
      .addOption(new Option('--threshold <mode>', 'per-file: flag the top share of each file; baseline: flag above the model’s saved threshold').choices(['per-file', 'baseline']))
      .addOption(new Option('--quantile <q>', 'per-file: flag rows above this quantile of the file (0.95 flags the top 5%)').argParser(ratio));
  }
  return command;
};

interface ConfigFlags {
  config?: string;
  dataDir?: string;
  db?: string;
  logDir?: string;
  threshold?: 'per-file' | 'baseline';
  quantile?: number;
}

/** Defaults, file, environment, then flags: resolved once here and passed down read-only. */
function configFrom(flags: ConfigFlags): Readonly<Config> {
  const input: ConfigInput = {};
  if (flags.dataDir !== undefined) input.dataDir = flags.dataDir;
  if (flags.db !== undefined) input.db = flags.db;
  if (flags.logDir !== undefined) input.logDir = flags.logDir;
  if (flags.threshold !== undefined || flags.quantile !== undefined) {
    input.threshold = { ...(flags.threshold && { mode: flags.threshold }), ...(flags.quantile !== undefined && { quantile: flags.quantile }) };
  }
  return resolveConfig({ file: flags.config, flags: input });
}

const trainingOptions = (command: Command): Command =>
  command
    .addOption(new Option('--preset <name>', 'feature preset').choices(['default', 'seed']).default('default'))
    .addOption(new Option('--epochs <n>', 'the most epochs to train (early stopping usually ends sooner)').default(DEFAULT_TRAIN_OPTIONS.maxEpochs).argParser(positiveWhole))
    .addOption(new Option('--learning-rate <rate>', 'Adam learning rate').default(DEFAULT_TRAIN_OPTIONS.learningRate).argParser(positiveNumber))
    .addOption(new Option('--seed <n>', 'seed for the split, the sample and the initial weights').default(DEFAULT_SEED).argParser(wholeNumber));

interface TrainingFlags {
  preset: string;
  epochs: number;
  learningRate: number;
  seed: number;
}

const trainOptionsFrom = (flags: TrainingFlags) => ({
  ...DEFAULT_TRAIN_OPTIONS,
  maxEpochs: flags.epochs,
  learningRate: flags.learningRate,
});

trainingOptions(
  withConfig(program
    .command('retrain')
    .description('train a new model version on historical conn logs, and (by default) activate it')
    .requiredOption('--logs <paths...>', 'conn logs: files, folders (zeekctl archives YYYY-MM-DD/conn.*.log.gz) or globs')
    .option('--since <date>', 'only rows at or after this time (YYYY-MM-DD or ISO 8601)', date)
    .option('--until <date>', 'only rows before this time', date)
    .addOption(new Option('--max-rows <n>', 'train on a uniform sample of at most this many rows').default(1_000_000).argParser(positiveWhole))
    .option('--no-activate', 'save the new version without making it the active one')
    .option('--json', 'print the outcome as one JSON object')),
).action(
  async (flags: TrainingFlags & ConfigFlags & { logs: string[]; since?: Date; until?: Date; maxRows: number; activate: boolean; json?: boolean }) => {
    const config = configFrom(flags);
    process.exitCode = await retrainCommand({
      logs: flags.logs,
      since: flags.since,
      until: flags.until,
      maxRows: flags.maxRows,
      preset: presetNamed(flags.preset),
      train: trainOptionsFrom(flags),
      seed: flags.seed,
      activate: flags.activate,
      dataDir: config.dataDir,
      badLines: { maxBadLineRatio: config.badLines.maxRatio, minBadLinesToReject: config.badLines.minCount },
      json: flags.json === true,
    });
  },
);

trainingOptions(
  program
    .command('evaluate')
    .description('measure detection on labeled logs: per file, train on the Benign rows of its first half, test on its second half')
    .argument('[files...]', 'labeled conn logs (a label column: Stratosphere or IoT-23)')
    .option('--train <files...>', 'instead: train on the Benign rows of these files…')
    .option('--test <files...>', '…and test on the labeled rows of these')
    .addOption(new Option('--quantile <q>', 'flag rows above this quantile of the training rows’ scores').default(0.95).argParser(ratio))
    .option('--json', 'one JSON object per evaluation, one per line'),
).action(async (files: string[], flags: TrainingFlags & { train?: string[]; test?: string[]; quantile: number; json?: boolean }) => {
  if ((flags.train === undefined) !== (flags.test === undefined)) throw new UsageError('--train and --test go together');
  if (files.length === 0 && flags.train === undefined) throw new UsageError('name labeled files, or --train and --test');
  process.exitCode = await evaluateCommand({
    files,
    trainFiles: flags.train ?? [],
    testFiles: flags.test ?? [],
    preset: presetNamed(flags.preset),
    train: trainOptionsFrom(flags),
    seed: flags.seed,
    thresholdQuantile: flags.quantile,
    json: flags.json === true,
  });
});

const models = program
  .command('models')
  .enablePositionalOptions()
  .description('list the model versions in the store (* marks the active one)')
  .option('--json', 'one JSON object per version');
withConfig(models).action(async (flags: ConfigFlags & { json?: boolean }) => {
  process.exitCode = await listModelsCommand({ dataDir: configFrom(flags).dataDir, json: flags.json === true });
});

withConfig(
  models
    .command('activate')
    .description('make a saved version the active one (rollback)')
    .argument('<version>', 'a version name as `models` lists it'),
).action(async (version: string, flags: ConfigFlags) => {
  process.exitCode = await activateModelCommand(version, { dataDir: configFrom(flags).dataDir });
});

withConfig(
  program
    .command('score')
    .description('score conn logs into the database with the active model (the service’s code path, once)')
    .argument('<file...>', 'conn logs')
    .option('--json', 'one JSON object per file'),
  { threshold: true },
).action(async (files: string[], flags: ConfigFlags & { json?: boolean }) => {
  process.exitCode = await scoreCommand(files, configFrom(flags), { json: flags.json === true });
});

withConfig(
  program
    .command('watch')
    .description('the service: score every rotated conn log in the log directory, catching up first, then following new ones')
    .option('--once', 'catch up on the archives present, then exit')
    .addOption(new Option('--log-format <format>', 'log lines as JSON or text').choices(['json', 'text'])),
  { logDir: true, threshold: true },
).action(async (flags: ConfigFlags & { once?: boolean; logFormat?: 'json' | 'text' }) => {
  const logFormat = flags.logFormat ?? (process.stdout.isTTY ? 'text' : 'json');
  process.exitCode = await watchCommand(configFrom(flags), { once: flags.once === true, logFormat });
});

withConfig(
  program
    .command('anomalies')
    .description('list flagged connections, newest first')
    .option('--since <time>', 'at or after this time (YYYY-MM-DD or ISO 8601)', date)
    .option('--until <time>', 'before this time', date)
    .option('--host <ip>', 'either end of the connection')
    .addOption(new Option('--min-score <s>', 'only scores at or above this').argParser(positiveNumber))
    .addOption(new Option('--order <by>', 'newest first, or highest score first').choices(['ts', 'score']).default('ts'))
    .addOption(new Option('--limit <n>', 'at most this many').default(50).argParser(positiveWhole))
    .addOption(new Option('--format <format>', 'output').choices(['table', 'json', 'csv']).default('table')),
).action(
  async (
    flags: ConfigFlags & { since?: Date; until?: Date; host?: string; minScore?: number; order: 'ts' | 'score'; limit: number; format: 'table' | 'json' | 'csv' },
  ) => {
    process.exitCode = await anomaliesCommand({
      db: configFrom(flags).db,
      since: flags.since,
      until: flags.until,
      host: flags.host,
      minScore: flags.minScore,
      order: flags.order,
      limit: flags.limit,
      format: flags.format,
    });
  },
);

withConfig(
  program
    .command('files')
    .description('list the ledger: every file met, with its status, rows, flagged count or error')
    .addOption(new Option('--status <status>', 'only files with this status').choices(['done', 'failed', 'skipped']))
    .addOption(new Option('--limit <n>', 'at most this many').default(100).argParser(positiveWhole))
    .addOption(new Option('--format <format>', 'output').choices(['table', 'json', 'csv']).default('table')),
).action(async (flags: ConfigFlags & { status?: 'done' | 'failed' | 'skipped'; limit: number; format: 'table' | 'json' | 'csv' }) => {
  process.exitCode = await filesCommand({ db: configFrom(flags).db, status: flags.status, limit: flags.limit, format: flags.format });
});

withConfig(
  program
    .command('notebook')
    .description('write an HTML report with charts (and each chart as PNG and SVG): explore the logs, a model version, or the flagged connections')
    .addArgument(new Argument('<name>', 'explore: the conn logs; model: a model version; anomalies: the database').choices(['explore', 'model', 'anomalies']))
    .option('--logs <paths...>', 'explore: conn logs, folders or globs [default: the log directory]; model: where its training logs are now, if they moved')
    .option('--since <date>', 'explore: only rows at or after this time (YYYY-MM-DD or ISO 8601)', date)
    .option('--until <date>', 'explore: only rows before this time', date)
    .option('--model <version>', 'model: the version to report on [default: the active one]')
    .option('--out <dir>', 'where the report and its charts go [default: reports/<name>/]'),
  { logDir: true },
).action(
  async (
    name: 'explore' | 'model' | 'anomalies',
    flags: ConfigFlags & { logs?: string[]; since?: Date; until?: Date; model?: string; out?: string },
  ) => {
    const config = configFrom(flags);
    process.exitCode = await notebookCommand(
      {
        name,
        logs: flags.logs ?? (name === 'explore' ? [config.logDir] : undefined),
        since: flags.since,
        until: flags.until,
        model: flags.model,
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
  // 2 for a command line that makes no sense, 1 for a run that failed.
  process.exit(error instanceof UsageError ? 2 : 1);
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
  const parsed = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(parsed.getTime())) throw new InvalidArgumentError(`expected a date as YYYY-MM-DD or ISO 8601, got '${value}'`);
  return parsed;
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
