import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const betterSqlite3Url = pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href;

export interface HeldWriteLock {
  /** Resolves once the other process holds the write lock (its BEGIN IMMEDIATE and `sql` have run). */
  locked: Promise<void>;
  /** Resolves with the other process's exit code once it has committed and closed the database. */
  committed: Promise<number | null>;
}

/**
 * Another process, as a second `score` or the service would be: it opens `file` with
 * better-sqlite3, takes the write lock (BEGIN IMMEDIATE), runs `sql`, then holds the lock for
 * `holdMs` without yielding before it commits. The caller can meanwhile try to read or write from
 * this process, synchronously, and see whether it waits, fails or goes through.
 *
 * `wholeFile`: the process first sets `locking_mode = EXCLUSIVE`, so its write locks the whole
 * database file, readers included, and keeps it locked until it closes. That is the lock SQLite
 * itself takes, in WAL mode, to recover the WAL after a crash or to checkpoint and remove it when
 * the last connection closes: the moments a reader in WAL mode can meet SQLITE_BUSY.
 */
export function holdWriteLock(file: string, sql: string, holdMs: number, options: { wholeFile?: boolean } = {}): HeldWriteLock {
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import BetterSqlite3 from ${JSON.stringify(betterSqlite3Url)};
       const db = new BetterSqlite3(${JSON.stringify(file)}, { timeout: 5000 });
       if (${options.wholeFile === true}) db.pragma('locking_mode = EXCLUSIVE');
       db.exec('BEGIN IMMEDIATE');
       db.exec(${JSON.stringify(sql)});
       console.log('locked');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${holdMs});
       db.exec('COMMIT');
       db.close();`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const locked = (async () => {
    const first = await lines.next();
    if (first.value !== 'locked') {
      const [code] = await exited;
      throw new Error(`the process meant to hold the write lock on ${file} exited (${code}) before taking it`);
    }
  })();
  return { locked, committed: exited.then(([code]) => code) };
}
