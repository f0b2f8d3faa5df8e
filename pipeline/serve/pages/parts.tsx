import type { Child, PropsWithChildren } from 'hono/jsx';
import type { Severity } from '../../../db/findings.js';
import { bytes as bytesInWords, count as countInWords } from '../../findings/words.js';
import type { ChartSpec } from '../client/chart-spec.js';

// The pieces every page is made of. JSX escapes every value it is given, so text from the network
// (hosts, paths, error messages) can never become markup; the one raw insert is a chart's JSON,
// made safe for a <script> element below.

export type Section = 'overview' | 'findings' | 'anomalies' | 'files' | 'models' | 'hosts';

const NAV: readonly { section: Section; href: string; label: string }[] = [
  { section: 'overview', href: '/', label: 'Overview' },
  { section: 'findings', href: '/findings', label: 'Findings' },
  { section: 'anomalies', href: '/anomalies', label: 'Anomalies' },
  { section: 'files', href: '/files', label: 'Files' },
  { section: 'models', href: '/models', label: 'Models' },
];

export function Layout(props: PropsWithChildren<{ title: string; section?: Section; live?: { url: string; seconds: number } }>) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · zeek-anomaly`}</title>
        <link rel="stylesheet" href="/assets/dashboard.css" />
        <link rel="icon" href="data:," />
      </head>
      <body {...(props.live === undefined ? {} : { 'data-live': props.live.url, 'data-live-seconds': String(props.live.seconds) })}>
        <header class="top">
          <a class="brand" href="/">
            zeek-anomaly
          </a>
          <nav>
            {NAV.map((item) => (
              <a href={item.href} aria-current={item.section === props.section ? 'page' : undefined}>
                {item.label}
              </a>
            ))}
          </nav>
          <form class="host-search" method="get" action="/hosts">
            <input type="search" name="host" placeholder="host address" aria-label="go to a host" required />
          </form>
        </header>
        <main>
          <h1>{props.title}</h1>
          {props.children}
        </main>
        <script src="/assets/echarts.min.js"></script>
        <script type="module" src="/assets/dashboard.js"></script>
      </body>
    </html>
  );
}

/** A chart the browser script draws from the JSON beside it (its `id` + `-data`). */
export function Chart(props: { id: string; spec: ChartSpec; title: string; tall?: boolean }) {
  return (
    <figure class="chart-box">
      <figcaption>{props.title}</figcaption>
      <div class={props.tall === true ? 'chart tall' : 'chart'} id={props.id} data-chart="" role="img" aria-label={props.title}>
        {props.spec.series.every((series) => series.points.length === 0) ? props.spec.empty : ''}
      </div>
      <script type="application/json" id={`${props.id}-data`} dangerouslySetInnerHTML={{ __html: scriptJson(props.spec) }} />
    </figure>
  );
}

/** JSON that can sit inside a <script> element: no `</script>` or `<!--` can close or bend it. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

export function SeverityBadge(props: { severity: Severity }) {
  return <span class={`badge sev-${props.severity}`}>{props.severity}</span>;
}

export function HostLink(props: { host: string | null }) {
  if (props.host === null) return <span class="muted">*</span>;
  return <a href={hostHref(props.host)}>{props.host}</a>;
}

export function hostHref(host: string): string {
  return `/hosts/${encodeURIComponent(host)}`;
}

/** A scrolling box around a wide table, so the page itself never scrolls sideways. */
export function Wide(props: PropsWithChildren) {
  return <div class="wide">{props.children}</div>;
}

export function Empty(props: PropsWithChildren) {
  return <p class="empty">{props.children}</p>;
}

/** A filter's drop-down: "any" (the parameter left out), then each allowed value. */
export function Choice(props: { label: string; name: string; options: readonly string[]; selected: string | undefined }) {
  return (
    <label>
      {props.label}
      <select name={props.name}>
        <option value="">any</option>
        {props.options.map((option) => (
          <option value={option} selected={option === props.selected}>
            {option}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * The sensor filter, shown only when the database holds more than one sensor's files: beside a
 * single sensor it would offer one choice.
 */
export function SensorChoice(props: { sensors: readonly string[]; selected: string | undefined }) {
  return props.sensors.length > 1 ? <Choice label="sensor" name="sensor" options={props.sensors} selected={props.selected} /> : null;
}

/** Definition list rows: a label and its value. */
export function Facts(props: { rows: readonly [string, Child][] }) {
  return (
    <dl class="facts">
      {props.rows.map(([label, value]) => (
        <>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </>
      ))}
    </dl>
  );
}

// ---- formatting: UTC throughout, as Zeek's logs and the CLI have it

/** `2024-04-19 10:00:00`: UTC, to the second (the column header says UTC). */
export function utc(ts: number | null): string {
  if (ts === null) return '–';
  const date = new Date(ts * 1000);
  return Number.isNaN(date.getTime()) ? String(ts) : date.toISOString().slice(0, 19).replace('T', ' ');
}

// Counts and bytes read as the findings' own summaries write them; a dash where the ledger has no value.
export function count(n: number | null): string {
  return n === null ? '–' : countInWords(n);
}

export function bytes(n: number | null): string {
  return n === null ? '–' : bytesInWords(n);
}

/** `3 h 12 min`, `45 s`: the largest two units. */
export function duration(seconds: number | null): string {
  if (seconds === null) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** `/anomalies?host=…&order=score`: a link with only the parameters that are set. */
export function withQuery(path: string, params: Record<string, string | number | boolean | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === '' || value === false) continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text === '' ? path : `${path}?${text}`;
}
