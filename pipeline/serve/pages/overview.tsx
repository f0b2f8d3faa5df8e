import { filesPerHour, findingHeadsSince, lastFileWithStatus, newestScoredTs, scoredPerBin } from '../../../db/dashboard-queries.js';
import { countFiles } from '../../../db/files.js';
import { SEVERITIES } from '../../../db/findings.js';
import { listSensorLeases, type SensorLeaseRow } from '../../../db/leases.js';
import { listModels } from '../../../db/models.js';
import { scoredTotals } from '../../../db/report-queries.js';
import type { ArchiveLag } from '../archive-lag.js';
import type { ChartSpec } from '../client/chart-spec.js';
import type { DashboardDeps } from '../dashboard-deps.js';
import { choiceParam, parseQuery } from '../query-params.js';
import { Chart, count, duration, Layout, utc, withQuery } from './parts.js';

export const OVERVIEW_QUERY = { window: choiceParam(['24h', '7d', '30d']) };

// Findings are fewer than connections: their bars are wider, so a day's handful reads as a bar, not a hair.
const WINDOWS = {
  '24h': { seconds: 86_400, bin: 3600, findingsBin: 3600 },
  '7d': { seconds: 7 * 86_400, bin: 3600, findingsBin: 6 * 3600 },
  '30d': { seconds: 30 * 86_400, bin: 6 * 3600, findingsBin: 86_400 },
} as const;
type WindowName = keyof typeof WINDOWS;

// Findings are a short list per day; this many in one window is already far past what anyone reads.
const MAX_FINDINGS_COUNTED = 50_000;

interface Tile {
  id: string;
  label: string;
  value: string;
  note: string;
  tone: 'ok' | 'warn' | 'bad';
}

interface Overview {
  window: WindowName;
  tiles: Tile[];
  charts: { id: string; title: string; spec: ChartSpec }[];
}

/** What the overview shows, for the page and for its live refresh alike. */
export async function overviewData(deps: DashboardDeps, search: URLSearchParams, now = Date.now()): Promise<Overview> {
  const window = parseQuery(search, OVERVIEW_QUERY).window ?? '7d';
  const { seconds, bin, findingsBin } = WINDOWS[window];
  const { db } = deps;
  // The window ends at the newest connection scored, not at the clock: archives scored late, or a
  // database copied off a sensor, still show their last week.
  const end = newestScoredTs(db) ?? now / 1000;
  const since = end - seconds;

  const scored = scoredPerBin(db, since, bin);
  const findings = findingHeadsSince(db, since, MAX_FINDINGS_COUNTED).filter((f) => deps.allowList.allowing(f) === null);
  const perFile = filesPerHour(db, new Date(now - seconds * 1000).toISOString());
  const files = countFiles(db);
  const totals = scoredTotals(db);
  // One active model per sensor.
  const active = listModels(db).filter((m) => m.active);
  const lastDone = lastFileWithStatus(db, 'done');
  const lastFailed = lastFileWithStatus(db, 'failed');
  const leases = listSensorLeases(db);
  const lag = deps.lag === null ? null : await deps.lag.read();

  const severe = findings.filter((f) => SEVERITIES.indexOf(f.severity) >= SEVERITIES.indexOf('medium')).length;
  const tiles: Tile[] = [
    { id: 'findings', label: `findings, last ${window} of data`, value: count(findings.length), note: `${count(severe)} medium or above`, tone: 'ok' },
    { id: 'flagged', label: 'connections flagged', value: count(totals.flagged), note: `of ${count(totals.rows)} scored`, tone: 'ok' },
    {
      id: 'files',
      label: 'files',
      value: count(files.done),
      note: `scored; ${count(files.failed)} failed, ${count(files.skipped)} duplicates skipped`,
      tone: files.failed > 0 ? 'warn' : 'ok',
    },
    {
      id: 'last-file',
      label: 'last file scored',
      value: lastDone === undefined ? 'none yet' : `${duration((now - Date.parse(lastDone.finishedAt)) / 1000)} ago`,
      note: lastDone === undefined ? 'the service has not scored a file' : `${lastDone.path} (data up to ${utc(lastDone.lastTs)} UTC)`,
      tone: 'ok',
    },
    behindTile(lag, lastDone?.lastTs ?? null),
    scoringTile(leases),
    {
      id: 'model',
      label: active.length > 1 ? 'active models' : 'active model',
      value: active.length > 1 ? `${active.length} sensors` : (active[0]?.version ?? 'none'),
      note:
        active.length > 1
          ? active.map((m) => `${m.sensor}: ${m.version}`).join(', ')
          : active[0] === undefined
            ? 'the service trains one from the archives present'
            : `since ${active[0].createdAt.slice(0, 16).replace('T', ' ')} UTC`,
      tone: active.length === 0 ? 'warn' : 'ok',
    },
    {
      id: 'last-failure',
      label: 'last failed file',
      value: lastFailed === undefined ? 'none' : utc(Date.parse(lastFailed.finishedAt) / 1000),
      note: lastFailed === undefined ? 'no file has failed' : `${lastFailed.path}: ${lastFailed.error ?? ''}`,
      tone: lastFailed === undefined ? 'ok' : 'warn',
    },
  ];

  const types = [...new Set(findings.map((f) => f.type))].sort();
  const charts = [
    {
      id: 'chart-flagged',
      title: 'Connections flagged and scored',
      spec: {
        axis: 'time',
        yName: 'flagged',
        rightYName: 'scored',
        series: [
          { name: 'flagged', tone: 'flagged', points: scored.map((b) => [b.time * 1000, b.flagged] as [number, number]) },
          { name: 'scored', tone: 'scored', as: 'line', rightAxis: true, points: scored.map((b) => [b.time * 1000, b.rows] as [number, number]) },
        ],
        empty: 'no file scored in this window',
      },
    },
    {
      id: 'chart-findings-time',
      title: 'Findings by severity, by when last seen',
      spec: {
        axis: 'time',
        yName: 'findings',
        stacked: true,
        series: SEVERITIES.map((severity) => ({
          name: severity,
          tone: severity,
          points: binned(findings.filter((f) => f.severity === severity).map((f) => f.lastTs), findingsBin),
        })).filter((s) => s.points.length > 0),
        empty: 'no findings in this window',
      },
    },
    {
      id: 'chart-findings-type',
      title: 'Findings by type and severity',
      spec: {
        axis: 'category',
        horizontal: true,
        categories: types,
        yName: 'findings',
        stacked: true,
        series: SEVERITIES.map((severity) => ({
          name: severity,
          tone: severity,
          points: types.map((type, i) => [i, findings.filter((f) => f.type === type && f.severity === severity).length] as [number, number]),
        })).filter((s) => s.points.some(([, n]) => n > 0)),
        empty: 'no findings in this window',
      },
    },
    {
      id: 'chart-files',
      title: `Files handled per hour (by the clock, last ${window})`,
      spec: {
        axis: 'time',
        yName: 'files',
        stacked: true,
        series: (['done', 'skipped', 'failed'] as const).map((status) => ({
          name: status,
          tone: status,
          points: perFile.filter((row) => row.status === status).map((row) => [Date.parse(row.hour), row.files] as [number, number]),
        })),
        empty: `no file handled in the last ${window}`,
      },
    },
  ] satisfies Overview['charts'];
  return { window, tiles, charts };
}

/** The live refresh: each tile's text and tone, each chart's data, by element id. */
export function liveUpdate(overview: Overview): { text: Record<string, string>; tone: Record<string, string>; charts: Record<string, ChartSpec> } {
  return {
    text: Object.fromEntries(overview.tiles.flatMap((t) => [[`tile-${t.id}-value`, t.value], [`tile-${t.id}-note`, t.note]])),
    tone: Object.fromEntries(overview.tiles.map((t) => [`tile-${t.id}`, t.tone])),
    charts: Object.fromEntries(overview.charts.map((c) => [c.id, c.spec])),
  };
}

export function OverviewPage(props: { overview: Overview; liveSeconds: number }) {
  const { overview } = props;
  return (
    <Layout title="Overview" section="overview" live={{ url: withQuery('/api/overview', { window: overview.window }), seconds: props.liveSeconds }}>
      <p class="live-status" id="live-status">
        {`refreshes every ${props.liveSeconds} s · window: `}
        {Object.keys(WINDOWS).map((name) => (
          <>
            {name === overview.window ? <strong>{name}</strong> : <a href={withQuery('/', { window: name })}>{name}</a>}{' '}
          </>
        ))}
      </p>
      <div class="tiles">
        {overview.tiles.map((tile) => (
          <div class="tile" id={`tile-${tile.id}`} data-tone={tile.tone}>
            <div class="label">{tile.label}</div>
            <div class={tile.value.length > 16 ? 'value long' : 'value'} id={`tile-${tile.id}-value`}>
              {tile.value}
            </div>
            <div class="note" id={`tile-${tile.id}-note`}>
              {tile.note}
            </div>
          </div>
        ))}
      </div>
      <div class="charts">
        {overview.charts.map((chart) => (
          <Chart id={chart.id} title={chart.title} spec={chart.spec} />
        ))}
      </div>
      <p class="muted">
        <a href="/findings">All findings →</a> · <a href="/files?status=failed">Failed files →</a>
      </p>
    </Layout>
  );
}

function behindTile(lag: ArchiveLag | null, lastScoredTs: number | null): Tile {
  if (lag === null) return { id: 'behind', label: 'behind the newest archive', value: 'not known', note: 'the dashboard was started without the log directory', tone: 'ok' };
  if (lag.status === 'unreadable') return { id: 'behind', label: 'behind the newest archive', value: 'not known', note: `cannot list the log directory: ${lag.error}`, tone: 'warn' };
  const behind = lag.newest?.end != null && lastScoredTs !== null ? Math.max(0, lag.newest.end - lastScoredTs) : null;
  return {
    id: 'behind',
    label: 'behind the newest archive',
    value: lag.unscored === 0 ? 'up to date' : `${count(lag.unscored)} archive${lag.unscored === 1 ? '' : 's'}`,
    note: `${count(lag.archives)} in the log directory${behind === null || lag.unscored === 0 ? '' : `; ${duration(behind)} of data not yet scored`}`,
    // One archive waiting is the normal moment between rotation and scoring.
    tone: lag.unscored > 2 ? 'warn' : 'ok',
  };
}

/** Which scorer holds each sensor's lease, and on which file: a lease past its expiry means a scorer died. */
function scoringTile(leases: readonly SensorLeaseRow[]): Tile {
  const expired = leases.filter((lease) => lease.expired);
  const describe = (lease: SensorLeaseRow): string =>
    `${lease.sensor}: ${lease.holder}${lease.file === null ? ', between files' : ` on ${lease.file}`}${lease.expired ? ' (expired: its scorer stopped renewing)' : ''}`;
  return {
    id: 'scoring',
    label: 'scoring now',
    value: leases.length === 0 ? 'idle' : leases.length === 1 ? leases[0]!.sensor : `${leases.length} sensors`,
    note: leases.length === 0 ? 'no scorer holds a sensor; each takes one as archives arrive' : leases.map(describe).join('; '),
    tone: expired.length > 0 ? 'warn' : 'ok',
  };
}

/** Epoch-second times counted per bin, as [bin start in ms, count], in time order. */
function binned(times: readonly number[], bin: number): [number, number][] {
  const counts = new Map<number, number>();
  for (const ts of times) {
    const start = Math.floor(ts / bin) * bin;
    counts.set(start, (counts.get(start) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => a - b).map(([start, n]) => [start * 1000, n]);
}
