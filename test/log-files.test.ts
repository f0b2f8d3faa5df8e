// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { classifyLogPath, findConnLogs, type FoundLog, type LogPathClass } from '../pipeline/discover/log-files.js';
import { shared, tempDir } from './support/paths.js';

// Times in names are the sensor's local time; the expectations are built with the local-time Date
// constructor too, so these tests pass in any TZ.
const local = (year: number, month: number, day: number, hour = 0, minute = 0, second = 0): Date =>
  new Date(year, month - 1, day, hour, minute, second);

function conn(judged: LogPathClass): { layout: string; start: Date | null; end: Date | null } {
  assert.equal(judged.kind, 'conn-archive', judged.kind === 'ignored' ? judged.reason : '');
  return judged.kind === 'conn-archive' ? judged : assert.fail('unreachable');
}

function reason(judged: LogPathClass): string {
  assert.equal(judged.kind, 'ignored');
  return judged.kind === 'ignored' ? judged.reason : assert.fail('unreachable');
}

describe('classifyLogPath', () => {
  test('zeekctl archive: the day from the folder, the hours from the name', () => {
    assert.deepEqual(conn(classifyLogPath('/opt/zeek/logs/2024-04-19/conn.00:00:00-01:00:00.log.gz')), {
      kind: 'conn-archive',
      layout: 'zeekctl',
      start: local(2024, 4, 19, 0),
      end: local(2024, 4, 19, 1),
    });
  });

  test('zeekctl archive with a logger suffix, and one left uncompressed', () => {
    const suffixed = conn(classifyLogPath('logs/2024-04-19/conn.22:00:00-23:00:00-logger-1.log.gz'));
    assert.deepEqual([suffixed.layout, suffixed.start, suffixed.end], ['zeekctl', local(2024, 4, 19, 22), local(2024, 4, 19, 23)]);
    assert.deepEqual(conn(classifyLogPath('logs/2024-04-19/conn.15:48:23-16:00:00.log')).start, local(2024, 4, 19, 15, 48, 23));
  });

  test('an hour that crosses midnight ends on the next day, across a month end and a year end too', () => {
    assert.deepEqual(conn(classifyLogPath('logs/2024-04-19/conn.23:00:00-00:00:00.log.gz')).end, local(2024, 4, 20, 0));
    const monthEnd = conn(classifyLogPath('logs/2024-04-30/conn.23:30:00-00:30:00.log.gz'));
    assert.deepEqual([monthEnd.start, monthEnd.end], [local(2024, 4, 30, 23, 30), local(2024, 5, 1, 0, 30)]);
    assert.deepEqual(conn(classifyLogPath('logs/2023-12-31/conn.23:00:00-00:00:00.log.gz')).end, local(2024, 1, 1, 0));
  });

  test('a zero-length file (start = end, as zeek-archiver can write) stays on its day', () => {
    const judged = conn(classifyLogPath('logs/2020-07-16/conn.09:43:10-09:43:10.log.gz'));
    assert.deepEqual([judged.start, judged.end], [local(2020, 7, 16, 9, 43, 10), local(2020, 7, 16, 9, 43, 10)]);
  });

  test('a zeekctl name out of its day folder is still a conn log, with no time', () => {
    assert.deepEqual(conn(classifyLogPath('/tmp/conn.00:00:00-01:00:00.log.gz')), { kind: 'conn-archive', layout: 'zeekctl', start: null, end: null });
    assert.equal(conn(classifyLogPath('logs/2024-02-30/conn.00:00:00-01:00:00.log.gz')).start, null, 'no 30 February');
  });

  test("zeek-archiver's queue name gives both dates, with or without metadata", () => {
    assert.deepEqual(conn(classifyLogPath('spool/log-queue/conn__2024-04-19-23-00-00__2024-04-20-00-00-00__.log')), {
      kind: 'conn-archive',
      layout: 'archiver',
      start: local(2024, 4, 19, 23),
      end: local(2024, 4, 20, 0),
    });
    const withSuffix = conn(classifyLogPath('log-queue/conn__2024-04-19-03-00-00__2024-04-19-04-00-00__log_suffix=logger-1__.log.gz'));
    assert.deepEqual([withSuffix.layout, withSuffix.start], ['archiver', local(2024, 4, 19, 3)]);
  });

  test('standalone zeek rotation gives the opening time only', () => {
    assert.deepEqual(conn(classifyLogPath('conn.2024-04-19-15-23-42.log')), {
      kind: 'conn-archive',
      layout: 'standalone',
      start: local(2024, 4, 19, 15, 23, 42),
      end: null,
    });
    assert.equal(conn(classifyLogPath('conn.2024-04-19-15-23-42.log.gz')).layout, 'standalone');
  });

  test('plain names: conn.log, gzipped, and the *.conn.* names of exports and labelled captures', () => {
    for (const name of [
      'conn.log',
      'conn.log.gz',
      'horizontal.conn.log',
      'Files.zeek-cut-logs.conn.log',
      'zat.conn.json.log',
      'ctu50-feel-008.conn.log.labeled',
      'ctu50-feel-008.conn.log.labeled.gz',
      'conn.json.log',
      'flows.conn.csv',
      'conn.tsv.gz',
    ]) {
      assert.deepEqual(conn(classifyLogPath(join('data', name))), { kind: 'conn-archive', layout: 'plain', start: null, end: null }, name);
    }
  });

  test('names in UTC when asked', () => {
    const judged = conn(classifyLogPath('logs/2024-04-19/conn.23:00:00-00:00:00.log.gz', { nameTimeZone: 'utc' }));
    assert.deepEqual([judged.start, judged.end], [new Date('2024-04-19T23:00:00Z'), new Date('2024-04-20T00:00:00Z')]);
  });

  test('files Zeek is still writing are ignored, saying so', () => {
    assert.match(reason(classifyLogPath('/opt/zeek/logs/current/conn.log')), /current\/ folder/);
    assert.match(reason(classifyLogPath('/opt/zeek/logs/2024-04-19/conn.23:00:00-current.log')), /still writing \(-current\)/);
    assert.match(reason(classifyLogPath('logs/2024-04-19/conn.00:00:00-01:00:00.log.gz.tmp')), /unfinished file \(\.tmp\)/);
    assert.match(reason(classifyLogPath('downloads/conn.log.part')), /unfinished file \(\.part\)/);
    assert.match(reason(classifyLogPath('logs/2024-04-19/.tmp.conn.00:00:00-01:00:00.log.gz')), /hidden file/);
  });

  test('other log types are ignored, naming the type', () => {
    assert.equal(reason(classifyLogPath('logs/2024-04-19/dns.00:00:00-01:00:00.log.gz')), 'named as a dns log, not a conn log');
    assert.equal(reason(classifyLogPath('logs/2024-04-19/conn-summary.00:00:00-01:00:00.log.gz')), 'named as a conn-summary log, not a conn log');
    assert.equal(reason(classifyLogPath('http.log')), 'named as a http log, not a conn log');
    assert.equal(reason(classifyLogPath('capture.dns.json.log')), 'named as a dns log, not a conn log');
    assert.equal(reason(classifyLogPath('conn_long.2024-04-19-15-00-00.log')), 'named as a conn_long log, not a conn log');
    assert.equal(reason(classifyLogPath('log-queue/http__2024-04-19-03-00-00__2024-04-19-04-00-00__.log')), 'named as a http log, not a conn log');
  });

  test('files that are not logs are ignored', () => {
    for (const name of ['README.md', 'model.json', 'conn.log.1', 'notes.txt']) {
      assert.match(reason(classifyLogPath(join('data', name))), /^not named as a conn log/, name);
    }
  });

  test('a conn log compressed in a way the reader cannot read is ignored, naming the compression', () => {
    assert.equal(
      reason(classifyLogPath('logs/2024-04-19/conn.00:00:00-01:00:00.log.zst')),
      'compressed as .zst, which the reader does not read (it reads gzip and plain text)',
    );
    assert.match(reason(classifyLogPath('conn.log.bz2')), /compressed as \.bz2/);
    assert.match(reason(classifyLogPath('dns.log.bz2')), /dns log/, 'another log type says so first');
  });

  test('impossible times are ignored, naming the name', () => {
    assert.match(reason(classifyLogPath('logs/2024-04-19/conn.25:00:00-26:00:00.log.gz')), /conn\.25:00:00-26:00:00\.log has a time that is not a time of day/);
    assert.match(reason(classifyLogPath('conn.2024-13-01-00-00-00.log')), /not a calendar date/);
  });
});

describe('findConnLogs on the real rotated archives', () => {
  const rita = shared('rotated', 'rita-missing-host');
  const honeypot = shared('rotated', 'honeypot');

  test('rita-missing-host: all 72 hourly zeekctl archives, in time order, each starting where the last ended', async () => {
    const { files, ignored, outsideRange } = await findConnLogs([rita]);
    assert.equal(files.length, 72);
    assert.deepEqual(ignored, []);
    assert.equal(outsideRange, 0);
    assert.ok(files.every((f) => f.layout === 'zeekctl'));
    assert.deepEqual(files[0]?.start, local(2024, 4, 19, 0));
    assert.deepEqual(files[71]?.end, local(2024, 4, 22, 0));
    files.slice(1).forEach((file, i) => assert.deepEqual(file.start, files[i]?.end, file.path));
  });

  test('honeypot: all 269 archives of 14 days (some hours are missing), in time order', async () => {
    const { files, ignored } = await findConnLogs([honeypot]);
    assert.equal(files.length, 269);
    assert.equal(files.length, countFiles(honeypot));
    assert.deepEqual(ignored, []);
    assertTimeOrder(files);
    assert.deepEqual(files[0]?.start, local(2022, 3, 1, 0));
    assert.deepEqual(files[268]?.end, local(2022, 3, 15, 0));
  });

  test('both folders at once come out merged oldest first: the 2022 honeypot before the 2024 server', async () => {
    const { files } = await findConnLogs([rita, honeypot]);
    assert.equal(files.length, 72 + 269);
    assertTimeOrder(files);
    assert.ok(files[0]?.path.includes('honeypot'));
    assert.ok(files[files.length - 1]?.path.includes('rita-missing-host'));
  });

  test('since/until pick whole days: [20 April, 21 April) is the 24 files of the 2024-04-20 folder', async () => {
    const { files, outsideRange } = await findConnLogs([rita], { since: local(2024, 4, 20), until: local(2024, 4, 21) });
    assert.equal(files.length, 24);
    assert.ok(files.every((f) => dirname(f.path).endsWith('2024-04-20')));
    assert.equal(outsideRange, 48);
  });

  test('since alone, until alone, and a since inside an hour keeps the hour that holds it', async () => {
    assert.equal((await findConnLogs([rita], { since: local(2024, 4, 20) })).files.length, 48);
    assert.equal((await findConnLogs([rita], { until: local(2024, 4, 20) })).files.length, 24);
    const { files } = await findConnLogs([rita], { since: local(2024, 4, 21, 5, 30) });
    assert.equal(files.length, 24 - 5);
    assert.deepEqual(files[0]?.start, local(2024, 4, 21, 5));
  });

  test('honeypot days 8 and 9 March are exactly the files of those two folders', async () => {
    const { files } = await findConnLogs([honeypot], { since: local(2022, 3, 8), until: local(2022, 3, 10) });
    assert.equal(files.length, countFiles(join(honeypot, '2022-03-08')) + countFiles(join(honeypot, '2022-03-09')));
    assert.ok(files.every((f) => /2022-03-0[89]$/.test(dirname(f.path))));
  });

  test('a glob over days and hours', async () => {
    const { files } = await findConnLogs([join(rita, '2024-04-2?', 'conn.0*.log.gz')]);
    assert.equal(files.length, 2 * 10);
    assertTimeOrder(files);
    const days = await findConnLogs([join(dirname(rita), '*', '2024-04-2[01]')]);
    assert.equal(days.files.length, 48, 'a folder a glob matches is walked');
  });

  test('a glob under a symlinked log directory (as /opt/zeek/logs often is) matches through the link, and keeps its spelling', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const link = join(dir, 'logs');
      await symlink(rita, link);
      const { files } = await findConnLogs([join(link, '2024-04-2?', 'conn.0*.log.gz')]);
      assert.equal(files.length, 2 * 10);
      assert.ok(files.every((f) => f.path.startsWith(`${link}/2024-04-2`)), files[0]?.path);
    } finally {
      await cleanup();
    }
  });
});

describe('findConnLogs on every layout and every kind of ignored file', () => {
  let dir = '';
  let cleanup = async (): Promise<void> => {};

  const timed = [
    '2024-04-19/conn.00:00:00-01:00:00.log.gz',
    '2024-04-19/conn.21:00:00-22:00:00.log',
    '2024-04-19/conn.22:00:00-23:00:00-logger-1.log.gz',
    '2024-04-19/conn.23:00:00-00:00:00.log.gz',
    '2024-04-30/conn.23:30:00-00:30:00.log.gz',
    'log-queue/conn__2024-04-19-03-00-00__2024-04-19-04-00-00__.log',
    'log-queue/conn__2024-04-19-04-00-00__2024-04-19-05-00-00__log_suffix=logger-1__.log.gz',
    'standalone/conn.2024-04-19-05-00-00.log',
    'standalone/conn.2024-04-19-06-00-00.log.gz',
  ];
  // In path order, as they are listed after the timed ones.
  const untimed = ['plain/capture.conn.log', 'plain/conn.log', 'plain/conn.log.gz', 'plain/flows.conn.csv', 'plain/x.conn.log.labeled', 'plain/zat.conn.json.log'];
  const ignoredFiles: Record<string, RegExp> = {
    '2024-04-19/conn.23:00:00-current.log': /-current/,
    '2024-04-19/.tmp.conn.01:00:00-02:00:00.log.gz': /hidden file/,
    '2024-04-19/conn.02:00:00-03:00:00.log.zst': /compressed as \.zst/,
    '2024-04-19/conn.25:00:00-26:00:00.log.gz': /not a time of day/,
    '2024-04-19/conn-summary.00:00:00-01:00:00.log.gz': /conn-summary log/,
    '2024-04-19/dns.00:00:00-01:00:00.log.gz': /dns log/,
    'log-queue/http__2024-04-19-03-00-00__2024-04-19-04-00-00__.log': /http log/,
    'plain/conn.log.tmp': /unfinished file \(\.tmp\)/,
    'plain/conn.log.part': /unfinished file \(\.part\)/,
    'plain/.conn.log': /hidden file/,
    'plain/dns.log': /dns log/,
    'plain/README.md': /not named as a conn log/,
    'plain/model.json': /not named as a conn log/,
  };
  const ignoredFolders: Record<string, RegExp> = {
    current: /current\/ folder/,
    '.git': /hidden folder/,
  };

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    for (const file of [...timed, ...untimed, ...Object.keys(ignoredFiles), 'current/conn.log', '.git/conn.log']) {
      await mkdir(dirname(join(dir, file)), { recursive: true });
      await writeFile(join(dir, file), '');
    }
    // A loop back to the root, and a second name for a file already found.
    await symlink(dir, join(dir, 'plain', 'loop'));
    await symlink(join(dir, 'plain', 'conn.log'), join(dir, 'plain', 'same.conn.log'));
    await symlink(join(dir, 'gone.conn.log'), join(dir, 'plain', 'broken.conn.log'));
  });
  after(() => cleanup());

  test('finds every conn log once, timed ones oldest first and then the rest by path', async () => {
    const { files } = await findConnLogs([dir]);
    const relative = files.map((f) => f.path.slice(dir.length + 1));
    assert.deepEqual(relative, [
      '2024-04-19/conn.00:00:00-01:00:00.log.gz',
      'log-queue/conn__2024-04-19-03-00-00__2024-04-19-04-00-00__.log',
      'log-queue/conn__2024-04-19-04-00-00__2024-04-19-05-00-00__log_suffix=logger-1__.log.gz',
      'standalone/conn.2024-04-19-05-00-00.log',
      'standalone/conn.2024-04-19-06-00-00.log.gz',
      '2024-04-19/conn.21:00:00-22:00:00.log',
      '2024-04-19/conn.22:00:00-23:00:00-logger-1.log.gz',
      '2024-04-19/conn.23:00:00-00:00:00.log.gz',
      '2024-04-30/conn.23:30:00-00:30:00.log.gz',
      ...untimed,
    ]);
    assert.equal(files.length, timed.length + untimed.length, 'the symlinked second name is not listed again');
    assert.deepEqual(
      files.map((f) => f.layout),
      ['zeekctl', 'archiver', 'archiver', 'standalone', 'standalone', 'zeekctl', 'zeekctl', 'zeekctl', 'zeekctl', ...untimed.map(() => 'plain')],
    );
    assert.deepEqual(files[8]?.end, local(2024, 5, 1, 0, 30), 'the hour across midnight at the month end');
  });

  test('says why each other file was ignored; current/ and hidden folders once, not file by file', async () => {
    const { ignored } = await findConnLogs([dir]);
    const byPath = new Map(ignored.map((i) => [i.path.slice(dir.length + 1), i.reason]));
    for (const [path, pattern] of Object.entries({ ...ignoredFiles, ...ignoredFolders })) {
      assert.match(byPath.get(path) ?? 'not listed', pattern, path);
    }
    assert.match(byPath.get('plain/loop') ?? 'not listed', /a symlink to .*, which is walked already/);
    assert.equal(byPath.get('plain/broken.conn.log'), 'a broken symlink');
    assert.equal(ignored.length, Object.keys(ignoredFiles).length + Object.keys(ignoredFolders).length + 2);
  });

  test('since/until keep untimed files and standalone files whose end is unknown', async () => {
    const { files } = await findConnLogs([dir], { since: local(2024, 4, 19, 22), until: local(2024, 4, 20) });
    const relative = files.map((f) => f.path.slice(dir.length + 1));
    assert.deepEqual(relative, [
      'standalone/conn.2024-04-19-05-00-00.log',
      'standalone/conn.2024-04-19-06-00-00.log.gz',
      '2024-04-19/conn.22:00:00-23:00:00-logger-1.log.gz',
      '2024-04-19/conn.23:00:00-00:00:00.log.gz',
      ...untimed,
    ]);
  });

  test('a file named directly is taken whatever its name, and globs work with ** and character classes', async () => {
    const single = await findConnLogs([join(dir, '2024-04-19', 'conn.23:00:00-00:00:00.log.gz')]);
    assert.deepEqual(single.files.map((f) => f.end), [local(2024, 4, 20)]);
    // A file the user names is taken whatever its name: the reader judges its content (and rejects a dns.log by its #path).
    const named = await findConnLogs([join(dir, 'plain', 'dns.log')]);
    assert.deepEqual(
      named.files.map((f) => [f.layout, f.start, f.end]),
      [['plain', null, null]],
    );
    assert.equal(named.ignored.length, 0);

    const deep = await findConnLogs([join(dir, '**', 'conn.*.log.gz')]);
    assert.deepEqual(
      deep.files.map((f) => f.path.slice(dir.length + 1)),
      [
        '2024-04-19/conn.00:00:00-01:00:00.log.gz',
        'standalone/conn.2024-04-19-06-00-00.log.gz',
        '2024-04-19/conn.22:00:00-23:00:00-logger-1.log.gz',
        '2024-04-19/conn.23:00:00-00:00:00.log.gz',
        '2024-04-30/conn.23:30:00-00:30:00.log.gz',
      ],
    );
    assert.deepEqual(
      deep.ignored.map((i) => i.path.slice(dir.length + 1)),
      ['2024-04-19/conn.25:00:00-26:00:00.log.gz'],
      'what the glob matched but is no conn log is reported; hidden files it does not match',
    );
    const classes = await findConnLogs([join(dir, '2024-04-[!2]9', 'conn.2[0-2]*')]);
    assert.deepEqual(
      classes.files.map((f) => f.path.slice(dir.length + 1)),
      ['2024-04-19/conn.21:00:00-22:00:00.log', '2024-04-19/conn.22:00:00-23:00:00-logger-1.log.gz'],
    );
  });

  test('a glob takes {a,b} alternatives, and a relative glob gives paths relative to the working folder', async () => {
    const pattern = relative(process.cwd(), join(dir, '2024-04-{19,30}', 'conn.2[23]*'));
    assert.ok(!isAbsolute(pattern) && pattern.startsWith('..'), pattern);
    const { files } = await findConnLogs([pattern]);
    assert.deepEqual(
      files.map((f) => f.path),
      ['2024-04-19/conn.22:00:00-23:00:00-logger-1.log.gz', '2024-04-19/conn.23:00:00-00:00:00.log.gz', '2024-04-30/conn.23:30:00-00:30:00.log.gz'].map((file) =>
        relative(process.cwd(), join(dir, file)),
      ),
    );
  });

  test('a glob does not match symlinks, while the folder holding them, named as an input, is walked through them', async () => {
    const { dir: root, cleanup: remove } = await tempDir();
    try {
      await mkdir(join(root, 'disk2', '2024-04-19'), { recursive: true });
      await writeFile(join(root, 'disk2', '2024-04-19', 'conn.00:00:00-01:00:00.log.gz'), '');
      await mkdir(join(root, 'logs'));
      await symlink(join(root, 'disk2', '2024-04-19'), join(root, 'logs', '2024-04-19'));
      await assert.rejects(findConnLogs([join(root, 'logs', '2024-04-*')]), /no file or folder matches the glob .*2024-04-\*/);
      const walked = await findConnLogs([join(root, 'logs')]);
      assert.deepEqual(
        walked.files.map((f) => f.path),
        [join(root, 'logs', '2024-04-19', 'conn.00:00:00-01:00:00.log.gz')],
      );
    } finally {
      await remove();
    }
  });

  test('a missing input, or a glob that matches nothing, is an error naming it', async () => {
    const missing = join(dir, 'no-such-folder');
    await assert.rejects(findConnLogs([missing]), { message: `${missing} does not exist; give a conn log, a folder of them or a glob` });
    await assert.rejects(findConnLogs([join(dir, '*.nothing')]), /no file or folder matches the glob .*\*\.nothing/);
    await assert.rejects(findConnLogs([dir], { since: local(2024, 4, 20), until: local(2024, 4, 19) }), /since .* must be before until/);
  });
});

function countFiles(folder: string): number {
  return readdirSync(folder, { withFileTypes: true }).reduce(
    (sum, entry) => sum + (entry.isDirectory() ? countFiles(join(folder, entry.name)) : 1),
    0,
  );
}

function assertTimeOrder(files: FoundLog[]): void {
  files.slice(1).forEach((file, i) => {
    const previous = files[i]?.start?.getTime() ?? -Infinity;
    assert.ok((file.start?.getTime() ?? Infinity) >= previous, `${file.path} comes after a later file`);
  });
}
