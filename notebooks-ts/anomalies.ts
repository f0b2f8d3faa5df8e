import { join, relative } from 'node:path';
import type { Db } from '../db/connection.js';
import { countFiles } from '../db/files.js';
import { isPostgresUrl, openDatabase, storeName } from '../db/open-database.js';
import { listSensors } from '../db/sensors.js';
import {
  anomaliesPerBand,
  anomaliesPerModel,
  anomaliesPerTimeAndBand,
  anomalyTotals,
  countScoredFilesWithRows,
  distinctHosts,
  explanationFeatureRanks,
  flaggedPerDay,
  flaggedPerFile,
  scoredFilesPerThresholdMode,
  scoredTotals,
  topHosts,
} from '../db/report-queries.js';
import { COUNT_AXIS, FULL_WIDTH, TITLE_ABOVE, formatCount, formatShare, renderCharts, type Chart } from './charts.js';
import { writeReport } from './report.js';
import { displayPath, utcTime, type NotebookBase, type NotebookResult } from './source.js';

/**
 * `anomalies`: what the service flagged, from its SQLite database, opened read-only (a reader
 * never blocks the service). Every figure is an aggregate query (db/report-queries.ts), so SQLite
 * streams the table and only the groups come back: memory grows with the number of bars, not of
 * anomalies.
 */
export interface AnomaliesNotebookOptions extends NotebookBase {
  db: string;
  /** One sensor's anomalies and files; every sensor's when not given. */
  sensor?: string;
}

/** The database, and whose rows the report covers. */
interface Scope {
  db: Db;
  sensor: string | null;
}

/** Score bands, as multiples of the threshold the row was flagged against. */
const BANDS: readonly { name: string; from: number }[] = [
  { name: '1–2× threshold', from: 1 },
  { name: '2–5×', from: 2 },
  { name: '5–10×', from: 5 },
  { name: '10–100×', from: 10 },
  { name: '≥ 100×', from: 100 },
];
const BAND_FLOORS = BANDS.map((b) => b.from);
const BAND_COLORS = ['#fdd49e', '#fdbb84', '#fc8d59', '#e34a33', '#b30000'];

/** Time bins, finest first: the finest that gives at most MAX_TIME_BINS bars. */
const BIN_SECONDS = [600, 3600, 6 * 3600, 86_400, 7 * 86_400];
const BIN_NAMES = ['10 minutes', 'hour', '6 hours', 'day', 'week'];
const MAX_TIME_BINS = 160;
const TOP_SHOWN = 15;
// Beyond this many scored files the per-file chart shows one point per day instead.
const MAX_FILE_POINTS = 2000;

export async function anomaliesNotebook(options: AnomaliesNotebookOptions): Promise<NotebookResult> {
  const log = options.log ?? (() => {});
  const db = openDatabase(options.db, { readonly: true });
  const scope: Scope = { db, sensor: options.sensor ?? null };
  let charts: Chart[];
  let facts: [string, string][];
  const warnings: string[] = [];
  try {
    const totals = anomalyTotals(db, scope.sensor);
    const files = countFiles(db, options.sensor);
    const sensors = listSensors(db);
    if (options.sensor !== undefined && !sensors.some((s) => s.sensor === options.sensor)) {
      warnings.push(`The database has no files from sensor ${options.sensor}; it has ${sensors.map((s) => s.sensor || '(unnamed)').join(', ') || 'none'}.`);
    }
    if (totals.count === 0) warnings.push(`The database holds no anomalies yet (${files.done} files scored): the charts are empty.`);
    log(`${formatCount(totals.count)} anomalies in ${db.name}; aggregating`);
    const models = anomaliesPerModel(db, scope.sensor);
    const rows = scoredTotals(db, scope.sensor);
    const modes = scoredFilesPerThresholdMode(db, scope.sensor).map((m) => `${m.mode ?? 'unknown'} (${m.files} files)`);
    charts = [
      overTimeChart(scope, totals.first, totals.last),
      bandChart(scope, totals.count),
      hostChart(scope, 'orig_h', totals.count),
      hostChart(scope, 'resp_h', totals.count),
      explanationChart(scope, totals.count),
      perFileChart(scope),
    ];
    facts = [
      ['Db', shownStore(options.db)],
      ['Sensor', options.sensor ?? (sensors.map((s) => `${s.sensor || '(unnamed)'} (${formatCount(s.files)} files)`).join(', ') || 'none yet')],
      ['Anomalies', `${formatCount(totals.count)} flagged of ${formatCount(rows.rows)} connections scored (${formatShare(rows.flagged / Math.max(1, rows.rows))})`],
      ['Files', `${formatCount(files.done)} scored, ${formatCount(files.failed)} failed, ${formatCount(files.skipped)} skipped as duplicates`],
      ['Time range', `${utcTime(totals.first)} – ${utcTime(totals.last)}`],
      ['Threshold mode', modes.join(', ') || 'n/a'],
      ['Models', models.map((m) => `${m.model} (${formatCount(m.count)})`).join(', ') || 'n/a'],
    ];
  } finally {
    db.close();
  }
  const chartsDir = join(options.out, 'charts');
  const rendered = await renderCharts(charts, chartsDir);
  const report = await writeReport(options.out, {
    title: 'Flagged connections',
    lead: `What zeek-anomaly flagged, from the database \`${shownStore(options.db)}\` (opened read-only): when, how far above the threshold, between which hosts, why, and in which files. Scores are each row's reconstruction error; a row is flagged when it is above its file's threshold (the top share of the file in \`per-file\` mode, the model's saved threshold in \`baseline\` mode). Times are UTC.`,
    facts,
    warnings,
    charts: rendered,
    command: options.command,
    chartsFolder: relative(options.out, chartsDir),
  });
  return { name: 'anomalies', report, chartsDir, charts: rendered, warnings };
}

function overTimeChart(scope: Scope, first: number | null, last: number | null): Chart {
  const span = first === null || last === null ? 0 : last - first;
  let level = BIN_SECONDS.findIndex((s) => span / s <= MAX_TIME_BINS);
  if (level < 0) level = BIN_SECONDS.length - 1;
  const bin = BIN_SECONDS[level]!;
  const values = anomaliesPerTimeAndBand(scope.db, bin, BAND_FLOORS, scope.sensor).map((r) => ({
    time: r.time * 1000,
    end: (r.time + bin) * 1000,
    band: BANDS[r.band]!.name,
    order: r.band,
    count: r.count,
  }));
  return {
    name: 'flagged-over-time',
    heading: 'Flagged connections over time',
    text: `Flagged connections per ${BIN_NAMES[level]} (by \`ts\`, when the connection started, UTC), stacked by how far their score is above the threshold they were flagged against. In \`per-file\` mode every file contributes its top share, so a steady floor is expected and the interest is in the bars that rise above it, and in the darker bands: connections many times above the threshold are the most unlike the training traffic.`,
    spec: {
      title: { text: 'Flagged connections over time (UTC)', subtitle: `per ${BIN_NAMES[level]}, stacked by score band (score as a multiple of its threshold)` },
      width: FULL_WIDTH - 140,
      height: 300,
      data: { values },
      mark: { type: 'bar', stroke: null },
      encoding: {
        x: { field: 'time', type: 'temporal', scale: { type: 'utc' }, axis: { title: 'time (UTC)', format: bin >= 86_400 ? '%b %d' : '%b %d %H:%M', labelOverlap: true } },
        x2: { field: 'end' },
        y: { field: 'count', type: 'quantitative', aggregate: 'sum', stack: 'zero', axis: { ...COUNT_AXIS, title: `flagged connections / ${BIN_NAMES[level]}` } },
        color: { field: 'band', type: 'ordinal', scale: { domain: BANDS.map((b) => b.name), range: BAND_COLORS }, legend: { title: 'score band' } },
        order: { field: 'order', type: 'quantitative' },
        tooltip: [
          { field: 'time', type: 'temporal', title: 'from', format: '%Y-%m-%d %H:%M' },
          { field: 'band', title: 'band' },
          { field: 'count', title: 'flagged', format: ',' },
        ],
      },
    },
  };
}

function bandChart(scope: Scope, total: number): Chart {
  const counts = new Map(anomaliesPerBand(scope.db, BAND_FLOORS, scope.sensor).map((r) => [r.band, r.count]));
  const values = BANDS.map((b, i) => ({ band: b.name, count: counts.get(i) ?? 0, label: `${formatCount(counts.get(i) ?? 0)} (${formatShare((counts.get(i) ?? 0) / Math.max(1, total))})` }));
  return {
    name: 'score-bands',
    heading: 'Flagged connections by score band',
    text: "How far above its threshold each flagged connection scored. Most flags sit just above the threshold, where the line between unusual and normal is thin; the few connections tens or hundreds of times above it are the ones to read first (`zeek-anomaly anomalies --order score`).",
    spec: {
      title: { text: 'Flagged connections by score band', subtitle: `${formatCount(total)} flagged connections; band = score ÷ the threshold it was flagged against` },
      width: 560,
      height: BANDS.length * 34,
      data: { values },
      encoding: {
        y: { field: 'band', type: 'ordinal', sort: BANDS.map((b) => b.name), axis: { ...TITLE_ABOVE, title: 'score band' } },
        x: { field: 'count', type: 'quantitative', axis: { ...COUNT_AXIS, title: 'flagged connections' }, scale: { domainMax: Math.max(1, ...values.map((v) => v.count)) * 1.3 } },
      },
      layer: [
        { mark: { type: 'bar' }, encoding: { color: { field: 'band', type: 'ordinal', scale: { domain: BANDS.map((b) => b.name), range: BAND_COLORS }, legend: null } } },
        { mark: { type: 'text', align: 'left', dx: 4, fontSize: 12 }, encoding: { text: { field: 'label' } } },
      ],
    },
  };
}

function hostChart(scope: Scope, column: 'orig_h' | 'resp_h', total: number): Chart {
  const top = topHosts(scope.db, column, TOP_SHOWN, scope.sensor);
  const distinct = distinctHosts(scope.db, column, scope.sensor);
  const values = top.map((r) => ({ host: r.host, count: r.count, label: `${formatCount(r.count)} (${formatShare(r.count / Math.max(1, total))}), worst ${r.worst.toPrecision(3)}×` }));
  const source = column === 'orig_h';
  return {
    name: source ? 'top-sources' : 'top-destinations',
    heading: source ? 'Top source hosts of flagged connections' : 'Top destination hosts of flagged connections',
    text: source
      ? 'The originators with the most flagged connections, with the highest score among them as a multiple of its threshold. One host far above the others is usually a single behaviour repeated (a scanner, a backup job, a misconfigured client): look at a few of its rows with `zeek-anomaly anomalies --host <address>` before reading the rest.'
      : 'The responders that flagged connections went to. A server that appears here often is either under attack or has traffic the model never saw in training (a new service); both are worth knowing.',
    spec: {
      title: {
        text: source ? 'Top source hosts of flagged connections' : 'Top destination hosts of flagged connections',
        subtitle: `${values.length < TOP_SHOWN ? `all ${values.length}` : `the ${TOP_SHOWN} most frequent of ${formatCount(distinct)}`} ${source ? 'originators' : 'responders'}; "worst" is the highest score ÷ threshold`,
      },
      width: 600,
      height: Math.max(40, values.length * 24),
      data: { values },
      encoding: {
        y: { field: 'host', type: 'nominal', sort: null, axis: { ...TITLE_ABOVE, title: source ? 'source address (orig_h)' : 'destination address (resp_h)', labelLimit: 420 } },
        x: { field: 'count', type: 'quantitative', axis: { ...COUNT_AXIS, title: 'flagged connections' }, scale: { domainMax: Math.max(1, ...values.map((v) => v.count)) * 1.45 } },
      },
      layer: [
        { mark: { type: 'bar', color: source ? '#e45756' : '#f58518' } },
        { mark: { type: 'text', align: 'left', dx: 4, fontSize: 12 }, encoding: { text: { field: 'label' } } },
      ],
    },
  };
}

function explanationChart(scope: Scope, total: number): Chart {
  const rows = explanationFeatureRanks(scope.db, scope.sensor).map((r) => ({ feature: r.feature, rank: r.rank, n: r.count }));
  const byFeature = new Map<string, number>();
  for (const r of rows) if (r.rank === 0) byFeature.set(r.feature, (byFeature.get(r.feature) ?? 0) + r.n);
  for (const r of rows) if (!byFeature.has(r.feature)) byFeature.set(r.feature, 0);
  const appearances = new Map<string, number>();
  for (const r of rows) appearances.set(r.feature, (appearances.get(r.feature) ?? 0) + r.n);
  const features = [...byFeature.keys()]
    .sort((a, b) => byFeature.get(b)! - byFeature.get(a)! || appearances.get(b)! - appearances.get(a)!)
    .slice(0, TOP_SHOWN);
  const rankName = (rank: number) => (rank === 0 ? 'first reason' : rank === 1 ? 'second reason' : rank === 2 ? 'third reason' : 'later reason');
  const ranks = ['first reason', 'second reason', 'third reason', 'later reason'];
  const totals = new Map<string, number>();
  for (const r of rows) if (features.includes(r.feature)) totals.set(`${r.feature}\u0000${rankName(r.rank)}`, (totals.get(`${r.feature}\u0000${rankName(r.rank)}`) ?? 0) + r.n);
  const values = [...totals.entries()].map(([key, n]) => {
    const [feature, rank] = key.split('\u0000') as [string, string];
    return { feature, rank, order: ranks.indexOf(rank), count: n };
  });
  const presentRanks = ranks.filter((r) => values.some((v) => v.rank === r));
  return {
    name: 'explanation-features',
    heading: 'Top explanation features',
    text: "Each anomaly is stored with the features that made up most of its reconstruction error, largest first (the `explanation` column). This counts how often each feature is the first reason, and how often it comes second or third. A feature that dominates tells you what kind of unusual the network's flags are: `conn_state` and `history` for odd handshakes (scans, rejects), byte counts for unusual transfers, addresses for hosts the model never saw.",
    spec: {
      title: { text: 'Top explanation features', subtitle: `how often each feature is among the reasons of the ${formatCount(total)} flagged connections, by its place in the explanation` },
      width: 620,
      height: Math.max(40, features.length * 24),
      data: { values },
      mark: { type: 'bar' },
      encoding: {
        y: { field: 'feature', type: 'nominal', sort: features, axis: { ...TITLE_ABOVE, title: 'feature' } },
        x: { field: 'count', type: 'quantitative', aggregate: 'sum', stack: 'zero', axis: { ...COUNT_AXIS, title: 'flagged connections' } },
        color: { field: 'rank', type: 'ordinal', scale: { domain: presentRanks, range: ['#54278f', '#807dba', '#bcbddc', '#e5e5f0'].slice(0, presentRanks.length) }, legend: { title: 'named as', orient: 'bottom-right' } },
        order: { field: 'order', type: 'quantitative' },
        tooltip: [
          { field: 'feature', title: 'feature' },
          { field: 'rank', title: 'as' },
          { field: 'count', title: 'anomalies', format: ',' },
        ],
      },
    },
  };
}

function perFileChart(scope: Scope): Chart {
  const count = countScoredFilesWithRows(scope.db, scope.sensor);
  const perDay = count > MAX_FILE_POINTS;
  const values = perDay
    ? flaggedPerDay(scope.db, scope.sensor).map((r) => ({ time: r.day * 1000, share: r.flagged / r.rows, rows: r.rows, flagged: r.flagged, file: `${r.files} files`, mode: 'per day' }))
    : flaggedPerFile(scope.db, scope.sensor).map((r) => ({
        time: (r.firstTs ?? 0) * 1000,
        share: r.flagged / r.rows,
        rows: r.rows,
        flagged: r.flagged,
        file: r.path,
        mode: r.mode ?? 'unknown',
      }));
  const maxShare = Math.max(0.01, ...values.map((v) => v.share));
  return {
    name: 'per-file-share',
    heading: 'Flagged share per file',
    text: `The share of each scored file's connections that were flagged, placed at the file's first connection${perDay ? ` (with ${formatCount(count)} files, one point per day: that day's files together)` : ''}; point size is the file's row count. In \`per-file\` mode every file flags the same top share by construction, so points sit on one line and a file that strays from it had many tied scores. In \`baseline\` mode the share moves with the traffic: a file far above the rest is an hour the model found unusual as a whole (a flood, a scan, an outage).`,
    spec: {
      title: { text: 'Flagged share per file', subtitle: `${perDay ? 'per day of files' : `${formatCount(count)} scored files`}; point size = connections in the file` },
      width: FULL_WIDTH - 160,
      height: 260,
      data: { values },
      mark: { type: 'point', filled: true, opacity: 0.75 },
      encoding: {
        x: { field: 'time', type: 'temporal', scale: { type: 'utc' }, axis: { title: 'file start (UTC)', format: '%b %d %H:%M', labelOverlap: true } },
        y: { field: 'share', type: 'quantitative', scale: { domain: [0, Math.min(1, maxShare * 1.25)] }, axis: { title: 'flagged (% of file)', format: '.1%' } },
        size: { field: 'rows', type: 'quantitative', scale: { range: [20, 220] }, legend: { title: 'connections', ...COUNT_AXIS } },
        color: { field: 'mode', type: 'nominal', scale: { range: ['#4c78a8', '#e45756', '#54a24b'] }, legend: { title: 'threshold mode' } },
        tooltip: [
          { field: 'file', title: 'file' },
          { field: 'rows', title: 'connections', format: ',' },
          { field: 'flagged', title: 'flagged', format: ',' },
          { field: 'share', title: 'share', format: '.2%' },
        ],
      },
    },
  };
}

/** The store as the report names it: a file relative to here, or the URL without its password. */
function shownStore(target: string): string {
  return isPostgresUrl(target) ? storeName(target) : displayPath(target);
}
