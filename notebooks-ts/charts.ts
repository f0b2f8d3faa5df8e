import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * Charts are Vega-Lite specs, compiled to Vega and rendered to SVG in Node (no browser, no
 * canvas), then to PNG with resvg. The same SVG goes inline into the HTML report, so the report,
 * the .svg and the .png show the same picture.
 */

/** One view inside a `concat` (vega-lite does not export the type under a stable path). */
export type ConcatView = Extract<TopLevelSpec, { concat: unknown }>['concat'][number];
/** One layer of a `layer` spec. */
export type LayerView = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];

/** One chart of a report: its spec, and what the report says around it. */
export interface Chart {
  /** File name stem, unique within a report: `correlation-all` → correlation-all.svg / .png. */
  name: string;
  /** The section heading in the report. */
  heading: string;
  /** A few sentences for a security engineer: what is plotted, how to read it, what stands out. */
  text: string;
  spec: TopLevelSpec;
}

export interface RenderedChart extends Chart {
  svg: string;
  svgFile: string;
  pngFile: string;
  specFile: string;
}

/** Inner plot width of a full-width chart: with axis labels it stays under 1,200 px, legible on a 1280 px screen. */
export const FULL_WIDTH = 960;

/** The font the charts are drawn with. The HTML falls back to the browser's sans-serif, which is close. */
export const FONT_FAMILY = 'DejaVu Sans';

/** Where Debian's fonts-dejavu-core (and other distributions' DejaVu packages) put the fonts. */
const FONT_DIRS = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/dejavu', '/usr/share/fonts/TTF', '/usr/local/share/fonts'];
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'];

/** Env var naming a folder that holds DejaVuSans.ttf, for systems that keep it elsewhere. */
export const FONT_DIR_ENV = 'ZEEK_ANOMALY_FONT_DIR';

/**
 * The DejaVu Sans files resvg draws the charts' text with. resvg is given these files only (no
 * system font scan), so a PNG looks the same on every machine. Throws saying what to install when
 * they are missing: without a font, resvg silently draws no text at all.
 */
export function chartFontFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = env[FONT_DIR_ENV] ? [env[FONT_DIR_ENV], ...FONT_DIRS] : FONT_DIRS;
  for (const dir of dirs) {
    if (existsSync(join(dir, FONT_FILES[0]!))) return FONT_FILES.map((file) => join(dir, file)).filter((file) => existsSync(file));
  }
  throw new Error(
    `the charts need the DejaVu Sans font (DejaVuSans.ttf), found in none of ${dirs.join(', ')}: ` +
      `install Debian's fonts-dejavu-core (apt-get install -y fonts-dejavu-core), or set ${FONT_DIR_ENV} to a folder that holds DejaVuSans.ttf`,
  );
}

/** Shared look: readable sizes at 1280 px, titles left-aligned, a light grid. */
export const CHART_CONFIG = {
  font: `${FONT_FAMILY}, Verdana, sans-serif`,
  background: 'white',
  padding: 12,
  title: { fontSize: 17, subtitleFontSize: 13, subtitleColor: '#444', anchor: 'start', offset: 12, subtitlePadding: 4 },
  axis: { labelFontSize: 12, titleFontSize: 13, titleFontWeight: 'bold', labelLimit: 260, gridColor: '#e4e4e4' },
  legend: { labelFontSize: 12, titleFontSize: 13, labelLimit: 260 },
  header: { labelFontSize: 13, titleFontSize: 14 },
  view: { stroke: '#ccc' },
  bar: { color: '#4c78a8' },
  line: { strokeWidth: 2 },
} as const;

/** The spec as the report uses it: the shared config under the chart's own. */
export function withConfig(spec: TopLevelSpec): TopLevelSpec {
  const own = (spec as { config?: Record<string, unknown> }).config ?? {};
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', ...spec, config: { ...CHART_CONFIG, ...own } };
}

/** Vega-Lite → Vega → SVG, headless. */
export async function specToSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(withConfig(spec)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** SVG → PNG at `zoom` (2 keeps text sharp on a high-density screen), white background. */
export function svgToPng(svg: string, fontFiles: string[] = chartFontFiles(), zoom = 2): Buffer {
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: false, fontFiles, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
    fitTo: { mode: 'zoom', value: zoom },
    background: 'white',
    logLevel: 'off',
  });
  return resvg.render().asPng();
}

/**
 * Gives every id in an SVG (and every reference to one) a prefix. Vega numbers its clip paths
 * from 1 in each SVG it renders, so two charts inlined in one page would otherwise share
 * `clip1`, and the second would be clipped by the first one's rectangle.
 */
export function prefixSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${prefix}-${id})`)
    .replace(/\bhref="#([^"]+)"/g, (_, id: string) => `href="#${prefix}-${id}"`);
}

/** Renders every chart and writes `<name>.svg`, `<name>.png` and `<name>.vl.json` (the spec, data included) into `dir`. */
export async function renderCharts(charts: readonly Chart[], dir: string): Promise<RenderedChart[]> {
  await mkdir(dir, { recursive: true });
  const fonts = chartFontFiles();
  const rendered: RenderedChart[] = [];
  for (const chart of charts) {
    const svg = prefixSvgIds(await specToSvg(chart.spec), chart.name);
    const svgFile = join(dir, `${chart.name}.svg`);
    const pngFile = join(dir, `${chart.name}.png`);
    const specFile = join(dir, `${chart.name}.vl.json`);
    await writeFile(svgFile, svg);
    await writeFile(pngFile, svgToPng(svg, fonts));
    await writeFile(specFile, `${JSON.stringify(withConfig(chart.spec), null, 1)}\n`);
    rendered.push({ ...chart, svg, svgFile, pngFile, specFile });
  }
  return rendered;
}

/**
 * A count axis: SI suffixes from 1,000 up (10k, 2M), plain numbers below (vega's tick format
 * applies one prefix to every tick and would write 0k, 0.4k).
 */
export const COUNT_AXIS = { format: '~s', labelExpr: "abs(datum.value) < 1000 ? format(datum.value, '~g') : datum.label" } as const;

/** A category axis's title drawn level, above its labels: a rotated title collides with long labels (IPv6 addresses). */
export const TITLE_ABOVE = { titleAngle: 0, titleAlign: 'right', titleBaseline: 'bottom', titleX: 0, titleY: -6 } as const;

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** 0.1234 → "12.3%" (more digits for small shares). */
export function formatShare(share: number): string {
  if (!Number.isFinite(share)) return 'n/a';
  const percent = share * 100;
  if (percent === 0) return '0%';
  if (percent < 0.1) return `${percent.toPrecision(2)}%`;
  // Not all is not 100%.
  if (share < 1 && percent.toFixed(1) === '100.0') return '>99.9%';
  return `${percent.toFixed(1)}%`;
}

export /** 10^k from the power at or below `lo` to the one at or above `hi`; every other one when there are more than 8. */
function powersOfTen(lo: number, hi: number): number[] {
  const from = Math.floor(Math.log10(lo) + 1e-9);
  const to = Math.max(from + 1, Math.ceil(Math.log10(hi) - 1e-9));
  const step = to - from > 8 ? 2 : 1;
  const out: number[] = [];
  for (let e = from; e <= to; e += step) out.push(Number((10 ** e).toPrecision(6)));
  if ((to - from) % step !== 0) out.push(Number((10 ** to).toPrecision(6)));
  return out;
}

/** Log-axis ticks for [lo, hi]: 1, 2, 5 × each power of ten over up to three decades, powers of ten beyond. */
export function logTicks(lo: number, hi: number): number[] {
  if (Math.log10(hi / lo) > 3) return powersOfTen(lo, hi);
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(6));
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out;
}

/** True when the non-zero counts span more than `orders` powers of ten: then a log count axis shows the small ones. */
export function spansOrders(counts: Iterable<number>, orders = 2): boolean {
  let min = Infinity;
  let max = 0;
  for (const c of counts) {
    if (c > 0 && c < min) min = c;
    if (c > max) max = c;
  }
  return max > 0 && max / min > 10 ** orders;
}
