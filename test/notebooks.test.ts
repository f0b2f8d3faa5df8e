// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { checkChromium, launchChromium, openReport, VIEWPORT } from '../scripts/dev/browser.js';
import { chartFontFiles } from '../notebooks-ts/charts.js';
import { jsonLines, zeekAnomaly, type CliResult } from './support/cli.js';
import { repoRoot, shared, tempDir } from './support/paths.js';

// The three notebooks, built by the CLI from the real logs in ../shared/data, then opened in
// Debian's headless Chromium: every chart must have rendered with its marks, the page must make
// no request beyond its own file, and a screenshot of each goes to reports/screenshots/.

// Archive names are in the sensor's local time (the rita sensor ran in UTC); the backend is pinned.
const ENV = { TZ: 'UTC', ZEEK_ANOMALY_BACKEND: 'wasm' };
const HONEYPOT_DAYS = ['2022-03-01', '2022-03-02'].map((day) => shared('rotated', 'honeypot', day));
const RITA = shared('rotated', 'rita-missing-host');
const archivesOf = (day: string): string[] =>
  readdirSync(join(RITA, day))
    .filter((name) => name.endsWith('.log.gz'))
    .sort()
    .map((name) => join(RITA, day, name));
const SCREENSHOTS = join(repoRoot, 'reports', 'screenshots');

/** What each chart must show: the SVG elements of its data marks (vega draws rect and area marks as paths). */
type Marks = Record<string, number>;
interface Expected {
  chart: string;
  /** CSS selector inside the chart's SVG → the least number of elements it must match. */
  marks: Marks;
  /** False for the correlation heatmaps, whose axes are feature names with no unit. */
  axisTitles: boolean;
}

const RECT = 'g.mark-rect.role-mark > path';
const TEXT = 'g.mark-text.role-mark > text';
const EXPECTED: Record<'explore' | 'model' | 'anomalies', Expected[]> = {
  explore: [
    { chart: 'correlation', marks: { [RECT]: 100, [TEXT]: 100 }, axisTitles: false },
    { chart: 'correlation-without-ip-bytes', marks: { [RECT]: 64, [TEXT]: 64 }, axisTitles: false },
    { chart: 'histograms', marks: { [RECT]: 10 * 5 }, axisTitles: true },
    { chart: 'connections-over-time', marks: { 'g.mark-area.role-mark > path': 2, 'g.mark-line.role-mark > path': 2 }, axisTitles: true },
    { chart: 'top-protocols', marks: { [RECT]: 2, [TEXT]: 2 }, axisTitles: true },
    { chart: 'top-services', marks: { [RECT]: 5, [TEXT]: 5 }, axisTitles: true },
    { chart: 'top-conn-states', marks: { [RECT]: 10, [TEXT]: 10 }, axisTitles: true },
    { chart: 'top-destination-ports', marks: { [RECT]: 15, [TEXT]: 15 }, axisTitles: true },
    { chart: 'top-sources', marks: { [RECT]: 15, [TEXT]: 15 }, axisTitles: true },
    { chart: 'top-destinations', marks: { [RECT]: 15, [TEXT]: 15 }, axisTitles: true },
    { chart: 'unset-share', marks: { [RECT]: 22, [TEXT]: 22 }, axisTitles: true },
  ],
  model: [
    // Two lines (training, validation), a point per epoch and series, the best-epoch rule.
    { chart: 'loss', marks: { 'g.mark-line.role-mark > path': 2, 'g.mark-symbol.role-mark > path': 4, 'g.mark-rule.role-mark > line': 1 }, axisTitles: true },
    // The histogram's bars and the threshold's rule.
    { chart: 'error-histogram', marks: { [RECT]: 10, 'g.mark-rule.role-mark > line': 1 }, axisTitles: true },
    { chart: 'error-features', marks: { [RECT]: 10 }, axisTitles: true },
  ],
  anomalies: [
    { chart: 'flagged-over-time', marks: { [RECT]: 24 }, axisTitles: true },
    { chart: 'score-bands', marks: { [RECT]: 5, [TEXT]: 5 }, axisTitles: true },
    { chart: 'top-sources', marks: { [RECT]: 15 }, axisTitles: true },
    { chart: 'top-destinations', marks: { [RECT]: 1 }, axisTitles: true },
    { chart: 'explanation-features', marks: { [RECT]: 5 }, axisTitles: true },
    // One point per scored file.
    { chart: 'per-file-share', marks: { 'g.mark-symbol.role-mark > path': 24 }, axisTitles: true },
  ],
};

/**
 * The few DOM members the in-page checks use. The project compiles without the DOM library (it
 * runs in Node), so the callbacks below take their element as `unknown` and name it this.
 */
interface DomElement {
  getAttribute(name: string): string | null;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): Iterable<DomElement> & { length: number };
  getBoundingClientRect(): { width: number; height: number };
  readonly childElementCount: number;
  readonly textContent: string | null;
  readonly scrollWidth: number;
}

let work: { dir: string; cleanup: () => Promise<void> };
let browser: Browser | undefined;
const reports: Partial<Record<keyof typeof EXPECTED, string>> = {};

async function cli(...args: string[]): Promise<CliResult> {
  return zeekAnomaly(args, { env: ENV, cwd: work.dir });
}

function ok(result: CliResult, what: string): CliResult {
  assert.equal(result.code, 0, `${what} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result;
}

/** The report path the notebook command printed. */
function reportOf(result: CliResult): string {
  const line = result.stdout.split('\n').find((l) => l.startsWith('report  '));
  assert.ok(line, `notebook printed no report line:\n${result.stdout}`);
  return join(work.dir, line.slice('report  '.length).trim());
}

/**
 * Fail, never skip, when the machine lacks what the test needs: every test then fails with the
 * message saying what to install (a failing `before` hook would only mark them cancelled).
 */
function checkPrerequisites(): void {
  checkChromium();
  chartFontFiles();
}

function prerequisitesMissing(): boolean {
  try {
    checkPrerequisites();
    return false;
  } catch {
    return true;
  }
}

before(async () => {
  work = await tempDir('zeek-anomaly-notebooks-');
  if (prerequisitesMissing()) return;
  const dataDir = join(work.dir, 'data');

  // explore: two days of the honeypot.
  const explore = ok(await cli('notebook', 'explore', '--logs', ...HONEYPOT_DAYS, '--out', 'out/explore'), 'notebook explore');
  reports.explore = reportOf(explore);

  // model: a tiny model (two epochs on one day of rita), then its report.
  const trained = jsonLines(ok(await cli('retrain', '--logs', join(RITA, '2024-04-19'), '--epochs', '2', '--data-dir', dataDir, '--json'), 'retrain').stdout)[0];
  assert.equal(trained?.status, 'trained');
  const model = ok(await cli('notebook', 'model', '--data-dir', dataDir, '--out', 'out/model'), 'notebook model');
  reports.model = reportOf(model);

  // anomalies: the next day's 24 archives scored into the database, then its report.
  ok(await cli('score', ...archivesOf('2024-04-20'), '--data-dir', dataDir, '--json'), 'score');
  const anomalies = ok(await cli('notebook', 'anomalies', '--data-dir', dataDir, '--out', 'out/anomalies'), 'notebook anomalies');
  reports.anomalies = reportOf(anomalies);

  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await work?.cleanup();
});

test("Debian's chromium and the charts' font are installed", () => {
  checkPrerequisites();
});

for (const name of ['explore', 'model', 'anomalies'] as const) {
  describe(`the ${name} notebook`, () => {
    test('writes every chart as PNG, SVG and spec beside the report', async () => {
      checkPrerequisites();
      const charts = join(reports[name]!, '..', 'charts');
      for (const { chart } of EXPECTED[name]) {
        for (const ext of ['png', 'svg', 'vl.json']) {
          const info = await stat(join(charts, `${chart}.${ext}`));
          assert.ok(info.size > 500, `${chart}.${ext} is ${info.size} bytes`);
        }
        const png = await readFile(join(charts, `${chart}.png`));
        assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${chart}.png is a PNG`);
      }
      const html = await readFile(reports[name]!, 'utf8');
      // Self-contained: nothing the page could load from elsewhere.
      assert.doesNotMatch(html, /<(script|link|img|iframe)\b/i);
      assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i);
    });

    test('opens in headless Chromium with every chart rendered, no network request, and a screenshot', async () => {
      checkPrerequisites();
      const opened = await openReport(browser!, reports[name]!);
      try {
        const { page } = opened;
        assert.deepEqual(opened.requests, [opened.url], 'the report must request nothing but itself');
        assert.deepEqual(opened.errors, [], 'no console or page errors');

        const sections = await page.$$eval('section.chart', (nodes: unknown[]) => (nodes as DomElement[]).map((n) => n.getAttribute('data-chart')));
        assert.deepEqual(sections, EXPECTED[name].map((e) => e.chart), 'the charts, in order');

        for (const expected of EXPECTED[name]) {
          const found = await page.$eval(
            `section[data-chart="${expected.chart}"]`,
            (element: unknown, selectors: string[]) => {
              const svg = (element as DomElement).querySelector('figure > svg');
              if (svg === null) return null;
              const box = svg.getBoundingClientRect();
              const text = (selector: string) => [...svg.querySelectorAll(selector)].map((t) => t.textContent?.trim() ?? '').filter((t) => t !== '');
              return {
                width: box.width,
                height: box.height,
                naturalWidth: Number(svg.getAttribute('width')),
                children: svg.childElementCount,
                counts: Object.fromEntries(selectors.map((s) => [s, svg.querySelectorAll(s).length])),
                // A mark with an empty path was not drawn.
                emptyPaths: [...svg.querySelectorAll('g.role-mark > path')].filter((p) => (p.getAttribute('d') ?? '') === '').length,
                title: text('g.role-title-text text'),
                axisTitles: text('g.role-axis-title text'),
              };
            },
            Object.keys(expected.marks),
          );
          assert.ok(found, `${expected.chart}: no inline SVG`);
          assert.ok(found.children > 0 && found.width > 100 && found.height > 100, `${expected.chart}: empty SVG (${JSON.stringify(found)})`);
          for (const [selector, least] of Object.entries(expected.marks)) {
            assert.ok((found.counts[selector] ?? 0) >= least, `${expected.chart}: ${found.counts[selector]} × ${selector}, expected at least ${least}`);
          }
          assert.equal(found.emptyPaths, 0, `${expected.chart}: marks with no shape`);
          assert.ok(found.title.length > 0, `${expected.chart}: no title`);
          if (expected.axisTitles) assert.ok(found.axisTitles.length >= 2, `${expected.chart}: axis titles ${JSON.stringify(found.axisTitles)}`);
          // Legible at 1280 px: shown at (nearly) its own size, not shrunk to fit.
          assert.ok(found.width >= found.naturalWidth * 0.95, `${expected.chart}: ${found.naturalWidth} px wide, shrunk to ${found.width} px in a ${VIEWPORT.width} px window`);
        }
        const scrollWidth = await page.$eval('html', (html: unknown) => (html as DomElement).scrollWidth);
        assert.ok(scrollWidth <= VIEWPORT.width, `the page scrolls sideways (${scrollWidth} px) at ${VIEWPORT.width} px`);

        await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
      } finally {
        await opened.page.close();
      }
    });
  });
}

describe('the anomalies notebook and sensors', () => {
  test("names the sensors it covers; for one sensor, that sensor's rows alone, and a warning for a sensor the database does not know", async () => {
    checkPrerequisites();
    const everyone = await readFile(reports.anomalies!, 'utf8');
    assert.match(everyone, new RegExp(`<th scope="row">Sensor</th><td>${hostname().replaceAll('.', '\\.')} \\(24 files\\)</td>`));
    const own = await readFile(reportOf(ok(await cli('notebook', 'anomalies', '--sensor', hostname(), '--data-dir', join(work.dir, 'data'), '--out', 'out/own'), 'notebook anomalies --sensor')), 'utf8');
    const anomaliesFact = (html: string): string | undefined => /<th scope="row">Anomalies<\/th><td>([^<]*)<\/td>/.exec(html)?.[1];
    assert.ok(anomaliesFact(own) !== undefined && anomaliesFact(own) === anomaliesFact(everyone), "the only sensor's figures are every sensor's");
    const stranger = await readFile(reportOf(ok(await cli('notebook', 'anomalies', '--sensor', 'elsewhere', '--data-dir', join(work.dir, 'data'), '--out', 'out/elsewhere'), 'notebook anomalies --sensor elsewhere')), 'utf8');
    assert.match(stranger, /The database has no files from sensor elsewhere; it has /);
    assert.match(anomaliesFact(stranger) ?? '', /^0 flagged of 0 connections scored/);
  });
});

