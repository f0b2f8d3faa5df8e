import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Engine } from '../db/connection.js';
import { findingById, pruneFindingsBefore, queryFindings, type StoredFinding } from '../db/findings.js';
import { openDatabase } from '../db/open-database.js';
import { eventsOfFinding, pruneEventsBefore, triageFinding } from '../db/triage.js';
import { DEFAULT_FINDINGS } from '../pipeline/findings/findings-settings.js';
import { FindingsStage } from '../pipeline/findings/findings-stage.js';
import { replayFindings } from '../pipeline/train/replay-findings.js';
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

    test('a verdict sets the status, its note, who and when, and is one entry of the trail; a finding that is not there is said to be missing', async () => {
      const db = openDatabase(store('verdict'));
      try {
        await replayFindings(db, days[0]!, new FindingsStage(DEFAULT_FINDINGS));
        const retries = target(queryFindings(db), RETRIES);
        assert.equal(retries.status, 'new');
        const outcome = triageFinding(db, retries.id, { status: 'acknowledged', note: 'looking into it', by: 'alice', at: '2024-04-20T08:00:00.000Z' });
        assert.deepEqual(outcome, { status: 'done', findingId: retries.id, from: 'new', to: 'acknowledged' });
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
      } finally {
        db.close();
      }
    });

    test('a finding marked benign that is active again after the verdict is reopened, saying why; one marked threat stays a threat', async () => {
      const db = openDatabase(store('reopen'));
      try {
        await replayFindings(db, days[0]!, new FindingsStage(DEFAULT_FINDINGS));
        const first = queryFindings(db);
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
      } finally {
        db.close();
      }
    });

    test('retention deletes a finding but keeps its trail, which goes only with its own retention', async () => {
      const db = openDatabase(store('retention'));
      try {
        await replayFindings(db, days[0]!, new FindingsStage(DEFAULT_FINDINGS));
        const retries = target(queryFindings(db), RETRIES);
        triageFinding(db, retries.id, { status: 'closed', note: 'fixed the monitor', by: 'alice', at: '2024-04-20T00:00:00.000Z' });
        assert.ok(pruneFindingsBefore(db, Date.parse('2030-01-01') / 1000) > 0);
        assert.equal(findingById(db, retries.id), undefined);
        assert.equal(eventsOfFinding(db, retries.id).length, 1, 'the trail outlives the finding');
        assert.equal(pruneEventsBefore(db, '2024-04-20T00:00:00.000Z'), 0, 'an entry exactly at the cut-off stays');
        assert.equal(pruneEventsBefore(db, '2024-04-20T00:00:00.001Z'), 1);
        assert.deepEqual(eventsOfFinding(db, retries.id), []);
      } finally {
        db.close();
      }
    });
  });
}

describe('zeek-anomaly findings triage', () => {
  test('the CLI records a verdict with a note and a name, lists by status, shows the trail, and refuses a bad status or a missing finding', async () => {
    const file = join(scratch.dir, 'cli.sqlite');
    const db = openDatabase(file);
    let id: number;
    try {
      await replayFindings(db, days[0]!, new FindingsStage(DEFAULT_FINDINGS));
      id = target(queryFindings(db), RETRIES).id;
    } finally {
      db.close();
    }
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
});
