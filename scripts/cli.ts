#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { inspectCommand } from './commands/inspect.js';
import { DEFAULT_BAD_LINE_POLICY } from '../pipeline/read-conn-log.js';

// The one place that decides how the process ends: commands return an exit code.
const program = new Command()
  .name('zeek-anomaly')
  .description('Scores Zeek conn logs with an autoencoder and keeps the anomalies in SQLite.')
  .version(packageVersion())
  .showHelpAfterError();

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

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`zeek-anomaly: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});

function ratio(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError(`expected a number from 0 to 1, got '${value}'`);
  return n;
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
