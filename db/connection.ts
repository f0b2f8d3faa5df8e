import type { Database } from 'better-sqlite3';

/**
 * Bound values: positional (`?` in the SQL) as an array, or named (`@name`) as an object. Values are
 * always bound, never spliced into the text.
 */
export type Params = readonly unknown[] | Readonly<Record<string, unknown>>;

/**
 * What every statement in db/ runs on: one connection to the store, SQLite or PostgreSQL. Calls are
 * synchronous on both (see db/postgres/postgres-db.ts for how PostgreSQL's are), so a transaction
 * is a plain function and no other code can slip a statement into it.
 */
interface Connection {
  /** Names the store in error messages: the SQLite file, or the PostgreSQL URL without its password. */
  readonly name: string;
  all<Row>(sql: string, params?: Params): Row[];
  get<Row>(sql: string, params?: Params): Row | undefined;
  /** Runs a statement that returns no rows, and says how many it changed. */
  run(sql: string, params?: Params): number;
  /** Runs a script of statements that take no values (a migration). */
  exec(script: string): void;
  /**
   * Runs `fn` in a write transaction: committed when it returns, rolled back when it throws. `lock`
   * names what it writes (`ledger/<sensor>`): writers of one lock wait for each other. SQLite has
   * one lock for the whole file and takes it at BEGIN (IMMEDIATE); PostgreSQL takes an advisory
   * lock on the name, so another sensor's writer goes on.
   */
  transaction<T>(lock: string, fn: () => T): T;
  close(): void;
}

export interface SqliteDb extends Connection {
  readonly engine: 'sqlite';
  /** better-sqlite3's handle, for what only SQLite has (pragmas, the staged anomalies, query plans). */
  readonly raw: Database;
}

export interface PostgresDb extends Connection {
  readonly engine: 'postgres';
}

export type Db = SqliteDb | PostgresDb;
export type Engine = Db['engine'];

/** The statement for `db`'s engine, where the two differ. */
export function forEngine(db: Db, sql: Readonly<Record<Engine, string>>): string {
  return sql[db.engine];
}

/** The start of `column`'s bin of `@bin` seconds: SQLite's CAST truncates, PostgreSQL's rounds, so there it is floor. */
export function binStart(engine: Engine, column: string): string {
  return engine === 'sqlite' ? `CAST(${column} / @bin AS INTEGER) * @bin` : `floor(${column} / @bin) * @bin`;
}

/** A statement whose text differs by engine, made for each. */
export function perEngine(sql: (engine: Engine) => string): Record<Engine, string> {
  return { sqlite: sql('sqlite'), postgres: sql('postgres') };
}

/** The first column of the first row, or undefined when there is none (a count, a max). */
export function value<T>(db: Db, sql: string, params?: Params): T | undefined {
  const row = db.get<Record<string, unknown>>(sql, params);
  return row === undefined ? undefined : (Object.values(row)[0] as T);
}

/** `error`'s message, with `context` (the store, the key and the value at fault) in front. */
export function contextError(context: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`${context}: ${message}`, { cause: error });
}

/**
 * `limit` as bound to `LIMIT ?`: a whole number of 1 or more, or none when not given (-1 for
 * SQLite, NULL for PostgreSQL, each engine's "no limit").
 */
export function checkedLimit(db: Db, limit: number | undefined): number | null {
  if (limit === undefined) return db.engine === 'sqlite' ? -1 : null;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`${db.name}: limit is ${limit}; expected a whole number of 1 or more`);
  return limit;
}
