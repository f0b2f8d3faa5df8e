import type { Database } from 'better-sqlite3';
import { contextError, prepared } from './statements.js';

/** The saved context state: its byte parts in order, and the file whose transaction saved them. */
export interface SavedContextState {
  fileId: number | null;
  savedAt: string;
  parts: Uint8Array[];
}

const READ_STATE = `SELECT file_id AS fileId, saved_at AS savedAt, bytes FROM context_state ORDER BY part`;

/** The context state saved last, or undefined before the first file with context was stored. */
export function readContextState(db: Database): SavedContextState | undefined {
  const rows = prepared<[], { fileId: number | null; savedAt: string; bytes: Buffer }>(db, READ_STATE).all();
  const first = rows[0];
  if (first === undefined) return undefined;
  return { fileId: first.fileId, savedAt: first.savedAt, parts: rows.map((row) => new Uint8Array(row.bytes.buffer, row.bytes.byteOffset, row.bytes.byteLength)) };
}

const CLEAR_STATE = `DELETE FROM context_state`;
const WRITE_PART = `INSERT INTO context_state (part, file_id, saved_at, bytes) VALUES (?, ?, ?, ?)`;

/** Replaces the saved state with `parts`, part by part. Opens no transaction: the caller writes it with the file's results. */
export function writeContextState(db: Database, fileId: number, parts: readonly Uint8Array[]): void {
  try {
    prepared(db, CLEAR_STATE).run();
    const savedAt = new Date().toISOString();
    const write = prepared<[number, number, string, Uint8Array]>(db, WRITE_PART);
    parts.forEach((bytes, part) => write.run(part, fileId, savedAt, bytes));
  } catch (error) {
    throw contextError(`${db.name}: saving the context state with file ${fileId}`, error);
  }
}
