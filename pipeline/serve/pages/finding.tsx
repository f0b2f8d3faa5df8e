import type { Child } from 'hono/jsx';
import { anomaliesOfFinding, filesOfFinding, findingById, type StoredFinding } from '../../../db/findings.js';
import type { AllowEntry } from '../../findings/allow-list.js';
import { activeSuppressions } from '../../../db/suppressions.js';
import { eventsOfFinding } from '../../../db/triage.js';
import { SuppressionSet } from '../../findings/suppression-set.js';
import type { DashboardDeps } from '../dashboard-deps.js';
import { parseQuery } from '../query-params.js';
import { AnomaliesTable } from './anomalies.js';
import { bytes, Chart, count, Empty, Facts, HostLink, Layout, SeverityBadge, utc, Wide, withQuery } from './parts.js';

// Enough to draw a finding's flagged connections and list its worst; the anomalies page has the rest.
const CHART_ANOMALIES = 2000;
const LISTED_ANOMALIES = 50;
// A finding that goes on for days has a file an hour: past a dozen the list starts folded.
const OPEN_FILES = 12;
const INLINE_COUNTS = 6;

/** The finding's page, or null when there is no finding `id`. */
export function findingPage(deps: DashboardDeps, id: number, search: URLSearchParams) {
  parseQuery(search, {});
  const finding = findingById(deps.db, id);
  if (finding === undefined) return null;
  const files = filesOfFinding(deps.db, id);
  const anomalies = anomaliesOfFinding(deps.db, id, CHART_ANOMALIES);
  const allowedBy = deps.allowList.allowing(finding);
  const suppressedBy = new SuppressionSet(activeSuppressions(deps.db, new Date().toISOString())).covering(finding, finding.sensor);
  const history = eventsOfFinding(deps.db, id);
  const entry = allowEntryFor(finding);
  const anomaliesLink = finding.src ?? finding.dst;

  return (
    <Layout title={`Finding ${finding.id}: ${finding.type}`} section="findings">
      <p>
        <SeverityBadge severity={finding.severity} /> {finding.summary}
      </p>
      <div class="columns">
        <section>
          <h2>What</h2>
          <Facts
            rows={[
              ['score', `${finding.score.toFixed(1)} of 100`],
              [
                'status',
                `${finding.status}${finding.statusBy === null ? '' : `, by ${finding.statusBy} at ${finding.statusAt ?? '?'}`}${finding.statusNote === null ? '' : `: ${finding.statusNote}`}`,
              ],
              ...(suppressedBy === null
                ? []
                : ([['suppressed', `by suppression ${suppressedBy.id} (${suppressedBy.scope}, ${suppressedBy.by}: ${suppressedBy.reason})${suppressedBy.expiresAt === null ? ', until revoked' : `, until ${suppressedBy.expiresAt}`}`]] as [string, string][])),
              ['sensor', finding.sensor],
              ['source', <HostLink host={finding.src} />],
              ['destination', <><HostLink host={finding.dst} />{finding.port === null ? '' : `:${finding.port}${finding.proto === null ? '' : `/${finding.proto}`}`}</>],
              ['seen (UTC)', `${utc(finding.firstTs)} to ${utc(finding.lastTs)}`],
              ['connections', count(finding.connections)],
              ['bytes', `${bytes(finding.bytesOut)} out, ${bytes(finding.bytesIn)} in`],
              ['files', count(files.length)],
              ['model', finding.modelVersion ?? 'none (raised without a model)'],
              [
                'zeek uids',
                finding.uids.first === null && finding.uids.last === null && finding.uids.top === null ? (
                  <span class="muted">none kept</span>
                ) : (
                  <span class="mono">
                    {[['first', finding.uids.first], ['last', finding.uids.last], ['top flagged', finding.uids.top]]
                      .filter(([, uid]) => uid !== null)
                      .map(([role, uid]) => `${role} ${uid}`)
                      .join(' · ')}
                  </span>
                ),
              ],
              ['raised, updated', `${finding.createdAt.slice(0, 19).replace('T', ' ')}, ${finding.updatedAt.slice(0, 19).replace('T', ' ')} UTC`],
            ]}
          />
        </section>
        <section>
          <h2>Evidence</h2>
          <Evidence value={finding.evidence} />
        </section>
      </div>
      <Chart
        id="chart-timeline"
        tall
        title="The entity's connections per file, and its flagged connections"
        spec={{
          axis: 'time',
          yName: 'connections per file',
          rightYName: 'score',
          series: [
            { name: 'connections in the file', tone: 'connections', points: files.filter((f) => f.firstTs !== null).map((f) => [f.firstTs! * 1000, f.connections] as [number, number]) },
            { name: 'flagged connection', tone: 'flagged', as: 'scatter', rightAxis: true, points: anomalies.map((a) => [a.ts * 1000, a.score] as [number, number]) },
          ],
          empty: 'no file is linked to this finding',
        }}
      />
      <h2>History</h2>
      {history.length === 0 ? (
        <Empty>No verdict yet: triage it with `zeek-anomaly findings triage {String(finding.id)} --as …`.</Empty>
      ) : (
        <Wide>
          <table>
            <thead>
              <tr>
                <th>when (UTC)</th>
                <th>who</th>
                <th>what</th>
                <th>note</th>
              </tr>
            </thead>
            <tbody>
              {history.map((e) => (
                <tr>
                  <td class="nowrap">{e.at.slice(0, 19).replace('T', ' ')}</td>
                  <td>{e.by}</td>
                  <td class="nowrap">{`${e.action}: ${e.statusFrom} → ${e.statusTo}`}</td>
                  <td>{e.note ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Wide>
      )}
      <h2>Hide it</h2>
      {allowedBy === null ? (
        <p>To stop this from being listed and raised again, add this entry to the config's <code>findings.allow</code>, with a comment saying why it is harmless:</p>
      ) : (
        <p>{`The allow-list already hides this finding: "${allowedBy.comment}". The entry that matches exactly this entity would be:`}</p>
      )}
      <pre id="allow-entry">{JSON.stringify(entry, null, 2)}</pre>
      <button type="button" data-copy="allow-entry">
        Copy the entry
      </button>
      <h2>{`Flagged connections (${anomalies.length > LISTED_ANOMALIES ? `the top ${LISTED_ANOMALIES} of ${count(anomalies.length)}${anomalies.length === CHART_ANOMALIES ? '+' : ''}` : count(anomalies.length)}, highest score first)`}</h2>
      {anomalies.length === 0 ? (
        <Empty>None of its connections was among the flagged rows: this finding comes from the pattern, not from single rows.</Empty>
      ) : (
        <AnomaliesTable rows={anomalies.slice(0, LISTED_ANOMALIES)} showSensor={false} />
      )}
      {anomaliesLink !== null ? (
        <p>
          <a href={withQuery('/anomalies', { host: anomaliesLink, order: 'score' })}>{`All flagged connections of ${anomaliesLink} →`}</a>
        </p>
      ) : null}
      <h2>{`Files (${count(files.length)})`}</h2>
      <details open={files.length <= OPEN_FILES}>
        <summary>{`the files that raised or updated it, oldest first`}</summary>
        <Wide>
        <table>
          <thead>
            <tr>
              <th>file</th>
              <th>from (UTC)</th>
              <th class="num">its connections</th>
            </tr>
          </thead>
          <tbody>
            {files.map((f) => (
              <tr>
                <td>{f.path}</td>
                <td class="nowrap">{utc(f.firstTs)}</td>
                <td class="num">{count(f.connections)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        </Wide>
      </details>
    </Layout>
  );
}

/** The allow-list entry that matches exactly this finding's type and entity. */
export function allowEntryFor(finding: StoredFinding): AllowEntry {
  return {
    comment: `why this ${finding.type} is harmless`,
    type: finding.type as AllowEntry['type'],
    ...(finding.src === null ? {} : { src: finding.src }),
    ...(finding.dst === null ? {} : { dst: finding.dst }),
    ...(finding.port === null ? {} : { port: finding.port }),
    ...(finding.proto === null ? {} : { proto: finding.proto as AllowEntry['proto'] }),
  };
}

/** The evidence, part by part: each statistic and threshold as a row, nested parts (the grading) as their own list. */
function Evidence(props: { value: Record<string, unknown> }) {
  const rows = Object.entries(props.value).map(([key, value]): [string, Child] => [key, <EvidenceValue value={value} />]);
  return rows.length === 0 ? <Empty>none stored</Empty> : <Facts rows={rows} />;
}

function EvidenceValue(props: { value: unknown }) {
  const { value } = props;
  if (value === null || value === undefined) return <span class="muted">–</span>;
  if (typeof value === 'number') return <span class="mono">{Number.isInteger(value) ? count(value) : String(Number(value.toPrecision(4)))}</span>;
  if (Array.isArray(value) && value.length === 0) return <span class="muted">none</span>;
  if (Array.isArray(value)) {
    const items = value as unknown[];
    return items.every((item) => typeof item !== 'object' || item === null) ? (
      <span class="mono">{items.map((item) => (typeof item === 'number' ? String(Number(item.toPrecision(4))) : String(item))).join(', ')}</span>
    ) : (
      <>{items.map((item) => <EvidenceValue value={item} />)}</>
    );
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    // A long run of counts (connections per hour) reads better on one wrapped line than as a list a screen long.
    if (entries.length > INLINE_COUNTS && entries.every(([, item]) => typeof item === 'number')) {
      return <span class="mono">{entries.map(([key, item]) => `${key}: ${String(Number((item as number).toPrecision(4)))}`).join(', ')}</span>;
    }
    return <Evidence value={value as Record<string, unknown>} />;
  }
  return <span>{typeof value === 'string' ? value : JSON.stringify(value)}</span>;
}
