import { countFiles, FILE_STATUSES, listFiles } from '../../../db/files.js';
import { sensorNames } from '../../../db/sensors.js';
import { significant } from '../../../db/export-format.js';
import type { DashboardDeps } from '../dashboard-deps.js';
import { choiceParam, parseQuery, sensorParam, wholeParam } from '../query-params.js';
import { count, Empty, Layout, utc, Wide, withQuery } from './parts.js';

export const FILES_QUERY = { status: choiceParam(FILE_STATUSES), sensor: sensorParam, before: wholeParam(1) };

const PAGE_SIZE = 100;

export function filesPage(deps: DashboardDeps, search: URLSearchParams) {
  const query = parseQuery(search, FILES_QUERY);
  const rows = listFiles(deps.db, { status: query.status, sensor: query.sensor, before: query.before, limit: PAGE_SIZE + 1 });
  const page = rows.slice(0, PAGE_SIZE);
  const counts = countFiles(deps.db, query.sensor);
  const sensors = sensorNames(deps.db);
  const next = rows.length > PAGE_SIZE ? withQuery('/files', { status: query.status, sensor: query.sensor, before: page.at(-1)!.id }) : null;

  return (
    <Layout title="Files" section="files">
      <p>
        {'The ledger: every file the scorer met, newest first. '}
        {[undefined, ...FILE_STATUSES].map((status) => (
          <>
            {status === query.status ? (
              <strong>{status ?? 'all'}</strong>
            ) : (
              <a href={withQuery('/files', { status, sensor: query.sensor })}>{status ?? 'all'}</a>
            )}
            {` (${count(status === undefined ? counts.done + counts.failed + counts.skipped : counts[status])}) `}
          </>
        ))}
      </p>
      {sensors.length > 1 ? (
        <p>
          {'Sensor: '}
          {[undefined, ...sensors].map((sensor) => (
            <>
              {sensor === query.sensor ? <strong>{sensor ?? 'all'}</strong> : <a href={withQuery('/files', { status: query.status, sensor })}>{sensor ?? 'all'}</a>}{' '}
            </>
          ))}
        </p>
      ) : null}
      {page.length === 0 ? (
        <Empty>No files.</Empty>
      ) : (
        <Wide>
          <table class="files">
            <thead>
              <tr>
                <th class="num">id</th>
                {sensors.length > 1 ? <th>sensor</th> : null}
                <th>status</th>
                <th>file</th>
                <th>data from (UTC)</th>
                <th class="num">rows</th>
                <th class="num">bad lines</th>
                <th class="num">flagged</th>
                <th class="num">threshold</th>
                <th>model</th>
                <th>finished (UTC)</th>
              </tr>
            </thead>
            <tbody>
              {page.map((f) => (
                <tr>
                  <td class="num">{f.id}</td>
                  {sensors.length > 1 ? <td class="nowrap">{f.sensor}</td> : null}
                  <td>
                    <span class={`badge st-${f.status}`}>{f.status}</span>
                  </td>
                  <td>
                    {f.path}
                    {f.error === null ? null : <div class="error-box">{f.error}</div>}
                    {f.duplicateOf === null ? null : <div class="muted">{`the same content as file ${f.duplicateOf}`}</div>}
                  </td>
                  <td class="nowrap">{utc(f.firstTs)}</td>
                  <td class="num">{count(f.rows)}</td>
                  <td class="num">{count(f.badLines)}</td>
                  <td class="num">{f.flagged === null || f.flagged === 0 ? count(f.flagged) : <a href={withQuery('/anomalies', { file: f.id, order: 'score' })}>{count(f.flagged)}</a>}</td>
                  <td class="num">{f.threshold === null ? '–' : `${significant(f.threshold)}${f.thresholdMode === 'baseline' ? ' (baseline)' : ''}`}</td>
                  <td class="nowrap">{f.modelVersion ?? '–'}</td>
                  <td class="nowrap">{f.finishedAt.slice(0, 19).replace('T', ' ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Wide>
      )}
      <div class="pager">
        {query.before === undefined ? null : <a href={withQuery('/files', { status: query.status, sensor: query.sensor })}>⇤ newest</a>}
        {next === null ? <span class="muted">no more files</span> : <a href={next}>older →</a>}
      </div>
    </Layout>
  );
}
