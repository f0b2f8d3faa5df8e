// The PostgreSQL client's side of db/postgres/postgres-db.ts: a worker thread that holds the
// connections and runs each statement it is sent, while the caller's thread waits for the reply.
import pg from 'pg';
import { runAsWorker } from 'synckit';

// Ids and counts are bigint (int8) and sums of them numeric, which pg returns as strings to be
// safe past 2^53; the store's never get near that, and db/ reads numbers, as from SQLite.
pg.types.setTypeParser(pg.types.builtins.INT8, (text) => {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`the integer ${text} is past what a JavaScript number holds exactly`);
  return n;
});
pg.types.setTypeParser(pg.types.builtins.NUMERIC, Number);

export type PostgresRequest =
  | { op: 'connect'; id: number; url: string; applicationName: string }
  /** `inTransaction`: the caller has a transaction open on this connection, which a new connection would not have. */
  | { op: 'query'; id: number; text: string; values: readonly unknown[]; prepare: boolean; inTransaction: boolean }
  | { op: 'end'; id: number };

export interface PostgresReply {
  rows: Record<string, unknown>[];
  rowCount: number;
}

interface Connection {
  client: pg.Client;
  /** The server-side prepared statement of each text this connection has run: parsed and planned once. */
  statementNames: Map<string, string>;
  url: string;
  applicationName: string;
  /** The server went away (a restart, a failover, a terminated backend): connect again before the next statement. */
  broken: boolean;
}

const connections = new Map<number, Connection>();

async function handle(request: PostgresRequest): Promise<PostgresReply> {
  if (request.op === 'connect') {
    const connection: Connection = { client: null as unknown as pg.Client, statementNames: new Map(), url: request.url, applicationName: request.applicationName, broken: false };
    await connect(connection);
    connections.set(request.id, connection);
    return { rows: [], rowCount: 0 };
  }
  const connection = connections.get(request.id);
  if (connection === undefined) throw new Error(`PostgreSQL connection ${request.id} is closed`);
  if (request.op === 'end') {
    connections.delete(request.id);
    await connection.client.end();
    return { rows: [], rowCount: 0 };
  }
  if (connection.broken) {
    // Outside a transaction a new connection is as good as the old one. Inside one, the
    // transaction died with the connection: its statements must fail until the caller rolls back,
    // not go on in autocommit on a new one.
    if (request.inTransaction) throw new Error('the connection to PostgreSQL was lost in the middle of the transaction; it was rolled back');
    await connection.client.end().catch(() => {});
    await connect(connection);
  }
  const { client, statementNames } = connection;
  let name: string | undefined;
  if (request.prepare) {
    name = statementNames.get(request.text);
    if (name === undefined) {
      name = `s${statementNames.size + 1}`;
      statementNames.set(request.text, name);
    }
  }
  try {
    const result = await client.query({ text: request.text, values: request.values as unknown[], name });
    return { rows: result.rows as Record<string, unknown>[], rowCount: result.rowCount ?? 0 };
  } catch (error) {
    if (lostConnection(error)) connection.broken = true;
    throw error;
  }
}

async function connect(connection: Connection): Promise<void> {
  const client = new pg.Client({ connectionString: connection.url, application_name: connection.applicationName, connectionTimeoutMillis: 10_000 });
  // A server that goes away between statements: marked, and the next statement connects again,
  // rather than the error being thrown at nobody and ending the worker.
  client.on('error', () => {
    if (connection.client === client) connection.broken = true;
  });
  await client.connect();
  connection.client = client;
  connection.statementNames.clear();
  connection.broken = false;
}

/**
 * An error that ended the connection, not one the server answered on it: no SQLSTATE (a socket
 * error, "Connection terminated"), or class 08 (connection exception) or 57P (the server shut down
 * or terminated this backend).
 */
function lostConnection(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return code.startsWith('08') || code.startsWith('57P');
}

runAsWorker(handle);
