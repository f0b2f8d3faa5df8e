import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createDatabase } from '../../db/postgres/create-database.js';
import { connectPostgres } from '../../db/postgres/postgres-db.js';

/** A PostgreSQL server of the tests' (or the benchmark's) own, in a temporary directory, on a free port of 127.0.0.1. */
export interface LocalPostgres {
  /** The URL of a new, empty database on it: one per test, so no test sees another's rows. */
  newDatabaseUrl(): string;
  /** Stops the server (immediately: its data is thrown away) and removes its directory. */
  stop(): void;
}

let databases = 0;

/**
 * Starts a PostgreSQL server from Debian's `postgresql` package (.ci/run installs it): `initdb`
 * and `pg_ctl` into a temporary directory, for the tests and the benchmark (no mock of the store). The server refuses to run as root, so as root it runs
 * as the `postgres` user (or `nobody`). Throws, saying what to install, when there is no server.
 */
export async function startPostgres(options: { durable?: boolean } = {}): Promise<LocalPostgres> {
  const bin = serverBinaries();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'zeek-anomaly-pg-'));
  const data = join(dir, 'data');
  const runAs = userInfo().uid === 0 ? unprivilegedUser() : null;
  if (runAs !== null) chownSync(dir, runAs.uid, runAs.gid);
  const run = (program: string, args: string[]): void => {
    const command = runAs === null ? [join(bin, program), ...args] : ['runuser', '-u', runAs.name, '--', join(bin, program), ...args];
    execFileSync(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  try {
    run('initdb', ['-D', data, '-U', 'zeek', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    // fsync off for the tests: their data is thrown away, and durability is not what they test.
    // `durable` (the benchmark) keeps PostgreSQL's defaults, as a store in service has them.
    const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=50${options.durable === true ? '' : ' -c fsync=off -c full_page_writes=off'}`;
    run('pg_ctl', ['-D', data, '-o', settings, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  } catch (error) {
    const log = join(dir, 'server.log');
    const detail = existsSync(log) ? `\n${readFileSync(log, 'utf8')}` : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`starting a test PostgreSQL in ${dir} failed: ${error instanceof Error ? error.message : String(error)}${detail}`, { cause: error });
  }
  const base = `postgres://zeek@127.0.0.1:${port}`;
  const admin = connectPostgres(`${base}/postgres`);
  return {
    newDatabaseUrl() {
      const name = `test_${process.pid}_${++databases}`;
      createDatabase(admin, name);
      return `${base}/${name}`;
    },
    stop() {
      admin.close();
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function serverBinaries(): string {
  const override = process.env.ZEEK_ANOMALY_PG_BIN;
  if (override !== undefined) return override;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) {
    throw new Error(`no PostgreSQL server under ${root}: the tests start one of their own; install Debian's postgresql package (or set ZEEK_ANOMALY_PG_BIN)`);
  }
  return join(root, newest, 'bin');
}

function unprivilegedUser(): { name: string; uid: number; gid: number } {
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { name, uid, gid };
    } catch {
      // No such user: try the next.
    }
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run the test PostgreSQL server as');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
