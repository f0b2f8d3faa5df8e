// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import { FINDING_TYPES } from '../pipeline/findings/registry.js';
import * as assert from 'node:assert/strict';
import { request } from 'node:http';
import { hostname } from 'node:os';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { queryAnomalies } from '../db/anomalies.js';
import { listFiles } from '../db/files.js';
import { queryFindings } from '../db/findings.js';
import { ANOMALY_RECORD_KEYS } from '../db/export-format.js';
import { claimSensorLease, renewSensorLease } from '../db/leases.js';
import { openDatabase } from '../db/open-database.js';
import { launchChromium } from '../scripts/dev/browser.js';
import type { Logger } from '../pipeline/service/logger.js';
import { startDashboard, type RunningDashboard } from '../pipeline/serve/start-dashboard.js';
import { dashboardViews } from '../scripts/dev/dashboard-screenshots.js';
import { writeDemoArchive } from '../scripts/demo-data.js';
import { zeekAnomaly } from './support/cli.js';
import { shared, tempDir } from './support/paths.js';
import { placeArchive, SERVICE_ENV, ServiceProcess, serviceDirs, trainModel, type LogLine, type ServiceDirs } from './support/service.js';

// The dashboard over two databases the service itself wrote: one from the real rita-missing-host
// archives in ../shared/data, one from the demo's network with its attacks. Pages are opened in
// Debian's headless Chromium. The tests take no screenshots: `scripts/dev/dashboard-screenshots.ts`
// takes them for people to look at.

const RITA = shared('rotated', 'rita-missing-host');
const WIDTHS = [1280, 800] as const;
const TOKEN = 'a-test-token-of-32-characters-00';

interface Scored {
  dirs: ServiceDirs;
  dashboard: RunningDashboard;
}

const quiet: Logger = { info: () => {}, error: () => {} };
let browser: Browser;
// One context for every page: its cache keeps echarts (1 MB) compiled between pages, where a fresh
// context per page parsed it again and took a second a page.
let context: BrowserContext;
let rita: Scored;
let demo: Scored;

/** A data dir with a small model trained on `trainOn`, then every archive under `logDir` scored by `watch --once`. */
async function scoredDatabase(logsFrom: string | ((logDir: string) => Promise<void>), trainOn: (logDir: string) => string): Promise<ServiceDirs> {
  const dirs = await serviceDirs();
  if (typeof logsFrom === 'function') await logsFrom(dirs.logDir);
  const logDir = typeof logsFrom === 'string' ? logsFrom : dirs.logDir;
  const flags = ['--config', dirs.config, '--data-dir', dirs.dataDir, '--log-dir', logDir];
  await trainModel(dirs.dataDir, trainOn(logDir), dirs.root);
  const watched = await zeekAnomaly(['watch', '--once', ...flags], { env: { ...SERVICE_ENV }, cwd: dirs.root });
  assert.equal(watched.code, 0, watched.stderr);
  return { ...dirs, logDir, flags };
}

before(async () => {
  browser = await launchChromium();
  context = await browser.newContext({ deviceScaleFactor: 1 });
  const ritaDirs = await scoredDatabase(RITA, (logDir) => join(logDir, '2024-04-19'));
  rita = { dirs: ritaDirs, dashboard: await startDashboard({ db: ritaDirs.db, host: '127.0.0.1', port: 0, token: '', logDir: ritaDirs.logDir, allow: [], findingTypes: FINDING_TYPES, log: quiet, liveSeconds: 1 }) };
  const demoDirs = await scoredDatabase(
    async (logDir) => void (await writeDemoArchive(logDir, { days: 2, rowsPerHour: 600 })),
    (logDir) => join(logDir, '2024-04-15'),
  );
  demo = { dirs: demoDirs, dashboard: await startDashboard({ db: demoDirs.db, host: '127.0.0.1', port: 0, token: '', logDir: demoDirs.logDir, allow: [], findingTypes: FINDING_TYPES, log: quiet, liveSeconds: 1 }) };
});

after(async () => {
  await browser?.close();
  for (const scored of [rita, demo]) {
    await scored?.dashboard.stop();
    await scored?.dirs.cleanup();
  }
});

/** Opens `path` and records what a user would not want: console errors, requests elsewhere, sideways scroll. */
async function open(base: string, path: string, width: number): Promise<{ page: Page; problems: () => Promise<string[]> }> {
  const page = await context.newPage();
  await page.setViewportSize({ width, height: 900 });
  const problems: string[] = [];
  const origin = new URL(base).origin;
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('request', (req) => {
    if (!req.url().startsWith(`${origin}/`)) problems.push(`request beyond the server: ${req.url()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} for ${response.url()}`);
  });
  // 'load' is enough: the page's one script is a module, run before the load event, and it draws
  // every chart then; 'networkidle' would wait half a second more on every page for nothing.
  await page.goto(new URL(path, base).href, { waitUntil: 'load' });
  return {
    page,
    problems: async () => {
      const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
      return overflow > 0 ? [...problems, `scrolls sideways by ${overflow} px at ${width} px wide`] : problems;
    },
  };
}

describe('the dashboard in a browser', () => {
  for (const [label, scored] of [
    ['rita-missing-host', () => rita],
    ['the demo', () => demo],
  ] as const) {
    test(`on ${label}, every view draws its charts with no console error, no request beyond the server and no sideways scroll at 1280 and 800 px`, async () => {
      const { dashboard, dirs } = scored();
      for (const view of dashboardViews(dirs.db)) {
        for (const width of WIDTHS) {
          const { page, problems } = await open(dashboard.url, view.path, width);
          try {
            assert.deepEqual(await problems(), [], `${view.path} at ${width} px`);
            // Every chart on the page was drawn (a canvas) or says why it is empty. One evaluate,
            // not a locator per chart: each locator call is a round trip to the browser.
            const silent = await page.evaluate<string[]>(
              "[...document.querySelectorAll('[data-chart]')].filter((chart) => !chart.querySelector('canvas') && chart.textContent.trim() === '').map((chart) => chart.id)",
            );
            assert.deepEqual(silent, [], `${view.path}: charts that drew nothing and said nothing`);
          } finally {
            await page.close();
          }
        }
      }
    });
  }

  test('a finding leads to its source host, and the host page leads back to the finding', async () => {
    const { page, problems } = await open(demo.dashboard.url, '/findings', 1280);
    try {
      const first = page.locator('table.findings tbody tr').first();
      const findingHref = await first.locator('a[href^="/findings/"]').first().getAttribute('href');
      assert.match(findingHref ?? '', /^\/findings\/\d+$/);
      await first.locator('a[href^="/findings/"]').first().click();
      await page.waitForURL(`**${findingHref!}`);
      assert.match((await page.locator('h1').textContent()) ?? '', /^Finding \d+: /);
      assert.match((await page.locator('#allow-entry').textContent()) ?? '', /"comment"/, 'the allow-list entry is shown, ready to copy');

      const source = page.locator('dl.facts dt:text-is("source") + dd a');
      const host = (await source.textContent()) ?? '';
      await source.click();
      await page.waitForURL(`**/hosts/${encodeURIComponent(host)}`);
      assert.equal(await page.locator('h1').textContent(), `Host ${host}`);

      await page.locator(`table.findings a[href="${findingHref!}"]`).first().click();
      await page.waitForURL(`**${findingHref!}`);
      assert.deepEqual(await problems(), []);
    } finally {
      await page.close();
    }
  });

  test('the anomalies explorer filters by host, sorts by score, pages on, and downloads the whole filter as CSV', async () => {
    const handle = openDatabase(rita.dirs.db, { readonly: true });
    // The source with the most flagged connections: enough for several pages.
    const host = handle.get<{ host: string }>('SELECT orig_h AS host FROM anomalies GROUP BY orig_h ORDER BY count(*) DESC LIMIT 1')!.host;
    const expected = queryAnomalies(handle, { host, order: 'score' });
    handle.close();
    assert.ok(expected.length > 100, `${host} has more than a page of flagged connections (${expected.length})`);

    const { page, problems } = await open(rita.dashboard.url, '/anomalies', 1280);
    try {
      await page.fill('form.filters input[name="host"]', host);
      await page.selectOption('form.filters select[name="order"]', 'score');
      await page.click('form.filters button[type="submit"]');
      await page.waitForURL(/order=score/);
      const scoresOf = async (): Promise<number[]> => (await page.locator('table.anomalies tbody tr td:nth-child(7)').allTextContents()).map(Number);
      const rowsHaveHost = async (): Promise<boolean> => {
        const sources = await page.locator('table.anomalies tbody tr td:nth-child(2)').allTextContents();
        const destinations = await page.locator('table.anomalies tbody tr td:nth-child(3)').allTextContents();
        return sources.every((source, i) => source.startsWith(`${host}:`) || destinations[i]!.startsWith(`${host}:`));
      };
      const first = await scoresOf();
      assert.equal(first.length, 100);
      assert.ok(await rowsHaveHost(), 'every row has the host at one end');
      assert.deepEqual(first, [...first].sort((a, b) => b - a));

      await page.click('text=next page →');
      await page.waitForURL(/after=/);
      const second = await scoresOf();
      assert.ok(second.length > 0 && await rowsHaveHost());
      assert.ok(second[0]! <= first.at(-1)!, 'the next page goes on down the scores');

      const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Download CSV')]);
      const file = await download.path();
      const records = parse<Record<string, string>>(await readFile(file), { columns: true });
      assert.deepEqual(Object.keys(records[0]!), [...ANOMALY_RECORD_KEYS]);
      assert.equal(records.length, expected.length, 'every row of the filter, not one page');
      assert.deepEqual(records.map((r) => Number(r.id)), expected.map((a) => a.id));
      assert.deepEqual(await problems(), []);
    } finally {
      await page.close();
    }
  });

  test('the overview redraws itself when the service records a file, without a reload', async () => {
    const { page, problems } = await open(demo.dashboard.url, '/', 1280);
    try {
      const note = page.locator('#tile-files-note');
      assert.match((await note.textContent()) ?? '', /0 failed/);
      // A real write by another process: `score` meets a file that is not gzip and records it as failed.
      const bad = join(demo.dirs.root, 'conn.broken.log.gz');
      await writeFile(bad, 'this is not gzip\n');
      const scored = await zeekAnomaly(['score', bad, '--config', demo.dirs.config, '--data-dir', demo.dirs.dataDir], { env: { ...SERVICE_ENV }, cwd: demo.dirs.root });
      assert.equal(scored.code, 1, scored.stderr);
      assert.match(scored.stdout, /conn\.broken\.log\.gz: FAILED/);
      // A locator's wait, not a function's: the page's Content-Security-Policy refuses the eval a function predicate needs.
      await page.locator('#tile-files-note', { hasText: /1 failed/ }).waitFor({ timeout: 15_000 });
      assert.match((await page.locator('#tile-last-failure-note').textContent()) ?? '', /conn\.broken\.log\.gz/);
      assert.equal(await page.evaluate(`performance.getEntriesByType('navigation').length`), 1, 'no reload');
      assert.deepEqual(await problems(), []);
    } finally {
      await page.close();
    }
  });

  test("with two sensors in the database, the files, anomalies and findings pages filter by sensor, and they, the models page and the overview show each row's, still fitting 800 px", async () => {
    // rita's database with every other file and finding moved to a second sensor.
    const file = join(rita.dirs.root, 'two-sensors.sqlite');
    const source = openDatabase(rita.dirs.db);
    try {
      source.run('VACUUM INTO ?', [file]);
    } finally {
      source.close();
    }
    const db = openDatabase(file);
    let moved: { files: number; anomalies: number; findings: number };
    try {
      db.exec(`UPDATE files SET sensor = 'edge-b' WHERE id % 2 = 0; UPDATE findings SET sensor = 'edge-b' WHERE id % 2 = 0;
        INSERT INTO models SELECT 'edge-b', version, created_at, active, preset, metrics FROM models`);
      // edge-b's scorer is part-way through a file; edge-a's died holding its lease (expired a second ago).
      claimSensorLease(db, { sensor: 'edge-b', holder: 'scorer-b:42:x', seconds: 600 });
      renewSensorLease(db, { sensor: 'edge-b', holder: 'scorer-b:42:x', seconds: 600 }, '/logs/edge-b/conn.10:00:00-11:00:00.log.gz');
      claimSensorLease(db, { sensor: 'edge-a', holder: 'scorer-a:7:y', seconds: -1 });
      moved = {
        files: listFiles(db, { sensor: 'edge-b' }).length,
        anomalies: queryAnomalies(db, { sensor: 'edge-b', limit: 100 }).length,
        findings: queryFindings(db, { sensor: 'edge-b' }).length,
      };
    } finally {
      db.close();
    }
    assert.ok(moved.files > 0 && moved.anomalies > 0 && moved.findings > 0, JSON.stringify(moved));
    const dashboard = await startDashboard({ db: file, host: '127.0.0.1', port: 0, token: '', logDir: rita.dirs.logDir, allow: [], findingTypes: FINDING_TYPES, log: quiet, liveSeconds: 1 });
    try {
      for (const path of ['/files', '/anomalies?order=score', '/findings?all=1', '/models']) {
        const { page, problems } = await open(dashboard.url, path, 800);
        try {
          assert.deepEqual(await problems(), [], path);
          assert.ok((await page.locator('th', { hasText: /^sensor$/ }).count()) === 1, `${path}: a sensor column`);
        } finally {
          await page.close();
        }
      }
      const overview = await open(dashboard.url, '/', 800);
      try {
        assert.deepEqual(await overview.problems(), []);
        assert.match((await overview.page.locator('#tile-model-note').textContent()) ?? '', new RegExp(`edge-b: v0001-.*|${hostname()}: v0001-.*edge-b`));
        assert.equal(await overview.page.locator('#tile-scoring-value').textContent(), '2 sensors');
        assert.equal(
          await overview.page.locator('#tile-scoring-note').textContent(),
          'edge-a: scorer-a:7:y, between files (expired: its scorer stopped renewing); edge-b: scorer-b:42:x on /logs/edge-b/conn.10:00:00-11:00:00.log.gz',
        );
      } finally {
        await overview.page.close();
      }
      const sensorCells = async (path: string): Promise<string[]> => {
        const html = await (await fetch(new URL(path, dashboard.url))).text();
        return [...html.matchAll(/<td class="nowrap">(edge-b|[^<]*)<\/td>/g)].map((m) => m[1]!).filter((cell) => cell === 'edge-b' || cell === hostname());
      };
      // As many as the sensor has, up to a page (100 files, 100 anomalies, 50 findings), all of them its own.
      assert.deepEqual(await sensorCells('/files?sensor=edge-b'), Array(Math.min(moved.files, 100)).fill('edge-b'));
      assert.deepEqual(await sensorCells('/anomalies?sensor=edge-b'), Array(moved.anomalies).fill('edge-b'));
      assert.deepEqual(await sensorCells('/findings?all=1&sensor=edge-b'), Array(Math.min(moved.findings, 50)).fill('edge-b'));
      const all = await sensorCells('/files');
      assert.ok(all.includes('edge-b') && all.includes(hostname()), 'unfiltered, both sensors');
      const refused = await fetch(new URL('/findings?sensor=edge%20b', dashboard.url));
      assert.equal(refused.status, 400);
      assert.match((await refused.text()).replaceAll('&quot;', '"'), /sensor is "edge b"; allowed: 1 to 64 letters, digits/);
    } finally {
      await dashboard.stop();
    }
  });
});

describe('the dashboard over HTTP', () => {
  const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(new URL(path, demo.dashboard.url), { headers, redirect: 'manual' });

  test('bad query parameters get a 400 that names the parameter, its value and what is allowed, and no stack trace', async () => {
    const cases: [string, RegExp][] = [
      ['/anomalies?order=size', /order is "size"; allowed: ts, score/],
      ['/anomalies?host=10.0.0.300', /host is "10\.0\.0\.300"; allowed: an IPv4 or IPv6 address/],
      ['/anomalies?since=yesterday', /since is "yesterday"; allowed: a date/],
      ['/findings?until=2024-02-30', /until is "2024-02-30"; allowed: a date/],
      ['/anomalies?after=1e3', /after is "1e3"; allowed: a cursor/],
      ['/anomalies?limit=5', /limit is not a parameter of this page; allowed: since, until, host, sensor, minScore, file, order, after/],
      ['/findings?severity=urgent', /severity is "urgent"; allowed: info, low, medium, high, critical/],
      ['/findings?type=botnet', /type is "botnet"; allowed: beacon, /],
      ['/findings?page=0', /page is "0"; allowed: a whole number of 1 or more/],
      ['/files?status=lost', /status is "lost"; allowed: done, failed, skipped/],
      ['/findings/abc', /finding id is "abc"; allowed: a whole number/],
      ['/hosts/example.com', /host is "example\.com"; allowed: an IPv4 or IPv6 address/],
      ['/anomalies?order=ts&order=score', /order is given more than once/],
    ];
    for (const [path, message] of cases) {
      const response = await get(path);
      const body = (await response.text()).replaceAll('&quot;', '"');
      assert.equal(response.status, 400, path);
      assert.match(body, message, path);
      assert.doesNotMatch(body, /\n\s+at [\w.]+ \(/, `${path}: no stack trace`);
    }
    const api = await get('/api/overview?window=1y');
    assert.equal(api.status, 400);
    assert.match(((await api.json()) as { error: string }).error, /window is "1y"; allowed: 24h, 7d, 30d/);
  });

  test("a time as the form's date-and-time field sends it (no zone) is taken as UTC, and the CSV holds exactly the rows in that hour", async () => {
    const response = await get('/anomalies.csv?since=2024-04-16T12:00&until=2024-04-16T13:00');
    assert.equal(response.status, 200);
    const records = parse<Record<string, string>>(await response.text(), { columns: true });
    assert.ok(records.length > 0, 'the demo has flagged rows in that hour');
    const [since, until] = [Date.UTC(2024, 3, 16, 12) / 1000, Date.UTC(2024, 3, 16, 13) / 1000];
    assert.ok(records.every((r) => Number(r.ts) >= since && Number(r.ts) < until), 'every row is in the hour');
    const handle = openDatabase(demo.dirs.db, { readonly: true });
    try {
      assert.equal(records.length, queryAnomalies(handle, { since, until }).length);
    } finally {
      handle.close();
    }
  });

  test('a finding or page that is not there is a 404 page, not an error', async () => {
    for (const path of ['/findings/999999', '/nowhere']) {
      const response = await get(path);
      assert.equal(response.status, 404, path);
      assert.match(await response.text(), /There is no/);
    }
  });

  test('another method than GET on a page is a 405 naming the methods allowed; an unknown path stays a 404', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      for (const path of ['/', '/findings', '/findings/1', '/anomalies.csv', '/api/overview', '/assets/dashboard.js']) {
        const response = await fetch(new URL(path, demo.dashboard.url), { method });
        assert.equal(response.status, 405, `${method} ${path}`);
        assert.equal(response.headers.get('allow'), 'GET, HEAD', `${method} ${path}`);
        assert.match(await response.text(), new RegExp(`^${method} is not allowed on ${path.replace('.', '\\.')}: it takes GET and HEAD`));
      }
    }
    assert.equal((await fetch(new URL('/nowhere', demo.dashboard.url), { method: 'POST' })).status, 404);
    assert.equal((await fetch(new URL('/findings', demo.dashboard.url), { method: 'HEAD' })).status, 200);
  });

  test('over plain HTTP it sends no Strict-Transport-Security, which only a TLS server may promise', async () => {
    for (const path of ['/', '/findings', '/assets/dashboard.css']) assert.equal((await get(path)).headers.get('strict-transport-security'), null, path);
  });

  test('every page carries a Content-Security-Policy that allows only the server itself, and forbids framing', async () => {
    for (const path of ['/', '/findings', '/assets/dashboard.js', '/anomalies?order=nope']) {
      const csp = (await get(path)).headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/, path);
      assert.match(csp, /script-src 'self'(;|$)/, path);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/, path);
    }
  });

  test('text from the logs is shown as text: a service name holding markup is escaped, not run', async () => {
    const { dir, cleanup } = await tempDir('zeek-anomaly-dashboard-xss-');
    const file = join(dir, 'xss.sqlite');
    const db = openDatabase(file);
    db.run(`INSERT INTO files (id, path, size, sha256, status, rows, flagged, started_at, finished_at, first_ts, last_ts) VALUES (1, '<b>f</b>.log.gz', 1, 'x', 'done', 1, 1, '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', 0, 1)`);
    db.run(`INSERT INTO anomalies (file_id, ts, uid, orig_h, orig_p, resp_h, resp_p, proto, service, score, threshold, model_version, explanation)
      VALUES (1, 1, 'C1', '10.0.0.1', 1, '10.0.0.2', 80, 'tcp', '<script>alert(1)</script>', 2, 1, 'v1', '[{"feature":"</script><img src=x onerror=alert(1)>","share":1}]')`);
    db.close();
    const dashboard = await startDashboard({ db: file, host: '127.0.0.1', port: 0, token: '', logDir: null, allow: [], findingTypes: FINDING_TYPES, log: quiet });
    try {
      for (const path of ['/anomalies', '/files', '/hosts/10.0.0.1']) {
        const html = await (await fetch(new URL(path, dashboard.url))).text();
        assert.doesNotMatch(html, /<script>alert|<img src=x|<b>f<\/b>/, path);
        assert.match(html, path === '/files' ? /&lt;b&gt;f&lt;\/b&gt;/ : /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, `${path}: shown as text`);
      }
    } finally {
      await dashboard.stop();
      await cleanup();
    }
  });

  test('without a token it answers only to loopback names: a page that rebinds its own name to 127.0.0.1 gets a 403', async () => {
    const { port } = new URL(demo.dashboard.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', headers: { host: `attacker.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 403);
    assert.equal((await get('/')).status, 200, 'while 127.0.0.1 is answered');
  });

  test('watch --serve scores and serves from one process: an archive placed while it runs is on the files page, and SIGTERM stops both', async () => {
    const dirs = await serviceDirs({ modelsFrom: rita.dirs.dataDir });
    const service = ServiceProcess.watch([...dirs.flags, '--serve', '--port', '0'], dirs.root);
    try {
      const { url } = (await service.waitFor("the 'dashboard' line", (line) => line.event === 'dashboard')) as LogLine & { url: string };
      const archive = await placeArchive(dirs.logDir, '2024-04-19', 'conn.00:00:00-01:00:00.log.gz', join(RITA, '2024-04-19', 'conn.00:00:00-01:00:00.log.gz'));
      const done = await service.waitForFile(archive);
      assert.equal(done.status, 'done');
      const files = await (await fetch(new URL('/files', url))).text();
      assert.match(files, /conn\.00:00:00-01:00:00\.log\.gz/);
      assert.match(files, /badge st-done/);
      assert.deepEqual(await service.stop('SIGTERM'), { code: 0, signal: null });
      await assert.rejects(fetch(url), 'the dashboard stopped with the service');
    } finally {
      service.kill();
      await dirs.cleanup();
    }
  });

  test('bound beyond loopback without a token, it refuses to start, and says how to give one', async () => {
    await assert.rejects(
      startDashboard({ db: demo.dirs.db, host: '0.0.0.0', port: 0, token: '', logDir: null, allow: [], findingTypes: FINDING_TYPES, log: quiet }),
      /refusing to serve the dashboard on 0\.0\.0\.0 without a token.*ZEEK_ANOMALY_SERVE_TOKEN/,
    );
    const cli = await zeekAnomaly(['serve', '--host', '0.0.0.0', '--port', '0', '--db', demo.dirs.db, '--data-dir', demo.dirs.dataDir], { cwd: demo.dirs.root });
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /refusing to serve the dashboard on 0\.0\.0\.0 without a token/);
    assert.doesNotMatch(cli.stdout + cli.stderr, /"event":"dashboard","url"/, 'it never listened');
  });

  test('watch --serve bound beyond loopback without a token refuses before it makes the database, and --db naming a folder says so', async () => {
    const dirs = await serviceDirs({ modelsFrom: rita.dirs.dataDir });
    try {
      const watched = await zeekAnomaly(['watch', '--once', '--serve', '--host', '0.0.0.0', '--port', '0', ...dirs.flags], { cwd: dirs.root, env: { ...SERVICE_ENV } });
      assert.equal(watched.code, 1, watched.stderr);
      assert.match(watched.stderr, /refusing to serve the dashboard on 0\.0\.0\.0 without a token/);
      assert.equal(existsSync(dirs.db), false, 'no database was made');
      const folder = await zeekAnomaly(['anomalies', '--db', dirs.dataDir], { cwd: dirs.root });
      assert.notEqual(folder.code, 0);
      assert.match(folder.stderr, new RegExp(`${dirs.dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is a directory; --db \\(or db\\) names the SQLite file`));
      assert.doesNotMatch(folder.stderr, /disk I\/O error/);
    } finally {
      await dirs.cleanup();
    }
  });

  test('with a token, a request without it or with a wrong one gets a 401, and the token as bearer or basic-auth password gets in', async () => {
    const dashboard = await startDashboard({ db: demo.dirs.db, host: '0.0.0.0', port: 0, token: TOKEN, logDir: null, allow: [], findingTypes: FINDING_TYPES, log: quiet });
    try {
      const url = new URL('/findings', `http://127.0.0.1:${new URL(dashboard.url).port}`);
      const without = await fetch(url);
      assert.equal(without.status, 401);
      assert.match(without.headers.get('www-authenticate') ?? '', /^Basic /);
      assert.doesNotMatch(await without.text(), /<table/, 'no data without the token');
      assert.equal((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}x` } })).status, 401);
      assert.equal((await fetch(new URL('/assets/dashboard.js', url), {})).status, 401, 'assets too');
      const withToken = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(withToken.status, 200);
      assert.equal((await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`analyst:${TOKEN}`).toString('base64')}` } })).status, 200);
      // What the token guards must not wait in a browser's or a proxy's cache for someone without it.
      for (const path of ['/findings', '/anomalies.csv', '/api/overview', '/assets/dashboard.js']) {
        const response = await fetch(new URL(path, url), { headers: { authorization: `Bearer ${TOKEN}` } });
        assert.equal(response.status, 200, path);
        assert.equal(response.headers.get('cache-control'), 'no-store', path);
      }
      assert.equal(without.headers.get('cache-control'), 'no-store', 'the 401 too');
    } finally {
      await dashboard.stop();
    }
  });
});
