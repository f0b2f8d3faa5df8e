import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BadLinePolicy } from '../pipeline/read/bad-line-policy.js';
import { anomaliesNotebook } from './anomalies.js';
import { exploreNotebook } from './explore.js';
import { modelNotebook } from './model.js';
import type { NotebookResult } from './source.js';

export const NOTEBOOKS = ['explore', 'model', 'anomalies'] as const;
export type NotebookName = (typeof NOTEBOOKS)[number];

export interface RunNotebookOptions {
  name: NotebookName;
  /** explore: the logs to read; model: where its training logs are now (default: where metrics.json says). */
  logs?: string[];
  since?: Date;
  until?: Date;
  /** model: the version (default: the active one). */
  model?: string;
  /** anomalies: one sensor's (default: every sensor's). */
  sensor?: string;
  out: string;
  dataDir: string;
  db: string;
  badLines?: BadLinePolicy;
  command: string;
  log?: (message: string) => void;
}

/** Runs one notebook: reads its data, renders its charts, writes its report. */
export async function runNotebook(options: RunNotebookOptions): Promise<NotebookResult> {
  const base = { out: options.out, command: options.command, log: options.log, badLines: options.badLines };
  switch (options.name) {
    case 'explore':
      if (options.logs === undefined || options.logs.length === 0) throw new Error('the explore notebook needs conn logs: give --logs');
      return exploreNotebook({ ...base, logs: options.logs, since: options.since, until: options.until });
    case 'model':
      return modelNotebook({ ...base, dataDir: options.dataDir, version: options.model, logs: options.logs });
    case 'anomalies':
      return anomaliesNotebook({ ...base, db: options.db, sensor: options.sensor });
  }
}

/** What the CLI prints: where the report and every chart file are. */
export function describeResult(result: NotebookResult, cwd = process.cwd()): string {
  const show = (path: string) => {
    const rel = relative(cwd, path);
    return rel.startsWith('..') ? resolve(path) : rel;
  };
  const width = Math.max(...result.charts.map((c) => c.name.length));
  return [
    `report  ${show(result.report)}`,
    `        ${pathToFileURL(resolve(result.report)).href}`,
    `charts  ${show(result.chartsDir)}/ (${result.charts.length} charts: PNG, SVG and the Vega-Lite spec of each)`,
    ...result.charts.map((c) => `  ${c.name.padEnd(width)}  ${show(c.pngFile)}  ${show(c.svgFile)}`),
    ...result.warnings.map((w) => `warning: ${w}`),
  ].join('\n');
}
