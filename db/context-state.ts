import { contextError, type Db } from './connection.js';

/** The saved context state: its byte parts in order, and the file whose transaction saved them. */
export interface SavedContextState {
  fileId: number | null;
  savedAt: string;
  parts: Uint8Array[];
}

// Each part is stored in pieces of at most this many bytes: SQLite copies a bound blob whole
// (twice while writing it), so a piece's size, not a table's, is what saving adds to the peak.
const PIECE_BYTES = 1024 * 1024;

const READ_STATE = `SELECT part, file_id AS "fileId", saved_at AS "savedAt", bytes FROM context_state WHERE sensor = ? ORDER BY part, piece`;

/** The context state `sensor` saved last, or undefined before its first file with context was stored. */
export function readContextState(db: Db, sensor: string): SavedContextState | undefined {
  const rows = db.all<{ part: number; fileId: number | null; savedAt: string; bytes: Uint8Array }>(READ_STATE, [sensor]);
  const first = rows[0];
  if (first === undefined) return undefined;
  const pieces = new Map<number, Uint8Array[]>();
  for (const row of rows) {
    const list = pieces.get(row.part);
    if (list === undefined) pieces.set(row.part, [row.bytes]);
    else list.push(row.bytes);
  }
  return { fileId: first.fileId, savedAt: first.savedAt, parts: [...pieces.values()].map(joined) };
}

const CLEAR_STATE = `DELETE FROM context_state WHERE sensor = ?`;
const WRITE_PIECE = `INSERT INTO context_state (sensor, part, piece, file_id, saved_at, bytes) VALUES (?, ?, ?, ?, ?, ?)`;

/**
 * Replaces `sensor`'s saved state with `parts`, piece by piece. Opens no transaction: the caller
 * writes it with the file's results.
 */
export function writeContextState(db: Db, sensor: string, fileId: number, parts: readonly Uint8Array[]): void {
  try {
    db.run(CLEAR_STATE, [sensor]);
    const savedAt = new Date().toISOString();
    parts.forEach((bytes, part) => {
      // An empty part is still a row: the reader counts parts.
      for (let piece = 0, at = 0; piece === 0 || at < bytes.byteLength; piece++, at += PIECE_BYTES) {
        db.run(WRITE_PIECE, [sensor, part, piece, fileId, savedAt, bytes.subarray(at, at + PIECE_BYTES)]);
      }
    });
  } catch (error) {
    throw contextError(`${db.name}: saving sensor ${sensor}'s context state with file ${fileId}`, error);
  }
}

/** A part's pieces as one run of bytes: the piece itself when there is one (no copy). */
function joined(pieces: readonly Uint8Array[]): Uint8Array {
  const only = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
  return new Uint8Array(only.buffer, only.byteOffset, only.byteLength);
}
