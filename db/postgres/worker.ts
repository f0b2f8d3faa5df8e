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
  | { op: 'query'; id: number; text: string; values: readonly unknown[]; prepare: boolean }
  | { op: 'end'; id: number };

export interface PostgresReply {
  rows: Record<string, unknown>[];
  rowCount: number;
}

interface Connection {
  client: pg.Client;
  /** The server-side prepared statement of each text this connection has run: parsed and planned once. */
  statementNames: Map<string, string>;
}

const connections = new Map<number, Connection>();

async function handle(request: PostgresRequest): Promise<PostgresReply> {
  if (request.op === 'connect') {
    const client = new pg.Client({ connectionString: request.url, application_name: request.applicationName, connectionTimeoutMillis: 10_000 });
    // A server that goes away between statements: the next query fails with the reason, rather
    // than the error being thrown at nobody and ending the worker.
    client.on('error', () => {});
    await client.connect();
    connections.set(request.id, { client, statementNames: new Map() });
    return { rows: [], rowCount: 0 };
  }
  const connection = connections.get(request.id);
  if (connection === undefined) throw new Error(`PostgreSQL connection ${request.id} is closed`);
  if (request.op === 'end') {
    connections.delete(request.id);
    await connection.client.end();
    return { rows: [], rowCount: 0 };
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
  const result = await client.query({ text: request.text, values: request.values as unknown[], name });
  return { rows: result.rows as Record<string, unknown>[], rowCount: result.rowCount ?? 0 };
}

runAsWorker(handle);
