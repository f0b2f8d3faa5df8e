import { createSyncFn } from 'synckit';
import type { Params, PostgresDb } from '../connection.js';
import { toPostgres } from './placeholders.js';
import type { PostgresReply, PostgresRequest } from './worker.js';

// node-postgres is asynchronous, and db/ is synchronous, as better-sqlite3 made it: a file's
// results are written in one transaction that is a plain function, with nothing else able to run
// a statement inside it. So the client runs in a worker thread (synckit), and each call waits for
// its reply with Atomics.wait. The calling thread sits idle during a round trip, as it does while
// SQLite reads the disk; docs/scale-out.md gives what a round trip costs.
const call = createSyncFn<(request: PostgresRequest) => Promise<PostgresReply>>(new URL('./worker.js', import.meta.url));

let lastConnectionId = 0;

/** Whether `target` (config `db`, `--db`) names a PostgreSQL store rather than a SQLite file. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** `url` without its password, to name the store in messages and logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return 'postgres://(an unreadable URL)';
  }
}

/** Connects to the PostgreSQL store at `url`. Throws, naming the store, when it cannot. */
export function connectPostgres(url: string): PostgresDb {
  const name = redactedUrl(url);
  const id = ++lastConnectionId;
  try {
    call({ op: 'connect', id, url, applicationName: 'zeek-anomaly' });
  } catch (error) {
    throw new Error(`${name}: cannot connect to PostgreSQL (${messageOf(error)})`, { cause: error });
  }
  let depth = 0;
  const query = (sql: string, params: Params | undefined, prepare = true): PostgresReply => {
    const { text, values } = toPostgres(sql, params);
    try {
      return call({ op: 'query', id, text, values, prepare, inTransaction: depth > 0 });
    } catch (error) {
      throw withDetail(error);
    }
  };
  const db: PostgresDb = {
    engine: 'postgres',
    name,
    all: <Row>(sql: string, params?: Params) => query(sql, params).rows as Row[],
    get: <Row>(sql: string, params?: Params) => query(sql, params).rows[0] as Row | undefined,
    run: (sql: string, params?: Params) => query(sql, params).rowCount,
    // With no values and no name, node-postgres sends the simple query, which takes many statements.
    exec: (script: string) => void query(script, undefined, false),
    transaction<T>(lock: string, fn: () => T): T {
      const savepoint = depth === 0 ? null : `nested_${depth}`;
      query(savepoint === null ? 'BEGIN' : `SAVEPOINT ${savepoint}`, undefined, false);
      depth++;
      try {
        // Held to the end of the outermost transaction: another writer of the same name waits here.
        query('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [lock]);
        const result = fn();
        query(savepoint === null ? 'COMMIT' : `RELEASE SAVEPOINT ${savepoint}`, undefined, false);
        return result;
      } catch (error) {
        try {
          query(savepoint === null ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}`, undefined, false);
        } catch {
          // The connection is gone: the server has rolled the transaction back itself.
        }
        throw error;
      } finally {
        depth--;
      }
    },
    close: () => {
      try {
        call({ op: 'end', id });
      } catch {
        // Already closed, or the server went away: nothing is left to end.
      }
    },
  };
  return db;
}

/**
 * PostgreSQL puts what it refused (the key, the value) in `detail`, apart from the message: it is
 * added to the message. The SQLSTATE (`code`, 23505 for a unique key) stays on the error.
 */
function withDetail(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  const { detail, code } = error as { detail?: unknown; code?: unknown };
  if (typeof detail !== 'string' || detail === '') return error;
  return Object.assign(new Error(`${error.message} (${detail})`, { cause: error }), { code });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
