import { join, relative } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { CONN_FIELDS, type ConnRecord } from '../pipeline/read/conn-record.js';
import { ownString } from '../pipeline/read/own-string.js';
import { DailyTimeBins, LinearHistogram, LogHistogram, MissingShare, RunningCorrelation, TopK, type HistogramBin, type TopEntry } from './aggregate.js';
import { COUNT_AXIS, FULL_WIDTH, TITLE_ABOVE, formatCount, powersOfTen, type ConcatView, formatShare, renderCharts, spansOrders, type Chart } from './charts.js';
import { writeReport } from './report.js';
import { streamRecords, utcTime, type NotebookBase, type NotebookResult } from './source.js';

/**
 * `explore`: what the data looks like, before any model. One pass over the logs feeds every
 * aggregate; the rows themselves are never kept.
 */
export interface ExploreOptions extends NotebookBase {
  logs: string[];
  since?: Date;
  until?: Date;
}

type CountColumn = 'duration' | 'orig_bytes' | 'resp_bytes' | 'missed_bytes' | 'orig_pkts' | 'resp_pkts' | 'orig_ip_bytes' | 'resp_ip_bytes';
type PortColumn = 'id.orig_p' | 'id.resp_p';

/** The numeric columns, their unit, and what they hold, in the order the charts show them. */
const COUNT_COLUMNS: readonly { name: CountColumn; unit: string; meaning: string }[] = [
  { name: 'duration', unit: 'seconds', meaning: 'how long the connection lasted' },
  { name: 'orig_bytes', unit: 'bytes', meaning: 'payload bytes the originator sent' },
  { name: 'resp_bytes', unit: 'bytes', meaning: 'payload bytes the responder sent' },
  { name: 'missed_bytes', unit: 'bytes', meaning: 'bytes lost in content gaps (capture loss)' },
  { name: 'orig_pkts', unit: 'packets', meaning: 'packets the originator sent' },
  { name: 'resp_pkts', unit: 'packets', meaning: 'packets the responder sent' },
  { name: 'orig_ip_bytes', unit: 'bytes', meaning: 'IP-level bytes the originator sent (headers included)' },
  { name: 'resp_ip_bytes', unit: 'bytes', meaning: 'IP-level bytes the responder sent (headers included)' },
];
const PORT_COLUMNS: readonly { name: PortColumn; meaning: string }[] = [
  { name: 'id.orig_p', meaning: 'source port' },
  { name: 'id.resp_p', meaning: 'destination port' },
];
const CORRELATED = [...COUNT_COLUMNS.map((c) => c.name), ...PORT_COLUMNS.map((c) => c.name)];
const IP_BYTES = new Set<string>(['orig_ip_bytes', 'resp_ip_bytes']);

// Space-Saving counters per dimension: exact below this many distinct values, bounded above it.
const TOP_CAPACITY = 2000;
const TOP_SHOWN = 15;
const SLOT_SECONDS = 600;
// More days than this make the per-day panels unreadable: the last ones are shown.
const MAX_DAY_PANELS = 28;

/** What Zeek's conn_state codes mean (from Zeek's conn.log documentation). */
const CONN_STATES: Readonly<Record<string, string>> = {
  S0: 'attempt, no reply',
  S1: 'established, not closed',
  SF: 'normal open and close',
  REJ: 'attempt rejected',
  S2: 'established, originator closed, no reply',
  S3: 'established, responder closed, no reply',
  RSTO: 'originator aborted (RST)',
  RSTR: 'responder aborted (RST)',
  RSTOS0: 'originator SYN then RST, no SYN-ACK',
  RSTRH: 'responder SYN-ACK then RST, no SYN',
  SH: 'originator SYN then FIN, no SYN-ACK',
  SHR: 'responder SYN-ACK then FIN, no SYN',
  OTH: 'no SYN seen, midstream traffic',
};

const UNSET = '(unset)';


class ExploreAggregates {
  readonly correlation = new RunningCorrelation(CORRELATED);
  readonly logHistograms = COUNT_COLUMNS.map(() => new LogHistogram());
  readonly portHistograms = PORT_COLUMNS.map(() => new LinearHistogram(0, 65536, 64));
  readonly protocols = new TopK(TOP_CAPACITY, ownString);
  readonly services = new TopK(TOP_CAPACITY, ownString);
  readonly states = new TopK(TOP_CAPACITY, ownString);
  readonly ports = new TopK(TOP_CAPACITY, ownString);
  readonly sources = new TopK(TOP_CAPACITY, ownString);
  readonly destinations = new TopK(TOP_CAPACITY, ownString);
  readonly time = new DailyTimeBins(SLOT_SECONDS);
  readonly missing = new MissingShare(CONN_FIELDS.map((f) => f.name));
  firstTs = Infinity;
  lastTs = -Infinity;
  private readonly values: (number | null)[] = new Array<number | null>(CORRELATED.length).fill(null);

  add(record: ConnRecord): void {
    const values = this.values;
    COUNT_COLUMNS.forEach((column, i) => {
      const v = record[column.name];
      this.logHistograms[i]!.add(v);
      values[i] = v === null || v < 0 ? null : Math.log1p(v);
    });
    PORT_COLUMNS.forEach((column, i) => {
      const v = record[column.name];
      this.portHistograms[i]!.add(v);
      values[COUNT_COLUMNS.length + i] = v;
    });
    this.correlation.add(values);
    this.protocols.add(record.proto);
    this.services.add(record.service ?? UNSET);
    this.states.add(record.conn_state ?? UNSET);
    this.ports.add(`${record['id.resp_p']}/${record.proto}`);
    this.sources.add(record['id.orig_h']);
    this.destinations.add(record['id.resp_h']);
    this.time.add(record.ts);
    this.missing.addRow((i) => record[CONN_FIELDS[i]!.name] === null);
    if (record.ts < this.firstTs) this.firstTs = record.ts;
    if (record.ts > this.lastTs) this.lastTs = record.ts;
  }
}

export async function exploreNotebook(options: ExploreOptions): Promise<NotebookResult> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const agg = new ExploreAggregates();
  const read = await streamRecords(options.logs, { since: options.since, until: options.until, badLines: options.badLines, log }, (r) => agg.add(r));
  if (read.rows === 0) {
    throw new Error(
      read.files.length === 0 ? `no conn logs found in ${options.logs.join(', ')}` : `the ${read.files.length} conn logs found hold no rows${options.since || options.until ? ' in the time range asked for' : ''}`,
    );
  }
  const readSeconds = (performance.now() - started) / 1000;
  log(`aggregated ${formatCount(read.rows)} rows in ${readSeconds.toFixed(1)} s; rendering charts`);

  const rows = read.rows;
  const charts: Chart[] = [
    correlationChart(agg, rows, false),
    correlationChart(agg, rows, true),
    histogramsChart(agg),
    overTimeChart(agg),
    topChart('top-protocols', 'Top transport protocols', 'protocol (proto)', agg.protocols, rows, {
      text: 'Connections per transport protocol. A sudden share of `icmp` or `udp` on a network that is mostly `tcp` is worth a look (scans, floods, tunnels).',
    }),
    topChart('top-services', 'Top services (application protocols)', 'service (Zeek protocol detection)', agg.services, rows, {
      text: "The application protocol Zeek recognised from the payload, whatever the port. `(unset)` means Zeek saw no payload it could identify: on internet-facing sensors it is mostly scans and failed attempts.",
    }),
    topChart('top-conn-states', 'Top connection states', 'conn_state (meaning)', agg.states, rows, {
      label: (key) => (CONN_STATES[key] ? `${key} — ${CONN_STATES[key]}` : key),
      text: 'How connections began and ended, from the TCP flags Zeek saw. Many `S0` (no reply) and `REJ` (rejected) are the signature of scanning; `SF` is a normal open and close.',
    }),
    topChart('top-destination-ports', 'Top destination ports', 'destination port / protocol', agg.ports, rows, {
      text: 'The responder ports connections went to. On a honeypot or an exposed host these are the services being probed (telnet 23, SSH 22, SMB 445, RDP 3389, …).',
    }),
    topChart('top-sources', 'Top talkers: source hosts', 'originator address (id.orig_h)', agg.sources, rows, {
      text: 'Hosts that opened the most connections. A single source far above the rest is typically a scanner, a crawler, or a misbehaving client.',
    }),
    topChart('top-destinations', 'Top talkers: destination hosts', 'responder address (id.resp_h)', agg.destinations, rows, {
      text: 'Hosts that received the most connections: your busiest servers, or the targets of a scan or flood.',
    }),
    missingChart(agg),
  ];

  const chartsDir = join(options.out, 'charts');
  const rendered = await renderCharts(charts, chartsDir);
  const warnings: string[] = [];
  if (read.failed.length > 0) {
    warnings.push(
      `${read.failed.length} of ${read.files.length} files could not be read and were skipped (rows read before the error are counted): ${read.failed
        .slice(0, 5)
        .map((f) => f.error)
        .join('; ')}${read.failed.length > 5 ? '; …' : ''}`,
    );
  }
  const days = agg.time.dayNumbers();
  const report = await writeReport(options.out, {
    title: 'Zeek conn.log exploration',
    lead: `The connections in ${options.logs.map((l) => `\`${l}\``).join(', ')}${options.since || options.until ? ` from ${options.since?.toISOString() ?? 'the start'} to ${options.until?.toISOString() ?? 'the end'}` : ''}: their numeric features, how they correlate, when they happen, what is most common, and which columns are often unset. Every figure is computed in one streaming pass; the rows are not kept. Times are UTC.`,
    facts: [
      ['Connections', formatCount(rows)],
      ['Files', `${formatCount(read.filesRead)} read${read.failed.length > 0 ? `, ${read.failed.length} failed` : ''}${read.ignored > 0 ? `, ${read.ignored} other files ignored` : ''}`],
      ['Time range', `${utcTime(agg.firstTs)} – ${utcTime(agg.lastTs)} (${days.length} day${days.length === 1 ? '' : 's'} with connections)`],
      ['Distinct values', `${distinct(agg.sources)} source hosts, ${distinct(agg.destinations)} destination hosts, ${distinct(agg.ports)} destination ports`],
      ['Read in', `${readSeconds.toFixed(1)} s`],
    ],
    warnings,
    charts: rendered,
    command: options.command,
    chartsFolder: relative(options.out, chartsDir),
  });
  return { name: 'explore', report, chartsDir, charts: rendered, warnings };
}

function distinct(top: TopK): string {
  return top.exact ? formatCount(top.distinctKept) : `over ${formatCount(top.distinctKept)}`;
}

function correlationChart(agg: ExploreAggregates, rows: number, withoutIpBytes: boolean): Chart {
  const names = CORRELATED.filter((n) => !(withoutIpBytes && IP_BYTES.has(n)));
  const cells: { a: string; b: string; r: number | null; n: number }[] = [];
  for (const a of names) {
    for (const b of names) {
      const i = CORRELATED.indexOf(a);
      const j = CORRELATED.indexOf(b);
      const r = agg.correlation.correlation(i, j);
      cells.push({ a, b, r: Number.isFinite(r) ? Number(r.toFixed(4)) : null, n: agg.correlation.count(i, j) });
    }
  }
  const cell = 62;
  const size = cell * names.length;
  const spec: TopLevelSpec = {
    title: {
      text: withoutIpBytes ? 'Correlation of the numeric features, without orig_ip_bytes / resp_ip_bytes' : 'Correlation of the numeric features',
      subtitle: [`Pearson r over ${formatCount(rows)} connections (each pair over the rows where both are set)`, 'counts and durations as log(1 + x), ports as numbers'],
    },
    data: { values: cells },
    width: size,
    height: size,
    transform: [{ calculate: "datum.r === null ? 'n/a' : format(datum.r, '.2f')", as: 'label' }],
    encoding: {
      x: { field: 'a', type: 'nominal', sort: names, title: null, axis: { labelAngle: -35, labelFontSize: 12, orient: 'bottom' } },
      y: { field: 'b', type: 'nominal', sort: names, title: null, axis: { labelFontSize: 12 } },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
        encoding: {
          color: {
            condition: { test: 'datum.r === null', value: '#e0e0e0' },
            field: 'r',
            type: 'quantitative',
            scale: { domain: [-1, 1], scheme: 'redblue', reverse: true },
            legend: { title: 'Pearson r', direction: 'vertical', gradientLength: Math.min(size, 300) },
          },
          tooltip: [
            { field: 'a', title: 'feature' },
            { field: 'b', title: 'with' },
            { field: 'r', title: 'r', format: '.3f' },
            { field: 'n', title: 'rows', format: ',' },
          ],
        },
      },
      {
        mark: { type: 'text', fontSize: 12 },
        encoding: {
          text: { field: 'label' },
          color: { condition: { test: 'datum.r !== null && abs(datum.r) > 0.6', value: 'white' }, value: '#222' },
        },
      },
    ],
  };
  return {
    name: withoutIpBytes ? 'correlation-without-ip-bytes' : 'correlation',
    heading: withoutIpBytes ? 'Correlation without orig_ip_bytes and resp_ip_bytes' : 'Correlation of the numeric features',
    text: withoutIpBytes
      ? 'The same matrix with the IP-level byte counts left out. `orig_ip_bytes` and `resp_ip_bytes` are the payload bytes plus about 40 bytes of headers per packet, so they mostly repeat `*_bytes` and `*_pkts`; without them the remaining relationships are easier to read. (The values are the same as above: each pair is computed on its own.)'
      : 'How strongly each pair of numeric columns moves together, from −1 (one rises as the other falls) through 0 (unrelated) to +1 (they rise together). Counts and durations are compared as log(1 + x), which is how the model sees them, so a few huge transfers do not decide the figure. Strongly correlated columns carry the same information twice. `n/a` marks a column that is constant (or unset) in these logs.',
    spec,
  };
}

function histogramsChart(agg: ExploreAggregates): Chart {
  const panels: ConcatView[] = [];
  COUNT_COLUMNS.forEach((column, i) => {
    const h = agg.logHistograms[i]!;
    const bins = h.bins();
    const logY = spansOrders(bins.map((b) => b.count));
    const notShown = [
      h.zeros > 0 ? `${formatShare(h.zeros / h.total)} are 0` : '',
      h.below > 0 ? `${formatShare(h.below / h.total)} below 1e-6` : '',
      h.unset > 0 ? `${formatShare(h.unset / (h.total + h.unset))} unset` : '',
    ].filter((s) => s !== '');
    panels.push(
      histogramPanel(column.name, [column.meaning, notShown.length > 0 ? `not drawn: ${notShown.join(', ')}` : 'every value is drawn'], bins, {
        xTitle: `${column.name} (${column.unit}, log scale)`,
        logX: true,
        logY,
        xFormat: column.unit === 'seconds' ? 'duration' : 'si',
      }),
    );
  });
  PORT_COLUMNS.forEach((column, i) => {
    const h = agg.portHistograms[i]!;
    const bins = h.bins();
    panels.push(
      histogramPanel(column.name, [column.meaning, 'bins of 1,024 ports'], bins, {
        xTitle: `${column.name} (port number)`,
        logX: false,
        logY: spansOrders(bins.map((b) => b.count)),
        xFormat: 'plain',
      }),
    );
  });
  return {
    name: 'histograms',
    heading: 'Distributions of the numeric features',
    text: 'How the values of each numeric column are spread. Counts and durations span many orders of magnitude, so their x axes are logarithmic (each bar is one fifth of a power of ten) and zeros, which a log axis cannot place, are given in the panel subtitle instead. Where the bar heights also span orders of magnitude the count axis is logarithmic too, so rare values stay visible: read those bars by their axis labels, not by their length.\n\nA spike at one value (a fixed-size probe, a beacon) stands out as a single tall bar; ephemeral source ports sit high in the port range, service ports low.',
    spec: {
      title: { text: 'Distributions of the numeric features', subtitle: 'connections per bin; log axes where values or counts span orders of magnitude' },
      columns: 2,
      concat: panels,
      spacing: 28,
    },
  };
}

function histogramPanel(
  name: string,
  subtitle: string[],
  bins: HistogramBin[],
  how: { xTitle: string; logX: boolean; logY: boolean; xFormat: 'si' | 'duration' | 'plain' },
): ConcatView {
  const values = bins.filter((b) => !how.logY || b.count > 0);
  const labelExpr =
    how.xFormat === 'duration'
      ? "datum.value >= 1 ? format(datum.value, '~s') + ' s' : datum.value >= 0.001 ? format(datum.value * 1000, '~g') + ' ms' : format(datum.value * 1e6, '~g') + ' µs'"
      : how.xFormat === 'si'
        ? "format(datum.value, '~s')"
        : "format(datum.value, 'd')";
  // A log axis labels only powers of ten (vega's own log ticks label 2, 3, … 9 too, which crowd).
  const xTicks = how.logX ? powersOfTen(values[0]?.lo ?? 1, values[values.length - 1]?.hi ?? 10) : [0, 8192, 16384, 24576, 32768, 40960, 49152, 57344, 65536];
  const maxCount = Math.max(1, ...values.map((b) => b.count));
  // Bars start at the foot of the count axis: 0, or half a connection on a log axis (which has no 0).
  const foot = how.logY ? 0.5 : 0;
  return {
    title: { text: name, subtitle, fontSize: 14, subtitleFontSize: 12, limit: 440 },
    width: 440,
    height: 150,
    data: { values },
    mark: { type: 'bar', orient: 'vertical', color: '#4c78a8', stroke: 'white', strokeWidth: 0.4 },
    encoding: {
      x: {
        field: 'lo',
        type: 'quantitative',
        scale: how.logX ? { type: 'log', domain: [xTicks[0]!, xTicks[xTicks.length - 1]!] } : { domain: [0, 65536], nice: false },
        axis: { title: how.xTitle, labelExpr, values: xTicks, labelOverlap: true, grid: false },
      },
      x2: { field: 'hi' },
      y: {
        field: 'count',
        type: 'quantitative',
        scale: how.logY ? { type: 'log', domain: [foot, maxCount * 1.5], nice: false } : { domain: [0, maxCount * 1.05], nice: true },
        axis: {
          ...COUNT_AXIS,
          title: how.logY ? 'connections (log)' : 'connections',
          ...(how.logY ? { values: powersOfTen(1, maxCount).filter((v) => v <= maxCount * 1.5) } : { tickCount: 4 }),
        },
      },
      y2: { datum: foot },
      tooltip: [
        { field: 'lo', title: 'from', format: '~g' },
        { field: 'hi', title: 'to', format: '~g' },
        { field: 'count', title: 'connections', format: ',' },
      ],
    },
  };
}

function overTimeChart(agg: ExploreAggregates): Chart {
  const allDays = agg.time.dayNumbers();
  const days = allDays.slice(-MAX_DAY_PANELS);
  const values: { day: string; hour: number; count: number }[] = [];
  for (const day of days) {
    const label = `${new Date(day * 86_400_000).toISOString().slice(0, 10)} (${formatCount(agg.time.total(day))})`;
    agg.time.slots(day).forEach((count, slot) => values.push({ day: label, hour: (slot * SLOT_SECONDS) / 3600, count }));
  }
  const slotMinutes = SLOT_SECONDS / 60;
  const shownNote = allDays.length > days.length ? `; the last ${days.length} of ${allDays.length} days` : '';
  const perRow = days.length === 1 ? 1 : 2;
  return {
    name: 'connections-over-time',
    heading: 'Connections over time, one panel per day',
    text: `Connections started in each ${slotMinutes}-minute slot of the day (by \`ts\`, the connection's start, in UTC), one panel per day with its total in the header; all panels share the same axes, so days compare directly. A daily rhythm is human activity; a flat floor is automated traffic; a spike or a plateau that starts at an odd hour is a scan, a flood, or a new job.${allDays.length > days.length ? ` Only the last ${days.length} of the ${allDays.length} days with connections are shown.` : ''}`,
    spec: {
      title: { text: 'Connections over time (UTC)', subtitle: `connections started per ${slotMinutes} minutes, one panel per day${shownNote}` },
      data: { values },
      columns: perRow,
      facet: { field: 'day', type: 'ordinal', title: null, header: { labelFontSize: 13, labelFontWeight: 'bold', labelPadding: 4 } },
      spacing: { row: 14, column: 28 },
      spec: {
        width: perRow === 1 ? FULL_WIDTH : 440,
        height: 140,
        mark: { type: 'area', line: { color: '#2f5f8f', strokeWidth: 1.2 }, color: '#9ec3e6', interpolate: 'step-after' },
        encoding: {
          x: { field: 'hour', type: 'quantitative', scale: { domain: [0, 24], nice: false }, axis: { values: [0, 3, 6, 9, 12, 15, 18, 21, 24], title: 'hour of day (UTC)' } },
          y: { field: 'count', type: 'quantitative', axis: { ...COUNT_AXIS, title: `connections / ${slotMinutes} min`, tickCount: 3 } },
        },
      },
    },
  };
}

function topChart(
  name: string,
  heading: string,
  axisTitle: string,
  top: TopK,
  rows: number,
  how: { text: string; label?: (key: string) => string },
): Chart {
  const entries: TopEntry[] = top.top(TOP_SHOWN);
  const values = entries.map((e) => ({
    key: how.label ? how.label(e.key) : e.key,
    count: e.count,
    label: `${formatCount(e.count)} (${formatShare(e.count / rows)})${e.error > 0 ? ` ±${formatCount(e.error)}` : ''}`,
  }));
  const shownShare = entries.reduce((sum, e) => sum + e.count, 0) / rows;
  const subtitle = [
    `${entries.length < TOP_SHOWN ? `all ${entries.length} values` : `the ${TOP_SHOWN} most frequent of ${top.exact ? formatCount(top.distinctKept) : `more than ${formatCount(top.distinctKept)}`} values`}, covering ${formatShare(Math.min(1, shownShare))} of ${formatCount(rows)} connections`,
    ...(top.exact ? [] : ['counts are upper bounds: the true count is within the ± shown (bounded-memory counting)']),
  ];
  const height = Math.max(60, values.length * 24);
  return {
    name,
    heading,
    text: how.text,
    spec: {
      title: { text: heading, subtitle },
      data: { values },
      width: 640,
      height,
      encoding: {
        y: { field: 'key', type: 'nominal', sort: null, axis: { ...TITLE_ABOVE, title: axisTitle, labelLimit: 480 } },
        x: { field: 'count', type: 'quantitative', axis: { ...COUNT_AXIS, title: 'connections' }, scale: { domainMax: Math.max(1, ...values.map((v) => v.count)) * 1.3 } },
      },
      layer: [
        { mark: { type: 'bar', color: '#4c78a8' } },
        { mark: { type: 'text', align: 'left', dx: 4, fontSize: 12 }, encoding: { text: { field: 'label' } } },
      ],
    },
  };
}

function missingChart(agg: ExploreAggregates): Chart {
  const values = CONN_FIELDS.map((field, i) => {
    const share = agg.missing.share(i);
    return { column: field.name, share, label: `${formatShare(share)}${field.required ? ' (required)' : ''}` };
  });
  return {
    name: 'unset-share',
    heading: 'Unset values per column',
    text: "The share of connections where each conn.log column is unset: Zeek's `-`, a key missing from a JSON line, or a column the file does not have at all (older Zeek versions lack `ip_proto`, for one). Byte and duration columns are unset when Zeek saw no payload exchange (a SYN with no answer), so a high share there is normal for scanned networks; the model fills unset values in its own way, and this chart shows how often it must.",
    spec: {
      title: { text: 'Unset values per column', subtitle: `share of ${formatCount(agg.missing.rows)} connections where the column is unset or absent` },
      data: { values },
      width: 640,
      height: values.length * 22,
      encoding: {
        y: { field: 'column', type: 'nominal', sort: null, axis: { ...TITLE_ABOVE, title: 'conn.log column' } },
        x: { field: 'share', type: 'quantitative', scale: { domain: [0, 1.15] }, axis: { title: 'unset (% of connections)', format: '.0%', values: [0, 0.25, 0.5, 0.75, 1] } },
      },
      layer: [
        { mark: { type: 'bar', color: '#e45756' } },
        { mark: { type: 'text', align: 'left', dx: 4, fontSize: 12 }, encoding: { text: { field: 'label' } } },
      ],
    },
  };
}
