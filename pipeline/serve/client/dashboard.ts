// The dashboard's only script. Pages are rendered by the server and read fine without it; this
// draws their charts, keeps the overview live, and copies an allow-list entry. It fetches nothing
// but the server's own /api/ URLs (the Content-Security-Policy holds it to that).
import type * as ECharts from 'echarts';
import type { EChartsOption, EChartsType, SeriesOption } from 'echarts';
import type { ChartSpec } from './chart-spec.js';

declare const echarts: typeof ECharts;

const charts = new Map<string, EChartsType>();

for (const element of document.querySelectorAll<HTMLElement>('[data-chart]')) draw(element, specOf(element));
for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-copy]')) button.addEventListener('click', () => void copy(button));
window.addEventListener('resize', () => charts.forEach((chart) => chart.resize()));
startLive();

/** A chart's data, from the JSON script the server put beside it. */
function specOf(element: HTMLElement): ChartSpec | null {
  const data = document.getElementById(`${element.id}-data`);
  return data === null ? null : (JSON.parse(data.textContent ?? 'null') as ChartSpec | null);
}

function draw(element: HTMLElement, spec: ChartSpec | null): void {
  const hasData = spec !== null && spec.series.some((series) => series.points.length > 0);
  element.classList.toggle('chart-empty', !hasData);
  if (!hasData) {
    charts.get(element.id)?.dispose();
    charts.delete(element.id);
    element.textContent = spec?.empty ?? 'nothing to show';
    return;
  }
  let chart = charts.get(element.id);
  if (chart === undefined) {
    element.textContent = '';
    chart = echarts.init(element, null, { renderer: 'canvas' });
    charts.set(element.id, chart);
  }
  // notMerge: a refresh replaces the series, so one that has gone (a severity with no findings left) goes from the chart too.
  chart.setOption(optionOf(spec), { notMerge: true });
}

function optionOf(spec: ChartSpec): EChartsOption {
  const style = getComputedStyle(document.documentElement);
  const colour = (tone: string | undefined): string | undefined => (tone === undefined ? undefined : style.getPropertyValue(`--tone-${tone}`).trim() || undefined);
  const text = style.getPropertyValue('--text').trim() || '#222';
  const series: SeriesOption[] = spec.series.map((s) => {
    const type = s.as ?? 'bar';
    const color = colour(s.tone);
    return {
      name: s.name,
      type,
      data: s.points,
      yAxisIndex: s.rightAxis === true ? 1 : 0,
      ...(type === 'bar' && spec.stacked === true ? { stack: 'total' } : {}),
      ...(spec.horizontal === true ? { encode: { x: 1, y: 0 } } : {}),
      ...(type === 'bar' ? { barMaxWidth: 28 } : {}),
      ...(type === 'scatter' ? { symbolSize: 7 } : {}),
      ...(type === 'line' ? { showSymbol: false } : {}),
      ...(color === undefined ? {} : { itemStyle: { color }, lineStyle: { color } }),
    };
  });
  // The name sits above the axis, aligned inward so that the chart's edge does not cut it.
  const valueAxis = (name: string, side: 'left' | 'right' = 'left') => ({ type: 'value' as const, name, nameTextStyle: { color: text, align: side }, axisLabel: { color: text } });
  return {
    animation: false,
    useUTC: true,
    textStyle: { fontFamily: style.fontFamily },
    grid: { left: 8, right: spec.rightYName === undefined ? 24 : 8, top: 28, bottom: spec.horizontal === true ? 44 : 32, containLabel: true },
    legend: { type: 'scroll', bottom: 0, textStyle: { color: text } },
    // Drawn on the canvas rather than as HTML: no markup is built from data, and no inline style
    // attribute is needed, which the Content-Security-Policy would refuse.
    tooltip: { trigger: spec.series.some((s) => s.as === 'scatter') ? 'item' : 'axis', renderMode: 'richText' },
    ...(spec.axis === 'category' && spec.horizontal === true
      ? // Categories down the side: long names (anomaly-cluster, refused-retries) read level, however many there are.
        { yAxis: { type: 'category', data: spec.categories ?? [], inverse: true, axisLabel: { color: text } }, xAxis: { ...valueAxis(spec.yName), nameLocation: 'middle', nameGap: 24 } }
      : {
          xAxis: spec.axis === 'time' ? { type: 'time', axisLabel: { color: text, hideOverlap: true } } : { type: 'category', data: spec.categories ?? [], axisLabel: { color: text, hideOverlap: true } },
          yAxis: [valueAxis(spec.yName), ...(spec.rightYName === undefined ? [] : [valueAxis(spec.rightYName, 'right')])],
        }),
    series,
  };
}

interface LiveUpdate {
  /** Text by element id: tiles and health lines. */
  text: Record<string, string>;
  /** Chart spec by element id. */
  charts: Record<string, ChartSpec>;
  /** A class by element id (a tile that turns to a warning). */
  tone: Record<string, string>;
}

/** The overview polls its own data (`data-live` names the URL and the interval) and redraws in place. */
function startLive(): void {
  const root = document.querySelector<HTMLElement>('[data-live]');
  if (root === null) return;
  const url = root.dataset.live!;
  const seconds = Number(root.dataset.liveSeconds ?? '10');
  const status = document.getElementById('live-status');
  const refresh = async (): Promise<void> => {
    try {
      const response = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      const update = (await response.json()) as LiveUpdate;
      for (const [id, value] of Object.entries(update.text)) {
        const element = document.getElementById(id);
        if (element !== null) element.textContent = value;
      }
      for (const [id, tone] of Object.entries(update.tone)) document.getElementById(id)?.setAttribute('data-tone', tone);
      for (const [id, spec] of Object.entries(update.charts)) {
        const element = document.getElementById(id);
        if (element !== null) draw(element, spec);
      }
      if (status !== null) status.textContent = `updated ${new Date().toISOString().slice(11, 19)} UTC; refreshes every ${seconds} s`;
    } catch (error) {
      if (status !== null) status.textContent = `refresh failed (${error instanceof Error ? error.message : String(error)}); trying again in ${seconds} s`;
    }
  };
  window.setInterval(() => void refresh(), seconds * 1000);
}

async function copy(button: HTMLButtonElement): Promise<void> {
  const source = document.getElementById(button.dataset.copy!);
  if (source === null) return;
  const before = button.textContent;
  try {
    await navigator.clipboard.writeText(source.textContent ?? '');
    button.textContent = 'copied';
  } catch {
    // No clipboard (a page over plain HTTP from another host): select the text for a manual copy.
    window.getSelection()?.selectAllChildren(source);
    button.textContent = 'selected: press Ctrl+C';
  }
  window.setTimeout(() => (button.textContent = before), 2000);
}
