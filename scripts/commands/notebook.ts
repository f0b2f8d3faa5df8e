import { join } from 'node:path';
import type { Config } from '../../pipeline/service/config.js';

export interface NotebookCommandOptions {
  name: 'explore' | 'model' | 'anomalies';
  logs?: string[];
  since?: Date;
  until?: Date;
  model?: string;
  /** anomalies: one sensor's. */
  sensor?: string;
  /** Default: reports/<name>/ under the current folder. */
  out?: string;
}

/** `zeek-anomaly notebook <name>`: writes one HTML report with its charts, and prints where they are. */
export async function notebookCommand(options: NotebookCommandOptions, config: Readonly<Config>): Promise<number> {
  // Loaded here, not at the top: vega and vega-lite take a few hundred milliseconds to load, which
  // every other command (and the service) would otherwise pay at start.
  const { runNotebook, describeResult } = await import('../../notebooks-ts/run.js');
  const result = await runNotebook({
    name: options.name,
    logs: options.logs,
    since: options.since,
    until: options.until,
    model: options.model,
    sensor: options.sensor,
    out: options.out ?? join('reports', options.name),
    dataDir: config.dataDir,
    db: config.db,
    badLines: { maxBadLineRatio: config.badLines.maxRatio, minBadLinesToReject: config.badLines.minCount },
    command: commandLine(),
    log: (message) => process.stderr.write(`${message}\n`),
  });
  process.stdout.write(`${describeResult(result)}\n`);
  return 0;
}

/** The command line as typed, for the report's footer. */
function commandLine(): string {
  const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
  return ['zeek-anomaly', ...process.argv.slice(2)].map(quote).join(' ');
}
