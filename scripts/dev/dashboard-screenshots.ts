import { mkdir } from 'node:fs/promises';
import { FINDING_TYPES } from '../../pipeline/findings/registry.js';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { queryFindings } from '../../db/findings.js';
import { defaultDatabasePath, openDatabase } from '../../db/open-database.js';
import { launchChromium } from './browser.js';
import { startDashboard } from '../../pipeline/serve/start-dashboard.js';

/**
 * The dashboard screenshots of docs/dashboard.md: serves the dashboard over a database and saves the top of
 * each view, at 1280 px (and the overview at 800 px), from Debian's headless Chromium.
 *
 *   node dist/scripts/dev/dashboard-screenshots.js --data-dir data/demo --out docs/screenshots
 */

/** The views worth a look on a database: the five sections, its top finding and that finding's source host. */
export function dashboardViews(db: string): { name: string; path: string }[] {
  const handle = openDatabase(db, { readonly: true });
  try {
    const top = queryFindings(handle, { limit: 1 })[0];
    if (top === undefined) throw new Error(`${db} has no findings to show: score some logs into it first`);
    return [
      { name: 'overview', path: '/' },
      { name: 'findings', path: '/findings' },
      { name: 'finding', path: `/findings/${top.id}` },
      { name: 'host', path: `/hosts/${encodeURIComponent(top.src ?? top.dst!)}` },
      { name: 'anomalies', path: '/anomalies?order=score' },
      { name: 'files', path: '/files' },
      { name: 'models', path: '/models' },
    ];
  } finally {
    handle.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'data-dir': { type: 'string', default: 'data/demo' }, 'log-dir': { type: 'string' }, out: { type: 'string', default: 'docs/screenshots' } } });
  const dataDir = resolve(values['data-dir']);
  const db = defaultDatabasePath(dataDir);
  const out = resolve(values.out);
  await mkdir(out, { recursive: true });
  const dashboard = await startDashboard({
    db,
    host: '127.0.0.1',
    port: 0,
    token: '',
    logDir: resolve(values['log-dir'] ?? join(dataDir, 'logs')),
    allow: [], findingTypes: FINDING_TYPES,
    log: { info: () => {}, error: (event, fields) => process.stderr.write(`${event} ${JSON.stringify(fields)}\n`) },
  });
  const browser = await launchChromium();
  try {
    const shots = [...dashboardViews(db).map((view) => ({ ...view, width: 1280, file: `dashboard-${view.name}.png` })), { name: 'overview', path: '/', width: 800, file: 'dashboard-overview-800.png' }];
    for (const shot of shots) {
      const page = await browser.newPage({ viewport: { width: shot.width, height: 1000 }, deviceScaleFactor: 1 });
      await page.goto(new URL(shot.path, dashboard.url).href, { waitUntil: 'networkidle' });
      await page.screenshot({ path: join(out, shot.file) });
      await page.close();
      process.stdout.write(`${join(out, shot.file)}\n`);
    }
  } finally {
    await browser.close();
    await dashboard.stop();
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
