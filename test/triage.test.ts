import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Db, Engine } from '../db/connection.js';
import { findingById, insertFinding, pruneFindingsBefore, queryFindings, type StoredFinding } from '../db/findings.js';
import { activeSuppressions, revokeSuppression } from '../db/suppressions.js';
import { openDatabase } from '../db/open-database.js';
import { eventsOfFinding, pruneEventsBefore, triageFinding } from '../db/triage.js';
import { DEFAULT_FINDINGS } from '../pipeline/findings/findings-settings.js';
import { FindingsStage } from '../pipeline/findings/findings-stage.js';
import { SuppressionSet, suppressionFor } from '../pipeline/findings/suppression-set.js';
import { replayFindings, REPLAY_SENSOR } from '../pipeline/train/replay-findings.js';
import { FINDING_TYPES } from '../pipeline/findings/registry.js';
import { startDashboard } from '../pipeline/serve/start-dashboard.js';
import { startPostgres, type LocalPostgres } from '../scripts/dev/local-postgres.js';
import { jsonLines, zeekAnomaly } from './support/cli.js';
import { shared, tempDir } from './support/paths.js';
import { archivesIn } from './support/service.js';

// Verdicts on real findings: rita-missing-host's three days replayed through the detectors, a
// verdict given after the first day, and the later days' files coming in after it.

const RITA = shared('rotated', 'rita-missing-host');
// 120.245.134.197 tries 64.225.56.201:30003 every 16 s for all three days: refused-retries, critical from the first day.
const RETRIES = { type: 'refused-retries', src: '120.245.134.197', port: 30003 };
const END_OF_DAY_1 = '2024-04-19T23:59:59.000Z';

let scratch: { dir: string; cleanup: () => Promise<void> };
let postgres: LocalPostgres;
let days: string[][];
before(async () => {
  scratch = await tempDir('zeek-anomaly-triage-');
  postgres = await startPostgres();
  days = await Promise.all(['2024-04-19', '2024-04-20', '2024-04-21'].map((day) => archivesIn(join(RITA, day))));
});
after(async () => {
  postgres?.stop();
  await scratch?.cleanup();
});

function target(findings: StoredFinding[], match: { type: string; src: string; port?: number }): StoredFinding {
  const found = findings.find((f) => f.type === match.type && f.src === match.src && (match.port === undefined || f.port === match.port));
  assert.ok(found !== undefined, `no ${match.type} finding from ${match.src}`);
  return found;
}

for (const engine of ['sqlite', 'postgres'] as const satisfies readonly Engine[]) {
  describe(`triage on ${engine}`, () => {
    const store = (name: string): string => (engine === 'sqlite' ? join(scratch.dir, `${name}.sqlite`) : postgres.newDatabaseUrl());
    /** A fresh store with rita's first day replayed through the detectors; `fn` gets it and the day's findings. */
    const withFirstDay = async (name: string, fn: (db: Db, findings: StoredFinding[]) => Promise<void> | void): Promise<void> => {
      const db = openDatabase(store(name));
      try {
        await replayFindings(db, days[0]!, new FindingsStage(DEFAULT_FINDINGS));
        await fn(db, queryFindings(db));
      } finally {
        db.close();
      }
    };

    test('a verdict sets the status, its note, who and when, and is one entry of the trail; a finding that is not there is said to be missing', async () => {
      await withFirstDay('verdict', (db, findings) => {
        const retries = target(findings, RETRIES);
        assert.equal(retries.status, 'new');
        const outcome = triageFinding(db, retries.id, { status: 'acknowledged', note: 'looking into it', by: 'alice', at: '2024-04-20T08:00:00.000Z' });
        assert.deepEqual(outcome, { status: 'done', findingId: retries.id, from: 'new', to: 'acknowledged', suppressionId: null });
        triageFinding(db, retries.id, { status: 'benign', note: 'a misconfigured monitor', by: 'bob', at: '2024-04-20T09:00:00.000Z' });
        const stored = findingById(db, retries.id)!;
        assert.deepEqual([stored.status, stored.statusNote, stored.statusBy, stored.statusAt], ['benign', 'a misconfigured monitor', 'bob', '2024-04-20T09:00:00.000Z']);
        assert.deepEqual(
          eventsOfFinding(db, retries.id).map((e) => [e.by, e.action, e.statusFrom, e.statusTo, e.note]),
          [
            ['alice', 'triaged', 'new', 'acknowledged', 'looking into it'],
            ['bob', 'triaged', 'acknowledged', 'benign', 'a misconfigured monitor'],
          ],
        );
        assert.deepEqual(triageFinding(db, 999_999, { status: 'closed', note: null, by: 'alice' }), { status: 'missing', findingId: 999_999 });
        assert.throws(() => triageFinding(db, retries.id, { status: 'new' as 'closed', note: null, by: 'alice' }), /status is 'new'; allowed: acknowledged, threat, benign, closed/);
        assert.equal(findingById(db, retries.id)!.status, 'benign', 'a refused status changes nothing');
        assert.deepEqual(queryFindings(db, { statuses: ['benign'] }).map((f) => f.id), [retries.id]);
        assert.ok(queryFindings(db, { statuses: ['new'] }).every((f) => f.id !== retries.id));
      });
    });

    test('a finding marked benign that is active again after the verdict is reopened, saying why; one marked threat stays a threat', async () => {
      await withFirstDay('reopen', async (db, findings) => {
        const first = findings;
        const retries = target(first, RETRIES);
        const threat = first.find((f) => f.id !== retries.id && f.src !== null && f.lastTs > Date.parse(END_OF_DAY_1) / 1000 - 3600);
        assert.ok(threat !== undefined, 'another finding active at the end of the first day');
        triageFinding(db, retries.id, { status: 'benign', note: 'harmless', by: 'alice', at: END_OF_DAY_1 });
        triageFinding(db, threat.id, { status: 'threat', note: 'escalated', by: 'alice', at: END_OF_DAY_1 });
        await replayFindings(db, days[1]!.slice(0, 2), new FindingsStage(DEFAULT_FINDINGS));
        const reopened = findingById(db, retries.id)!;
        assert.equal(reopened.status, 'new');
        assert.match(reopened.statusNote ?? '', /^reopened: active again after it was marked benign at 2024-04-19T23:59:59\.000Z: \d+ more connections, the last at 2024-04-20T0/);
        const trail = eventsOfFinding(db, retries.id);
        assert.deepEqual(trail.map((e) => [e.by, e.action, e.statusFrom, e.statusTo]), [
          ['alice', 'triaged', 'new', 'benign'],
          ['zeek-anomaly', 'reopened', 'benign', 'new'],
        ]);
        assert.equal(findingById(db, threat.id)!.status, 'threat', 'a threat is being dealt with: later activity does not reopen it');
      });
    });

    test('a benign verdict with a suppression hides the finding from the lists and keeps it from being reopened; a revoke brings it back', async () => {
      await withFirstDay('suppress', async (db, findings) => {
        const retries = target(findings, RETRIES);
        const suppress = { ...suppressionFor(retries, 'channel', { everyType: false, everySensor: false }), expiresAt: null };
        assert.deepEqual(
          { sensor: suppress.sensor, type: suppress.type, src: suppress.src, dst: suppress.dst, port: suppress.port, proto: suppress.proto },
          { sensor: REPLAY_SENSOR, type: 'refused-retries', src: '120.245.134.197', dst: '64.225.56.201', port: 30003, proto: 'tcp' },
        );
        const outcome = triageFinding(db, retries.id, { status: 'benign', note: 'a monitor', by: 'alice', at: END_OF_DAY_1, suppress });
        assert.ok(outcome.status === 'done' && outcome.suppressionId !== null);
        const covering = (): number | undefined => new SuppressionSet(activeSuppressions(db, new Date().toISOString())).covering(findingById(db, retries.id)!, REPLAY_SENSOR)?.id;
        assert.equal(covering(), outcome.suppressionId);
        await replayFindings(db, days[1]!.slice(0, 2), new FindingsStage(DEFAULT_FINDINGS));
        assert.equal(findingById(db, retries.id)!.status, 'benign', 'active again, but suppressed: not reopened');
        assert.ok(findingById(db, retries.id)!.lastTs > Date.parse(END_OF_DAY_1) / 1000, 'still updated by the later files');
        assert.deepEqual(revokeSuppression(db, outcome.suppressionId, 'bob', '2024-04-21T00:00:00.000Z'), { status: 'done' });
        assert.equal(covering(), undefined);
        assert.deepEqual(revokeSuppression(db, outcome.suppressionId, 'bob', '2024-04-21T00:00:01.000Z'), { status: 'skipped', reason: 'already revoked at 2024-04-21T00:00:00.000Z' });
        assert.deepEqual(revokeSuppression(db, 999_999, 'bob', '2024-04-21T00:00:01.000Z'), { status: 'missing' });
        // An expired one is no longer in force.
        triageFinding(db, retries.id, { status: 'benign', note: 'for a day', by: 'alice', suppress: { ...suppress, expiresAt: '2024-01-01T00:00:00.000Z' } });
        assert.equal(covering(), undefined);
        assert.throws(() => triageFinding(db, retries.id, { status: 'threat', note: null, by: 'alice', suppress }), /a suppression goes with a verdict of benign, not threat/);
      });
    });

    test('retention deletes a finding but keeps its trail, which goes only with its own retention', async () => {
      await withFirstDay('retention', (db, findings) => {
        const retries = target(findings, RETRIES);
        triageFinding(db, retries.id, { status: 'closed', note: 'fixed the monitor', by: 'alice', at: '2024-04-20T00:00:00.000Z' });
        assert.ok(pruneFindingsBefore(db, Date.parse('2030-01-01') / 1000) > 0);
        assert.equal(findingById(db, retries.id), undefined);
        assert.equal(eventsOfFinding(db, retries.id).length, 1, 'the trail outlives the finding');
        assert.equal(pruneEventsBefore(db, '2024-04-20T00:00:00.000Z'), 0, 'an entry exactly at the cut-off stays');
        assert.equal(pruneEventsBefore(db, '2024-04-20T00:00:00.001Z'), 1);
        assert.deepEqual(eventsOfFinding(db, retries.id), []);
      });
    });
  });
}

describe('suppressions in a shared PostgreSQL store', () => {
  test('a suppression made for every sensor through one connection holds for another sensor read through another', async () => {
    const url = postgres.newDatabaseUrl();
    const first = openDatabase(url);
    const second = openDatabase(url);
    try {
      await replayFindings(first, days[0]!, new FindingsStage(DEFAULT_FINDINGS));
      const retries = target(queryFindings(first), RETRIES);
      // The same detection on another sensor of the fleet.
      insertFinding(second, 'sensor-b', { ...retries, uids: retries.uids }, new Date().toISOString());
      const everywhere = { ...suppressionFor(retries, 'channel', { everyType: false, everySensor: true }), expiresAt: null };
      assert.equal(everywhere.sensor, null);
      triageFinding(first, retries.id, { status: 'benign', note: 'fleet-wide', by: 'alice', suppress: everywhere });
      const seen = new SuppressionSet(activeSuppressions(second, new Date().toISOString()));
      const onB = queryFindings(second, { sensor: 'sensor-b' });
      assert.equal(onB.length, 1);
      assert.notEqual(seen.covering(onB[0]!, 'sensor-b'), null, 'it holds on sensor-b');
      const onlyHere = { ...suppressionFor(retries, 'channel', { everyType: false, everySensor: false }), expiresAt: null };
      const local = new SuppressionSet([{ ...onlyHere, id: 1, reason: 'r', by: 'a', createdAt: '', findingId: null, revokedAt: null, revokedBy: null }]);
      assert.equal(local.covering(onB[0]!, 'sensor-b'), null, "a suppression for this finding's sensor does not reach another");
    } finally {
      first.close();
      second.close();
    }
  });
});

/** A SQLite file with rita's first day replayed, for the CLI to work on, and its refused-retries finding's id. */
async function firstDayFile(name: string): Promise<{ file: string; id: number }> {
  const file = join(scratch.dir, `${name}.sqlite`);
  const db = openDatabase(file);
  try {
    await replayFindings(db, days[0]!, new FindingsStage(DEFAULT_FINDINGS));
    return { file, id: target(queryFindings(db), RETRIES).id };
  } finally {
    db.close();
  }
}

describe('zeek-anomaly findings triage', () => {
  test('the CLI records a verdict with a note and a name, lists by status, shows the trail, and refuses a bad status or a missing finding', async () => {
    const { file, id } = await firstDayFile('cli');
    const triaged = await zeekAnomaly(['findings', 'triage', String(id), '--as', 'threat', '--note', 'C2 behind it', '--by', 'carol', '--db', file], { cwd: scratch.dir });
    assert.equal(triaged.code, 0, triaged.stderr);
    assert.equal(triaged.stdout, `finding ${id}: new → threat, by carol: C2 behind it\n`);
    const listed = jsonLines((await zeekAnomaly(['findings', '--status', 'threat', '--format', 'json', '--db', file], { cwd: scratch.dir })).stdout);
    assert.deepEqual(listed.map((f) => [f.id, f.status, f.statusBy, f.statusNote]), [[id, 'threat', 'carol', 'C2 behind it']]);
    const others = jsonLines((await zeekAnomaly(['findings', '--status', 'new,acknowledged', '--format', 'json', '--limit', '500', '--db', file], { cwd: scratch.dir })).stdout);
    assert.ok(others.length > 0 && others.every((f) => f.status === 'new'));
    const shown = await zeekAnomaly(['findings', 'show', String(id), '--db', file], { cwd: scratch.dir });
    assert.match(shown.stdout, /^status: +threat, by carol at \S+: C2 behind it$/m);
    assert.match(shown.stdout, /^history: +\S+ carol triaged new → threat: C2 behind it$/m);
    const byDefault = await zeekAnomaly(['findings', 'triage', String(id), '--as', 'closed', '--db', file], { cwd: scratch.dir });
    assert.match(byDefault.stdout, new RegExp(`^finding ${id}: threat → closed, by \\S+\\n$`), 'the OS user when --by is not given');

    const badStatus = await zeekAnomaly(['findings', 'triage', String(id), '--as', 'fine', '--db', file], { cwd: scratch.dir });
    assert.equal(badStatus.code, 2);
    assert.match(badStatus.stderr, /'fine' is invalid.*Allowed choices are acknowledged, threat, benign, closed/s);
    const badFilter = await zeekAnomaly(['findings', '--status', 'new,maybe', '--db', file], { cwd: scratch.dir });
    assert.equal(badFilter.code, 2);
    assert.match(badFilter.stderr, /'maybe' is not a triage status; allowed: new, acknowledged, threat, benign, closed/);
    const missing = await zeekAnomaly(['findings', 'triage', '999999', '--as', 'benign', '--db', file], { cwd: scratch.dir });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no finding 999999 in /);
  });

  test('a benign verdict with --suppress hides the finding from findings (counted on stderr), suppressions lists it, and revoking it shows it again', async () => {
    const { file, id } = await firstDayFile('cli-suppress');
    const ids = async (...flags: string[]): Promise<{ ids: unknown[]; stderr: string }> => {
      const listed = await zeekAnomaly(['findings', '--format', 'json', '--limit', '1000', '--db', file, ...flags], { cwd: scratch.dir });
      assert.equal(listed.code, 0, listed.stderr);
      return { ids: jsonLines(listed.stdout).map((f) => f.id), stderr: listed.stderr };
    };
    assert.ok((await ids()).ids.includes(id));
    const triaged = await zeekAnomaly(['findings', 'triage', String(id), '--as', 'benign', '--note', 'a monitor', '--suppress', 'channel', '--for', '7d', '--by', 'dave', '--db', file], { cwd: scratch.dir });
    assert.equal(triaged.code, 0, triaged.stderr);
    assert.match(triaged.stdout, /^suppression (\d+): refused-retries on replay: 120\.245\.134\.197 → 64\.225\.56\.201:30003\/tcp \(channel\), until 20\d\d-/m);
    const suppressionId = /^suppression (\d+):/m.exec(triaged.stdout)![1]!;
    const hidden = await ids();
    assert.ok(!hidden.ids.includes(id));
    assert.match(hidden.stderr, /^1 finding\(s\) hidden by suppressions/m);
    const everything = await zeekAnomaly(['findings', '--all', '--format', 'json', '--limit', '1000', '--db', file], { cwd: scratch.dir });
    assert.equal(jsonLines(everything.stdout).find((f) => f.id === id)?.suppressedBy, Number(suppressionId));
    // The dashboard reads the same store: the list hides it and says so, the finding page says why and shows the trail.
    const dashboard = await startDashboard({ db: file, host: '127.0.0.1', port: 0, token: '', logDir: null, allow: [], findingTypes: FINDING_TYPES, log: { info: () => {}, error: () => {} } });
    try {
      const page = async (path: string): Promise<string> => (await fetch(new URL(path, dashboard.url))).text();
      const list = await page('/findings');
      assert.doesNotMatch(list, new RegExp(`href="/findings/${id}"`));
      assert.match(list, /1 hidden by suppressions/);
      assert.match(await page('/findings?all=1'), new RegExp(`href="/findings/${id}"`));
      assert.match(await page('/findings?status=benign&all=1'), new RegExp(`href="/findings/${id}"`));
      const one = await page(`/findings/${id}`);
      assert.match(one, new RegExp(`by suppression ${suppressionId} \\(channel, dave: a monitor\\)`));
      assert.match(one, /benign, by dave at /);
      assert.match(one, /triaged: new → benign/);
    } finally {
      await dashboard.stop();
    }
    const listed = await zeekAnomaly(['suppressions', '--db', file], { cwd: scratch.dir });
    assert.match(listed.stdout, new RegExp(`^ *${suppressionId} +refused-retries on replay: 120\\.245\\.134\\.197 → 64\\.225\\.56\\.201:30003/tcp \\(channel\\) +until \\S+ +dave +${id} +a monitor$`, 'm'));
    const revoked = await zeekAnomaly(['suppressions', 'revoke', suppressionId, '--by', 'erin', '--db', file], { cwd: scratch.dir });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.ok((await ids()).ids.includes(id), 'listed again');
    const again = await zeekAnomaly(['suppressions', 'revoke', suppressionId, '--db', file], { cwd: scratch.dir });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is already revoked at /);
    assert.match((await zeekAnomaly(['suppressions', '--all', '--db', file], { cwd: scratch.dir })).stdout, /revoked \S+ by erin/);
    const wrongVerdict = await zeekAnomaly(['findings', 'triage', String(id), '--as', 'threat', '--suppress', 'pair', '--db', file], { cwd: scratch.dir });
    assert.equal(wrongVerdict.code, 2);
    assert.match(wrongVerdict.stderr, /--suppress goes with --as benign, not --as threat/);
    const badDuration = await zeekAnomaly(['findings', 'triage', String(id), '--as', 'benign', '--suppress', 'pair', '--for', 'soon', '--db', file], { cwd: scratch.dir });
    assert.equal(badDuration.code, 2);
    assert.match(badDuration.stderr, /expected a duration such as 30m, 12h, 7d or 2w, got 'soon'/);
  });
});
