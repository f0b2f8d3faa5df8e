// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import { FINDING_TYPES } from '../pipeline/findings/registry.js';
import * as assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { Browser, Page } from 'playwright-core';
import { listFiles } from '../db/files.js';
import { anomaliesOfFinding, queryFindings } from '../db/findings.js';
import { listModels } from '../db/models.js';
import { openDatabase } from '../db/open-database.js';
import { launchChromium } from '../scripts/dev/browser.js';
import type { Logger } from '../pipeline/service/logger.js';
import { startDashboard, type RunningDashboard } from '../pipeline/serve/start-dashboard.js';
import { zeekAnomaly } from './support/cli.js';
import { shared } from './support/paths.js';
import { placeArchive, SERVICE_ENV, serviceDirs, trainModel, type ServiceDirs } from './support/service.js';

// A crafted log as an attacker who can put bytes on the wire (or in a log) would write it: the real
// rita-missing-host hour 02:00 with rows added whose addresses are not addresses, whose proto is not
// one of Zeek's, and whose strings start like spreadsheet formulas, hold bidi controls or run to
// 5,000 characters. It goes through the real reader, `score`, the SQLite store, both CSV exports
// and the dashboard in Chromium.

const DAY = shared('rotated', 'rita-missing-host', '2024-04-19');
const HOUR_START = 1713492000; // 2024-04-19T02:00:00Z
const LONG = 'A'.repeat(5000);
const RLO = '\u202e';

/** Rows whose address or proto is not what its Zeek type says: each must be a bad line. */
const BAD_ROWS = [
  { 'id.orig_h': '<script>alert(1)</script>' },
  { 'id.resp_h': '../../../etc/passwd' },
  { 'id.orig_h': "1.2.3.4' OR '1'='1" },
  { 'id.resp_h': '9'.repeat(5000) },
  { proto: 'tcp<img src=x onerror=alert(1)>' },
] as const;

/** Rows that are valid Zeek, with strings a page or a spreadsheet must not take at their word; made large so they are flagged. */
const ODD_ROWS = [
  { 'id.orig_h': '10.66.0.1', service: '=HYPERLINK("http://example.invalid/","click")', history: '+ShAD', uid: '@SUM(A1)' },
  { 'id.orig_h': '10.66.0.2', service: `evil${RLO}gpj.exe`, history: `-${RLO}dAhS`, uid: `C${RLO}reversed` },
  { 'id.orig_h': '10.66.0.3', service: LONG, history: LONG, uid: LONG },
] as const;

const quiet: Logger = { info: () => {}, error: () => {} };
let dirs: ServiceDirs;
let version: string;
let hostile: string;
let scoreStdout: string;
let dashboard: RunningDashboard;
let browser: Browser;

before(async () => {
  dirs = await serviceDirs();
  version = await trainModel(dirs.dataDir, join(DAY, 'conn.00:00:00-01:00:00.log.gz'), dirs.root);
  hostile = await placeArchive(dirs.logDir, '2024-04-19', 'conn.02:00:00-03:00:00.log', Buffer.from(await craftedLog()));
  const scored = await zeekAnomaly(['score', '--json', '--config', dirs.config, '--data-dir', dirs.dataDir, hostile], { env: { ...SERVICE_ENV }, cwd: dirs.root });
  assert.equal(scored.code, 0, scored.stderr);
  scoreStdout = scored.stdout;
  dashboard = await startDashboard({ db: dirs.db, host: '127.0.0.1', port: 0, token: '', logDir: dirs.logDir, allow: [], findingTypes: FINDING_TYPES, log: quiet, liveSeconds: 60 });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await dashboard?.stop();
  await dirs?.cleanup();
});

describe('hostile values in a crafted conn log', () => {
  test('addresses that are not IPv4 or IPv6 and a proto outside Zeek’s enum are bad lines, named in the ledger; the real rows are all scored', () => {
    const outcome = JSON.parse(scoreStdout) as { status: string; rows: number; badLines: number };
    assert.equal(outcome.status, 'done');
    assert.equal(outcome.badLines, BAD_ROWS.length);
    assert.equal(outcome.rows, 1168 + ODD_ROWS.length, 'the real hour’s 1,168 rows and the odd but valid ones');
    const db = openDatabase(dirs.db, { readonly: true });
    try {
      const [file] = listFiles(db, { limit: 10 });
      assert.equal(file?.badLines, BAD_ROWS.length);
      const stored = db.all<{ orig_h: string; resp_h: string; proto: string }>('SELECT orig_h, resp_h, proto FROM anomalies');
      for (const row of stored) {
        for (const value of [row.orig_h, row.resp_h]) assert.match(value, /^[0-9a-f.:]+$/i, `a stored address: ${value.slice(0, 40)}`);
        assert.ok(['tcp', 'udp', 'icmp', 'unknown_transport'].includes(row.proto), row.proto);
      }
    } finally {
      db.close();
    }
  });

  test('after retrain and score, the models table, the models page and the overview name the version that scored', async () => {
    const db = openDatabase(dirs.db, { readonly: true });
    try {
      assert.deepEqual(
        listModels(db).map((m) => [m.version, m.active]),
        [[version, true]],
      );
    } finally {
      db.close();
    }
    for (const path of ['/', '/models']) {
      const page = await open(path);
      const text = await page.innerText('main');
      assert.ok(text.includes(version), `${path} names ${version}:\n${text.slice(0, 600)}`);
      assert.ok(!/no model/i.test(text), `${path} says there is no model:\n${text.slice(0, 600)}`);
      await page.close();
    }
  });

  test("a finding's top uid is its highest-scored flagged connection's, and the finding page shows its uids as text", async () => {
    const db = openDatabase(dirs.db, { readonly: true });
    let shown: { id: number; uid: string };
    try {
      const withFlags = queryFindings(db, { limit: 1000 }).filter((f) => anomaliesOfFinding(db, f.id, 1).length > 0);
      assert.ok(withFlags.length > 0, 'some finding has flagged connections');
      for (const finding of withFlags) assert.equal(finding.uids.top, anomaliesOfFinding(db, finding.id, 1)[0]!.uid, `finding ${finding.id}`);
      // The crafted 9 GB upload from 10.66.0.1 is an exfiltration finding whose flagged row has the uid '@SUM(A1)'.
      const formula = withFlags.find((f) => f.src === '10.66.0.1');
      assert.ok(formula !== undefined, withFlags.map((f) => `${f.type} ${f.src}`).join('; '));
      shown = { id: formula.id, uid: formula.uids.top! };
    } finally {
      db.close();
    }
    assert.equal(shown.uid, ODD_ROWS[0].uid);
    const page = await open(`/findings/${shown.id}`);
    assert.ok((await page.innerText('main')).includes(`top flagged ${shown.uid}`));
    await page.close();
  });

  test('the CLI’s and the dashboard’s CSV neutralise formula-leading cells, and csv-parse reads every row back', async () => {
    const fromCli = await zeekAnomaly(['anomalies', '--db', dirs.db, '--format', 'csv', '--limit', '10000'], { cwd: dirs.root });
    assert.equal(fromCli.code, 0, fromCli.stderr);
    const response = await fetch(new URL('/anomalies.csv', dashboard.url));
    assert.equal(response.status, 200);
    for (const [label, text] of [
      ['anomalies --format csv', fromCli.stdout],
      ['/anomalies.csv', await response.text()],
    ] as const) {
      const records = parse<Record<string, string>>(text, { columns: true });
      const formula = records.find((r) => r.orig_h === '10.66.0.1');
      assert.ok(formula !== undefined, `${label}: the formula row is flagged and exported`);
      assert.equal(formula.service, `'${ODD_ROWS[0].service}`, label);
      assert.equal(formula.history, `'${ODD_ROWS[0].history}`, label);
      assert.equal(formula.uid, `'${ODD_ROWS[0].uid}`, label);
      const formulaStarts = records.flatMap((r) => Object.values(r)).filter((cell) => /^[=+\-@\t\r]/.test(cell));
      assert.deepEqual(formulaStarts, [], `${label}: no cell starts like a formula`);
    }
  });

  test('in Chromium, bidi controls are shown as code points and a 5,000-character value neither widens the page nor the table past the screen', async () => {
    for (const path of ['/anomalies?order=score', '/hosts/10.66.0.2', '/hosts/10.66.0.3']) {
      const page = await open(path);
      const text = await page.innerText('body');
      assert.ok(!text.includes(RLO), `${path}: a raw U+202E reached the page`);
      const widths = await page.evaluate<{ page: number; tables: number[] }>(`({
        page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        tables: [...document.querySelectorAll('table')].map((t) => t.scrollWidth),
      })`);
      assert.equal(widths.page, 0, `${path} scrolls sideways`);
      for (const width of widths.tables) assert.ok(width <= 1280, `${path}: a table ${width} px wide at 1280`);
      if (path !== '/hosts/10.66.0.3') assert.ok(text.includes('[U+202E]'), `${path} marks the control:\n${text.slice(0, 800)}`);
      await page.close();
    }
  });
});

async function open(path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const response = await page.goto(new URL(path, dashboard.url).href, { waitUntil: 'load' });
  assert.equal(response?.status(), 200, path);
  return page;
}

/** The real hour, its `#close` held back, with the bad and the odd rows added before it. */
async function craftedLog(): Promise<string> {
  const text = gunzipSync(await readFile(join(DAY, 'conn.02:00:00-03:00:00.log.gz'))).toString('utf8');
  const lines = text.trimEnd().split('\n');
  const close = lines.pop()!;
  assert.match(close, /^#close/);
  const fields = lines.find((line) => line.startsWith('#fields'))!.split('\t').slice(1);
  const row = (i: number, values: Record<string, string>): string => {
    const base: Record<string, string> = {
      _node_name: 'worker-eth0-1',
      ts: (HOUR_START + 600 + i).toFixed(6),
      uid: `Chostile${i}`,
      'id.orig_h': '10.66.0.9',
      'id.orig_p': '4444',
      'id.resp_h': '64.225.56.201',
      'id.resp_p': '31337',
      proto: 'tcp',
      service: '-',
      duration: '86000.5',
      orig_bytes: '9000000000',
      resp_bytes: '12',
      conn_state: 'SF',
      local_orig: 'F',
      local_resp: 'T',
      missed_bytes: '0',
      history: 'ShADadFf',
      orig_pkts: '6000000',
      orig_ip_bytes: '9300000000',
      resp_pkts: '3',
      resp_ip_bytes: '160',
      tunnel_parents: '-',
    };
    return fields.map((name) => ({ ...base, ...values })[name] ?? '-').join('\t');
  };
  const added = [...BAD_ROWS, ...ODD_ROWS].map((values, i) => row(i, values));
  return [...lines, ...added, close, ''].join('\n');
}
