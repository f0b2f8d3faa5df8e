import { hostFlaggedPerBin, hostPeers } from '../../../db/dashboard-queries.js';
import { queryAnomalies } from '../../../db/anomalies.js';
import { queryFindings } from '../../../db/findings.js';
import { sensorNames } from '../../../db/sensors.js';
import type { DashboardDeps } from '../dashboard-deps.js';
import { flagParam, parseQuery } from '../query-params.js';
import { AnomaliesTable } from './anomalies.js';
import { FindingsTable } from './findings.js';
import { bytes, Chart, count, Empty, HostLink, hostHref, Layout, utc, Wide, withQuery } from './parts.js';

export const HOST_QUERY = { all: flagParam };

// A host's peers and traffic are drawn from its latest flagged connections each way, this many:
// a scanner with a million flagged rows costs what a quiet host does. The page says so.
const SAMPLE = 20_000;
const PEERS = 15;
const LISTED_ANOMALIES = 20;
const LISTED_FINDINGS = 25;
const BIN_SECONDS = 3600;

export function hostPage(deps: DashboardDeps, host: string, search: URLSearchParams) {
  const query = parseQuery(search, HOST_QUERY);
  const matching = queryFindings(deps.db, { host });
  const findings = query.all === undefined ? matching.filter((f) => deps.allowList.allowing(f) === null) : matching;
  const hidden = matching.length - findings.length;
  const anomalies = queryAnomalies(deps.db, { host, order: 'ts', limit: LISTED_ANOMALIES });
  const peers = hostPeers(deps.db, host, { sample: SAMPLE, limit: PEERS });
  const perHour = hostFlaggedPerBin(deps.db, host, { sample: SAMPLE, bin: BIN_SECONDS });
  const sampled = perHour.reduce((n, bin) => n + bin.outbound + bin.inbound, 0);
  // An address may be on more than one sensor's network: each row says whose it is.
  const showSensor = sensorNames(deps.db).length > 1;

  return (
    <Layout title={`Host ${host}`} section="hosts">
      <p class="muted">
        What the database holds on this host: the findings it is part of, and the connections of it that were flagged. Connections that were not
        flagged are not stored.
      </p>
      <h2>{`Findings (${count(findings.length)})`}</h2>
      {hidden > 0 ? (
        <p class="muted">
          {`${count(hidden)} hidden by the allow-list; `}
          <a href={withQuery(hostHref(host), { all: '1' })}>show them</a>
        </p>
      ) : null}
      {findings.length === 0 ? <Empty>None.</Empty> : <FindingsTable rows={findings.slice(0, LISTED_FINDINGS)} showSensor={showSensor} />}
      {findings.length > LISTED_FINDINGS ? (
        <p>
          <a href={withQuery('/findings', { host, all: query.all })}>{`The highest ${LISTED_FINDINGS} shown; all ${count(findings.length)} →`}</a>
        </p>
      ) : null}
      <Chart
        id="chart-host"
        title={`Flagged connections per hour${sampled >= SAMPLE ? ` (its latest ${count(SAMPLE)} each way)` : ''}`}
        spec={{
          axis: 'time',
          yName: 'connections',
          stacked: true,
          series: [
            { name: 'from this host', tone: 'outbound', points: perHour.map((b) => [b.time * 1000, b.outbound] as [number, number]) },
            { name: 'to this host', tone: 'inbound', points: perHour.map((b) => [b.time * 1000, b.inbound] as [number, number]) },
          ],
          empty: 'no flagged connection of this host is stored',
        }}
      />
      <h2>Peers among its flagged connections</h2>
      {peers.length === 0 ? (
        <Empty>None.</Empty>
      ) : (
        <Wide>
          <table>
            <thead>
              <tr>
                <th>peer</th>
                <th class="num">from this host</th>
                <th class="num">to this host</th>
                <th class="num">bytes sent</th>
                <th class="num">bytes received</th>
                <th>last (UTC)</th>
              </tr>
            </thead>
            <tbody>
              {peers.map((p) => (
                <tr>
                  <td class="nowrap">
                    <HostLink host={p.peer} />
                  </td>
                  <td class="num">{count(p.outbound)}</td>
                  <td class="num">{count(p.inbound)}</td>
                  <td class="num">{bytes(p.bytesSent)}</td>
                  <td class="num">{bytes(p.bytesReceived)}</td>
                  <td class="nowrap">{utc(p.lastTs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Wide>
      )}
      <h2>Latest flagged connections</h2>
      {anomalies.length === 0 ? <Empty>None stored.</Empty> : <AnomaliesTable rows={anomalies} showSensor={showSensor} />}
      <p>
        <a href={withQuery('/anomalies', { host })}>{`All flagged connections of ${host} →`}</a>
      </p>
    </Layout>
  );
}
