// The dashboard's stylesheet, kept in a module so that tsc carries it into dist/ with the code that
// serves it. One colour per severity and status (the --tone-* variables), read by the charts too.
export const DASHBOARD_CSS = `
:root {
  --text: #1f2328; --muted: #656d76; --line: #d0d7de; --panel: #f6f8fa; --accent: #0969da; --bg: #ffffff;
  --tone-info: #8c959f; --tone-low: #54aeff; --tone-medium: #d4a72c; --tone-high: #e16f24; --tone-critical: #cf222e;
  --tone-done: #2da44e; --tone-failed: #cf222e; --tone-skipped: #8c959f; --tone-flagged: #cf222e; --tone-scored: #54aeff;
  --tone-outbound: #e16f24; --tone-inbound: #54aeff; --tone-connections: #8c959f;
  font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; font-size: 14px; color: var(--text); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 24px; padding: 10px 20px; background: #24292f; }
header.top a { color: #f0f6fc; }
header.top .brand { font-weight: 700; }
header.top nav { display: flex; flex-wrap: wrap; gap: 4px 16px; }
header.top nav a[aria-current="page"] { text-decoration: underline; text-underline-offset: 4px; }
.host-search { margin-left: auto; }
.host-search input { width: 14em; padding: 4px 8px; border-radius: 6px; border: 1px solid #57606a; }
main { max-width: 1400px; margin: 0 auto; padding: 12px 20px 40px; }
h1 { font-size: 22px; margin: 8px 0 12px; overflow-wrap: anywhere; }
h2 { font-size: 17px; margin: 24px 0 8px; }
p { margin: 6px 0; }
.muted, .empty { color: var(--muted); }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 10px; margin: 8px 0 16px; }
.tile { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: var(--panel); min-width: 0; }
.tile .label { color: var(--muted); font-size: 12px; }
.tile .value { font-size: 20px; font-weight: 600; overflow-wrap: anywhere; }
.tile .value.long { font-size: 15px; }
.tile .note { color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.tile[data-tone="warn"] { border-color: var(--tone-high); background: #fff8f0; }
.tile[data-tone="bad"] { border-color: var(--tone-critical); background: #fff5f5; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 12px; }
.chart-box { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 8px; min-width: 0; }
.chart-box figcaption { font-weight: 600; margin-bottom: 4px; }
.chart { height: 240px; width: 100%; }
.chart.tall { height: 320px; }
.chart-empty { display: flex; align-items: center; justify-content: center; color: var(--muted); }
.wide { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); font-weight: 600; white-space: nowrap; }
td { overflow-wrap: anywhere; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
.badge { display: inline-block; white-space: nowrap; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; background: var(--tone-info); }
.badge.sev-low { background: var(--tone-low); }
.badge.sev-medium { background: var(--tone-medium); color: #1f2328; }
.badge.sev-high { background: var(--tone-high); }
.badge.sev-critical { background: var(--tone-critical); }
.badge.st-done { background: var(--tone-done); }
.badge.st-failed { background: var(--tone-failed); }
.badge.st-skipped { background: var(--tone-skipped); }
.badge.active { background: var(--accent); }
form.filters { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 8px 12px; margin: 8px 0 12px; padding: 10px; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
form.filters input, form.filters select { font: inherit; padding: 4px 6px; border: 1px solid var(--line); border-radius: 6px; max-width: 14em; }
form.filters .check { flex-direction: row; align-items: center; gap: 4px; }
button, .button { font: inherit; padding: 5px 12px; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--text); cursor: pointer; }
.pager { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; margin: 10px 0; }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 4px 16px; margin: 8px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 16px; }
.columns > * { min-width: 0; }
.error-box { border: 1px solid var(--tone-critical); background: #fff5f5; border-radius: 8px; padding: 10px 14px; white-space: pre-wrap; overflow-wrap: anywhere; }
.live-status { color: var(--muted); font-size: 12px; }
@media (max-width: 700px) { .host-search { margin-left: 0; } }
`;
