import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { RenderedChart } from './charts.js';

/**
 * One self-contained HTML page per notebook: the charts inline as SVG, the styles inline, no
 * script, and a Content-Security-Policy that forbids the page from loading anything, so opening
 * it (from disk, a mail attachment, an evidence folder) makes no network request.
 */
export interface ReportInput {
  title: string;
  /** A paragraph under the title: what this report is and where its data came from. */
  lead: string;
  /** Key figures, shown as a table at the top. */
  facts: readonly (readonly [string, string])[];
  /** Things a reader must know (files that could not be read, a split that could not be reproduced). */
  warnings?: readonly string[];
  charts: readonly RenderedChart[];
  /** How to make this report again. */
  command: string;
  /** Folder of the chart files, relative to the report. */
  chartsFolder: string;
}

export const REPORT_FILE = 'report.html';

export async function writeReport(dir: string, input: ReportInput): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, REPORT_FILE);
  await writeFile(file, reportHtml(input));
  return file;
}

export function reportHtml(input: ReportInput): string {
  const generated = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const toc = input.charts.map((c) => `<li><a href="#${c.name}">${escapeHtml(c.heading)}</a></li>`).join('\n');
  const facts = input.facts.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${inline(v)}</td></tr>`).join('\n');
  const warnings = (input.warnings ?? []).map((w) => `<p class="warning">${inline(w)}</p>`).join('\n');
  const sections = input.charts
    .map((chart) => {
      const files = [chart.pngFile, chart.svgFile, chart.specFile]
        .map((f) => `<a href="${escapeHtml(`${input.chartsFolder}/${basename(f)}`)}">${escapeHtml(basename(f))}</a>`)
        .join(' · ');
      return `<section class="chart" id="${chart.name}" data-chart="${chart.name}">
<h2>${escapeHtml(chart.heading)}</h2>
${chart.text
  .split(/\n\s*\n/)
  .map((paragraph) => `<p>${inline(paragraph.trim())}</p>`)
  .join('\n')}
<figure>${chart.svg}</figure>
<p class="files">Files: ${files}</p>
</section>`;
    })
    .join('\n');

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="zeek-anomaly notebooks">
<title>${escapeHtml(input.title)}</title>
<style>
  :root { color-scheme: light; }
  body { font-family: "DejaVu Sans", Verdana, system-ui, sans-serif; color: #1d1d1d; background: #fafafa; margin: 0; line-height: 1.45; }
  main { max-width: 1200px; margin: 0 auto; padding: 24px 20px 60px; }
  h1 { font-size: 26px; margin: 0 0 8px; }
  h2 { font-size: 20px; margin: 0 0 6px; }
  p { margin: 6px 0; max-width: 78em; }
  .lead { font-size: 15px; color: #333; }
  table.facts { border-collapse: collapse; margin: 14px 0; font-size: 14px; }
  table.facts th { text-align: left; font-weight: 600; padding: 3px 18px 3px 0; color: #444; vertical-align: top; }
  table.facts td { padding: 3px 0; }
  nav ol { columns: 2; font-size: 14px; margin: 6px 0 0; }
  .warning { background: #fff4e0; border-left: 4px solid #e8a33d; padding: 8px 12px; }
  section.chart { background: white; border: 1px solid #ddd; border-radius: 6px; padding: 16px 18px; margin: 22px 0; }
  figure { margin: 12px 0 4px; overflow-x: auto; }
  figure svg { max-width: 100%; height: auto; display: block; }
  .files { font-size: 12px; color: #666; }
  code { font-family: "DejaVu Sans Mono", monospace; font-size: 0.92em; background: #f0f0f0; padding: 0 3px; border-radius: 3px; }
  footer { font-size: 12px; color: #666; margin-top: 30px; }
</style>
</head>
<body>
<main>
<h1>${escapeHtml(input.title)}</h1>
<p class="lead">${inline(input.lead)}</p>
${warnings}
<table class="facts">
${facts}
</table>
<nav><strong>Charts</strong><ol>
${toc}
</ol></nav>
${sections}
<footer>Generated ${generated} by <code>${escapeHtml(input.command)}</code>. Charts are Vega-Lite specs rendered to SVG in Node; each is also saved as PNG, SVG and its spec (<code>.vl.json</code>, data included) in <code>${escapeHtml(input.chartsFolder)}/</code>.</footer>
</main>
</body>
</html>
`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Escapes text, then turns `backticks` into <code> and **stars** into <strong>: enough markup for the explanations. */
function inline(text: string): string {
  return escapeHtml(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
}
