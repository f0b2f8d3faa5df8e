import { countAnomalies, queryAnomalies, type AnomalyQuery, type StoredAnomalyRow } from '../../../db/anomalies.js';
import { ANOMALY_RECORD_KEYS, anomalyCsvCells, formatCsv, significant, why } from '../../../db/export-format.js';
import { sensorNames } from '../../../db/sensors.js';
import type { DashboardDeps } from '../dashboard-deps.js';
import { choiceParam, cursorParam, hostParam, parseQuery, scoreParam, sensorParam, timeParam, wholeParam } from '../query-params.js';
import { bytes, count, Empty, HostLink, Layout, SensorChoice, utc, Wide, withQuery } from './parts.js';

export const ANOMALIES_QUERY = {
  since: timeParam,
  until: timeParam,
  host: hostParam,
  sensor: sensorParam,
  minScore: scoreParam,
  file: wholeParam(1),
  order: choiceParam(['ts', 'score']),
  after: cursorParam,
};

const PAGE_SIZE = 100;
// A download is read and written in batches of this many rows, each its own short read: memory
// stays flat however many rows match, and no read transaction is held open across the download.
const CSV_BATCH = 5000;

type Filters = Omit<AnomalyQuery, 'limit' | 'after'>;

function filtersOf(search: URLSearchParams): { filters: Filters; after: AnomalyQuery['after'] } {
  const query = parseQuery(search, ANOMALIES_QUERY);
  return {
    filters: { since: query.since, until: query.until, host: query.host, sensor: query.sensor, minScore: query.minScore, fileId: query.file, order: query.order ?? 'ts' },
    after: query.after,
  };
}

export function anomaliesPage(deps: DashboardDeps, search: URLSearchParams) {
  const { filters, after } = filtersOf(search);
  // One row more than the page: whether there is a next page, without counting them all.
  const rows = queryAnomalies(deps.db, { ...filters, after, limit: PAGE_SIZE + 1 });
  const page = rows.slice(0, PAGE_SIZE);
  const last = page.at(-1);
  const plain = Object.fromEntries([...search].filter(([key]) => key !== 'after'));
  const next = rows.length > PAGE_SIZE && last !== undefined ? withQuery('/anomalies', { ...plain, after: `${filters.order === 'score' ? last.score : last.ts}_${last.id}` }) : null;
  const order = filters.order ?? 'ts';
  const sensors = sensorNames(deps.db);

  return (
    <Layout title="Anomalies" section="anomalies">
      <form class="filters" method="get" action="/anomalies">
        <label>
          from (UTC)
          <input type="datetime-local" name="since" value={search.get('since') ?? ''} />
        </label>
        <label>
          before (UTC)
          <input type="datetime-local" name="until" value={search.get('until') ?? ''} />
        </label>
        <label>
          host
          <input type="text" name="host" value={filters.host ?? ''} placeholder="either end" />
        </label>
        <SensorChoice sensors={sensors} selected={filters.sensor} />
        <label>
          score at least
          <input type="number" name="minScore" step="any" min="0" value={search.get('minScore') ?? ''} />
        </label>
        <label>
          sort
          <select name="order">
            <option value="ts" selected={order === 'ts'}>
              newest first
            </option>
            <option value="score" selected={order === 'score'}>
              highest score first
            </option>
          </select>
        </label>
        {filters.fileId === undefined ? null : <input type="hidden" name="file" value={String(filters.fileId)} />}
        <button type="submit">Filter</button>
        <a href="/anomalies">clear</a>
        <a class="button" href={withQuery('/anomalies.csv', plain)} download="anomalies.csv">
          Download CSV
        </a>
      </form>
      <p class="muted">
        {filters.fileId === undefined ? '' : `file ${filters.fileId} only · `}
        {`${count(countAnomalies(deps.db))} flagged connections stored; ${order === 'ts' ? 'newest' : 'highest score'} first, ${PAGE_SIZE} a page`}
      </p>
      {page.length === 0 ? <Empty>No flagged connections match.</Empty> : <AnomaliesTable rows={page} showSensor={sensors.length > 1} />}
      <div class="pager">
        {after === undefined ? null : <a href={withQuery('/anomalies', plain)}>⇤ first page</a>}
        {next === null ? <span class="muted">no more rows</span> : <a href={next}>next page →</a>}
      </div>
    </Layout>
  );
}

/** `showSensor`: a column for each row's sensor, when the database holds more than one. */
export function AnomaliesTable(props: { rows: readonly StoredAnomalyRow[]; showSensor: boolean }) {
  return (
    <Wide>
      <table class="anomalies">
        <thead>
          <tr>
            <th>time (UTC)</th>
            {props.showSensor ? <th>sensor</th> : null}
            <th>source</th>
            <th>destination</th>
            <th>proto/service</th>
            <th>state</th>
            <th class="num">bytes out/in</th>
            <th class="num">score</th>
            <th>why flagged</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((a) => (
            <tr>
              <td class="nowrap">{utc(a.ts)}</td>
              {props.showSensor ? <td class="nowrap">{a.sensor}</td> : null}
              <td class="nowrap">
                <HostLink host={a.origH} />
                {`:${a.origP}`}
              </td>
              <td class="nowrap">
                <HostLink host={a.respH} />
                {`:${a.respP}`}
              </td>
              <td>{a.service === null ? a.proto : `${a.proto}/${a.service}`}</td>
              <td>{a.connState ?? '–'}</td>
              <td class="num">{`${bytes(a.origBytes)} / ${bytes(a.respBytes)}`}</td>
              <td class="num" title={`threshold ${significant(a.threshold)}`}>
                {significant(a.score)}
              </td>
              <td>
                {why(a.explanation)}
                {a.explanation
                  .filter((f) => f.text !== undefined)
                  .slice(0, 2)
                  .map((f) => (
                    <div class="muted">{f.text}</div>
                  ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Wide>
  );
}

/** GET /anomalies.csv: every row that matches the page's filters (not just one page), as the CLI's `--format csv` writes them. */
export function anomaliesCsv(deps: DashboardDeps, search: URLSearchParams): ReadableStream<Uint8Array> {
  const { filters } = filtersOf(search);
  const encoder = new TextEncoder();
  let after: AnomalyQuery['after'];
  let first = true;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const rows = queryAnomalies(deps.db, { ...filters, after, limit: CSV_BATCH });
      controller.enqueue(encoder.encode(formatCsv(first ? ANOMALY_RECORD_KEYS : null, rows.map(anomalyCsvCells))));
      first = false;
      const last = rows.at(-1);
      if (rows.length < CSV_BATCH || last === undefined) controller.close();
      else after = { value: filters.order === 'score' ? last.score : last.ts, id: last.id };
    },
  });
}
