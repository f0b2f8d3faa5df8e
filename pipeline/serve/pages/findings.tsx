import { queryFindings, SEVERITIES, type StoredFinding } from '../../../db/findings.js';
import { sensorNames } from '../../../db/sensors.js';
import { activeSuppressions } from '../../../db/suppressions.js';
import { TRIAGE_STATUSES } from '../../../db/triage-status.js';
import { SuppressionSet } from '../../findings/suppression-set.js';
import type { DashboardDeps } from '../dashboard-deps.js';
import { choiceParam, flagParam, hostParam, parseQuery, sensorParam, timeParam, wholeParam } from '../query-params.js';
import { Choice, count, Empty, HostLink, Layout, SensorChoice, SeverityBadge, utc, Wide, withQuery } from './parts.js';

/** The findings list's query string; the types to choose from are handed in (the registry lives with the detectors). */
function findingsQuery(findingTypes: readonly string[]) {
  return {
    since: timeParam,
    until: timeParam,
    host: hostParam,
    sensor: sensorParam,
    type: choiceParam(findingTypes),
    status: choiceParam(TRIAGE_STATUSES),
    severity: choiceParam(SEVERITIES),
    all: flagParam,
    page: wholeParam(1),
  };
}

const PAGE_SIZE = 50;

export function findingsPage(deps: DashboardDeps, search: URLSearchParams) {
  const query = parseQuery(search, findingsQuery(deps.findingTypes));
  // Findings are few (a short list a day): every match is read, the allowed ones dropped, and the page cut from the rest.
  const matching = queryFindings(deps.db, {
    since: query.since,
    until: query.until,
    host: query.host,
    type: query.type,
    minSeverity: query.severity,
    sensor: query.sensor,
    statuses: query.status === undefined ? undefined : [query.status],
  });
  const sensors = sensorNames(deps.db);
  // Read at each request: a suppression made or revoked from the CLI counts at once.
  const suppressions = new SuppressionSet(activeSuppressions(deps.db, new Date().toISOString()));
  const allowed = query.all === undefined ? matching.filter((f) => deps.allowList.allowing(f) === null) : matching;
  const shown = query.all === undefined ? allowed.filter((f) => suppressions.covering(f, f.sensor) === null) : allowed;
  const hidden = matching.length - allowed.length;
  const suppressed = allowed.length - shown.length;
  const page = query.page ?? 1;
  const rows = shown.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  const link = (changes: Record<string, string | number | undefined>): string => withQuery('/findings', { ...Object.fromEntries(search), ...changes });
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));

  return (
    <Layout title="Findings" section="findings">
      <form class="filters" method="get" action="/findings">
        <label>
          last seen from (UTC)
          <input type="datetime-local" name="since" value={search.get('since') ?? ''} />
        </label>
        <label>
          first seen before (UTC)
          <input type="datetime-local" name="until" value={search.get('until') ?? ''} />
        </label>
        <label>
          host
          <input type="text" name="host" value={query.host ?? ''} placeholder="either end" />
        </label>
        <SensorChoice sensors={sensors} selected={query.sensor} />
        <Choice label="type" name="type" options={deps.findingTypes} selected={query.type} />
        <Choice label="severity at least" name="severity" options={SEVERITIES} selected={query.severity} />
        <Choice label="status" name="status" options={TRIAGE_STATUSES} selected={query.status} />
        <label class="check">
          <input type="checkbox" name="all" value="1" checked={query.all !== undefined} /> include allow-listed and suppressed
        </label>
        <button type="submit">Filter</button>
        <a href="/findings">clear</a>
      </form>
      <p class="muted">
        {`${count(shown.length)} finding${shown.length === 1 ? '' : 's'}, highest score first`}
        {hidden > 0 ? `; ${count(hidden)} hidden by the allow-list (findings.allow)` : ''}
        {suppressed > 0 ? `; ${count(suppressed)} hidden by suppressions` : ''}
      </p>
      {rows.length === 0 ? <Empty>No findings match.</Empty> : <FindingsTable rows={rows} showSensor={sensors.length > 1} />}
      {pages > 1 ? (
        <div class="pager">
          {page > 1 ? <a href={link({ page: page - 1 })}>← previous</a> : null}
          <span>{`page ${page} of ${pages}`}</span>
          {page < pages ? <a href={link({ page: page + 1 })}>next →</a> : null}
        </div>
      ) : null}
    </Layout>
  );
}

/** `showSensor`: a column for each finding's sensor, when the database holds more than one. */
export function FindingsTable(props: { rows: readonly StoredFinding[]; showSensor: boolean }) {
  return (
    <Wide>
      <table class="findings">
        <thead>
          <tr>
            <th class="num">score</th>
            <th>severity</th>
            <th>status</th>
            <th>type</th>
            {props.showSensor ? <th>sensor</th> : null}
            <th>source</th>
            <th>destination</th>
            <th>last seen (UTC)</th>
            <th class="num">conns</th>
            <th>evidence</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((f) => (
            <tr>
              <td class="num">
                <a href={`/findings/${f.id}`}>{f.score.toFixed(1)}</a>
              </td>
              <td>
                <SeverityBadge severity={f.severity} />
              </td>
              <td class="nowrap" title={f.statusBy === null ? undefined : `by ${f.statusBy} at ${f.statusAt ?? '?'}`}>
                {f.status}
              </td>
              <td class="nowrap">
                <a href={`/findings/${f.id}`}>{f.type}</a>
              </td>
              {props.showSensor ? <td class="nowrap">{f.sensor}</td> : null}
              <td class="nowrap">
                <HostLink host={f.src} />
              </td>
              <td class="nowrap">
                <HostLink host={f.dst} />
                {f.port === null ? '' : `:${f.port}${f.proto === null ? '' : `/${f.proto}`}`}
              </td>
              <td class="nowrap">{utc(f.lastTs)}</td>
              <td class="num">{count(f.connections)}</td>
              <td>{f.summary}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Wide>
  );
}
