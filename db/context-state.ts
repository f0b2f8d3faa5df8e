import type { Database } from 'better-sqlite3';
import { contextError, prepared } from './statements.js';

/** The saved context state: the bytes, and the file whose transaction saved them. */
export interface SavedContextState {
  fileId: number | null;
  savedAt: string;
  state: Uint8Array;
}

const READ_STATE = `SELECT file_id AS fileId, saved_at AS savedAt, state FROM context_state WHERE id = 1`;

/** The context state saved last, or undefined before the first file with context was stored. */
export function readContextState(db: Database): SavedContextState | undefined {
  const row = prepared<[], { fileId: number | null; savedAt: string; state: Buffer }>(db, READ_STATE).get();
  return row === undefined ? undefined : { fileId: row.fileId, savedAt: row.savedAt, state: new Uint8Array(row.state.buffer, row.state.byteOffset, row.state.byteLength) };
}

const WRITE_STATE = `
  INSERT INTO context_state (id, file_id, saved_at, state) VALUES (1, ?, ?, ?)
  ON CONFLICT (id) DO UPDATE SET file_id = excluded.file_id, saved_at = excluded.saved_at, state = excluded.state`;

/** Replaces the saved state. Opens no transaction: the caller writes it with the file's results. */
export function writeContextState(db: Database, fileId: number, state: Uint8Array): void {
  try {
    prepared<[number, string, Uint8Array]>(db, WRITE_STATE).run(fileId, new Date().toISOString(), state);
  } catch (error) {
    throw contextError(`${db.name}: saving the context state with file ${fileId}`, error);
  }
}
