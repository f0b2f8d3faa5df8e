import type { Database, Statement } from 'better-sqlite3';
import type { Params, SqliteDb } from '../connection.js';
import { prepared } from './statement-cache.js';

/** A better-sqlite3 connection as the `Db` every statement in db/ runs on. */
export function sqliteDb(raw: Database): SqliteDb {
  return {
    engine: 'sqlite',
    raw,
    name: raw.name,
    all: <Row>(sql: string, params?: Params) => bound(prepared(raw, sql), params, 'all') as Row[],
    get: <Row>(sql: string, params?: Params) => bound(prepared(raw, sql), params, 'get') as Row | undefined,
    run: (sql: string, params?: Params) => (bound(prepared(raw, sql), params, 'run') as { changes: number }).changes,
    exec: (script: string) => void raw.exec(script),
    // IMMEDIATE: the write lock is taken at BEGIN, so waiting for another writer happens before any
    // work, within busy_timeout, instead of failing half-way. SQLite has one lock: `lock` is not needed.
    transaction: <T>(_lock: string, fn: () => T): T => raw.transaction(fn).immediate(),
    close: () => raw.close(),
  };
}

type Method = 'all' | 'get' | 'run';

// better-sqlite3 takes positional values as arguments and named ones as one object.
function bound(statement: Statement<unknown[]>, params: Params | undefined, method: Method): unknown {
  const args: unknown[] = params === undefined ? [] : Array.isArray(params) ? (params as unknown[]) : [params];
  if (method === 'all') return statement.all(...args);
  if (method === 'get') return statement.get(...args);
  return statement.run(...args);
}
