import { z } from 'zod';
import { listModels, type ModelRow } from '../../../db/models.js';
import { significant } from '../../../db/export-format.js';
import type { ChartSeries } from '../client/chart-spec.js';
import type { DashboardDeps } from '../dashboard-deps.js';
import { parseQuery } from '../query-params.js';
import { Chart, count, duration, Empty, Layout, Wide } from './parts.js';

// Training curves are drawn for the newest versions only: older ones are a table row each.
const CHARTED_VERSIONS = 4;

// metrics.json as the store wrote it, read leniently: a version saved by an older zeek-anomaly
// lacks some keys, and the page shows what there is rather than failing.
const epoch = z.object({ epoch: z.number(), loss: z.number(), valLoss: z.number().nullable().optional() });
const METRICS = z.object({
  preset: z.string().optional().catch(undefined),
  backend: z.string().optional().catch(undefined),
  rows: z.object({ used: z.number().optional(), seen: z.number().optional() }).optional().catch(undefined),
  epochs: z.array(epoch).optional().catch(undefined),
  bestEpoch: z.number().optional().catch(undefined),
  testLoss: z.number().optional().catch(undefined),
  threshold: z.object({ value: z.number() }).optional().catch(undefined),
  trainingSeconds: z.number().optional().catch(undefined),
  context: z.object({ epochs: z.array(epoch).optional(), testLoss: z.number().optional() }).nullable().optional().catch(undefined),
});
type Metrics = z.infer<typeof METRICS>;

export function modelsPage(deps: DashboardDeps, search: URLSearchParams) {
  parseQuery(search, {});
  // Newest first.
  const models = listModels(deps.db).reverse().map((model) => ({ model, metrics: metricsOf(model) }));
  // Each sensor's scorer has a store of its own: with more than one, each row says whose it is.
  const showSensor = new Set(models.map(({ model }) => model.sensor)).size > 1;
  return (
    <Layout title="Models" section="models">
      <p class="muted">Every version in the store; the active one scores new files (one per sensor). `zeek-anomaly models activate VERSION` rolls back.</p>
      {models.length === 0 ? (
        <Empty>No model yet: the service trains one from the archives present, or run `npm run retrain`.</Empty>
      ) : (
        <Wide>
          <table class="models">
            <thead>
              <tr>
                {showSensor ? <th>sensor</th> : null}
                <th>version</th>
                <th>created (UTC)</th>
                <th>preset</th>
                <th class="num">rows used</th>
                <th class="num">epochs (best)</th>
                <th class="num">test loss</th>
                <th class="num">context test loss</th>
                <th class="num">threshold</th>
                <th class="num">training</th>
              </tr>
            </thead>
            <tbody>
              {models.map(({ model, metrics }) => (
                <tr>
                  {showSensor ? <td class="nowrap">{model.sensor}</td> : null}
                  <td class="nowrap">
                    {model.version} {model.active ? <span class="badge active">active</span> : null}
                  </td>
                  <td class="nowrap">{model.createdAt.slice(0, 19).replace('T', ' ')}</td>
                  <td>{model.preset ?? metrics.preset ?? '–'}</td>
                  <td class="num">{count(metrics.rows?.used ?? null)}</td>
                  <td class="num">{metrics.epochs === undefined ? '–' : `${metrics.epochs.length} (${metrics.bestEpoch ?? '–'})`}</td>
                  <td class="num">{metrics.testLoss === undefined ? '–' : significant(metrics.testLoss)}</td>
                  <td class="num">{metrics.context?.testLoss === undefined ? '–' : significant(metrics.context.testLoss)}</td>
                  <td class="num">{metrics.threshold === undefined ? '–' : significant(metrics.threshold.value)}</td>
                  <td class="num">{metrics.trainingSeconds === undefined ? '–' : duration(metrics.trainingSeconds)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Wide>
      )}
      <div class="charts">
        {models.slice(0, CHARTED_VERSIONS).map(({ model, metrics }, i) => (
          <Chart
            id={`chart-loss-${i}`}
            title={`Training loss: ${showSensor ? `${model.sensor} ` : ''}${model.version}${model.active ? ' (active)' : ''}`}
            spec={{ axis: 'category', categories: lossEpochs(metrics).map(String), yName: 'loss', series: lossSeries(metrics), empty: 'no training curve saved with this version' }}
          />
        ))}
      </div>
    </Layout>
  );
}

function metricsOf(model: ModelRow): Metrics {
  const parsed = METRICS.safeParse(model.metrics);
  return parsed.success ? parsed.data : {};
}

function lossEpochs(metrics: Metrics): number[] {
  const longest = Math.max(metrics.epochs?.length ?? 0, metrics.context?.epochs?.length ?? 0);
  return Array.from({ length: longest }, (_, i) => i + 1);
}

function lossSeries(metrics: Metrics): ChartSeries[] {
  const line = (name: string, tone: string, points: (number | null | undefined)[]): ChartSeries => ({
    name,
    tone,
    as: 'line',
    points: points.flatMap((value, i) => (typeof value === 'number' ? [[i, value] as [number, number]] : [])),
  });
  const conn = metrics.epochs ?? [];
  const context = metrics.context?.epochs ?? [];
  return [
    line('training', 'scored', conn.map((e) => e.loss)),
    line('validation', 'high', conn.map((e) => e.valLoss)),
    ...(context.length === 0 ? [] : [line('context: training', 'inbound', context.map((e) => e.loss)), line('context: validation', 'critical', context.map((e) => e.valLoss))]),
  ];
}
