import type { PostgresDb } from '../connection.js';

const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Creates the database `name` on the server `db` is connected to (a throwaway server of the tests'
 * or the benchmark's). CREATE DATABASE takes no bound values, so the name is checked instead.
 */
export function createDatabase(db: PostgresDb, name: string): void {
  if (!DATABASE_NAME.test(name)) throw new Error(`${db.name}: database name '${name}'; expected lower-case letters, digits and underscores, 63 at most`);
  db.run(`CREATE DATABASE ${name}`);
}
