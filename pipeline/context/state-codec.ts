import { CONTEXT_TABLE_WIDTHS, ContextState, type ContextLimits, type ContextTables } from './context-state.js';
import { KeyTable } from './key-table.js';

/**
 * The context state as byte parts, to be stored with each file's results (in the same transaction)
 * and read back at the next start. Every number is written as it is held, so a state read back
 * scores the next file bit for bit as the state that was never saved.
 *
 * The parts are views of the tables' own arrays, not copies: a state of a few hundred megabytes is
 * saved without a second one in memory. Part 0 is the header: the magic `ZACTXST2`, then per table
 * in TABLE_ORDER its rows (u32), width (u32) and evicted count (f64). Then per table five parts: the
 * keys' high halves (u32 × rows), low halves, first-seen times (f64 × rows), last-seen times, and
 * statistics (f64 × rows × width). Numbers are little-endian, as x86 and ARM hold them.
 */
export function encodeContextState(state: ContextState): Uint8Array[] {
  const header = new Uint8Array(MAGIC.length + TABLE_ORDER.length * 16);
  header.set(MAGIC, 0);
  const view = new DataView(header.buffer);
  const parts: Uint8Array[] = [header];
  TABLE_ORDER.forEach((name, t) => {
    const table = state.tables[name];
    const rows = table.size;
    const at = MAGIC.length + t * 16;
    view.setUint32(at, rows, true);
    view.setUint32(at + 4, table.width, true);
    view.setFloat64(at + 8, table.evicted, true);
    for (const array of [table.keyHi.subarray(0, rows), table.keyLo.subarray(0, rows), table.firstTs.subarray(0, rows), table.lastTs.subarray(0, rows), table.stats.subarray(0, rows * table.width)]) {
      parts.push(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    }
  });
  return parts;
}

/** Reads a state written by `encodeContextState`; a damaged or foreign one is a `ContextStateError` saying what is wrong. */
export function decodeContextState(parts: readonly Uint8Array[], limits: Readonly<ContextLimits>): ContextState {
  const header = parts[0];
  if (header === undefined || header.length < MAGIC.length || !MAGIC.every((b, i) => header[i] === b)) {
    throw new ContextStateError(`it does not start with ${new TextDecoder().decode(MAGIC)} (${header?.length ?? 0} bytes in its first part)`);
  }
  if (header.length !== MAGIC.length + TABLE_ORDER.length * 16) throw new ContextStateError(`its header holds ${header.length} bytes, not ${MAGIC.length + TABLE_ORDER.length * 16}`);
  const expectedParts = 1 + TABLE_ORDER.length * 5;
  if (parts.length !== expectedParts) throw new ContextStateError(`it has ${parts.length} parts, not ${expectedParts}`);
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const tables = {} as ContextTables;
  TABLE_ORDER.forEach((name, t) => {
    const at = MAGIC.length + t * 16;
    const rows = view.getUint32(at, true);
    const width = view.getUint32(at + 4, true);
    const evicted = view.getFloat64(at + 8, true);
    if (width !== CONTEXT_TABLE_WIDTHS[name]) throw new ContextStateError(`its ${name} table has ${width} statistics per key, this version keeps ${CONTEXT_TABLE_WIDTHS[name]}`);
    const part = (k: number, count: number, size: 4 | 8, what: string): ArrayBuffer => {
      const bytes = parts[1 + t * 5 + k]!;
      if (bytes.length !== count * size) throw new ContextStateError(`its ${name} ${what} hold ${bytes.length} bytes, not ${count * size}`);
      // A copy: typed arrays need an aligned buffer of their own.
      return bytes.slice().buffer;
    };
    const keyHi = new Uint32Array(part(0, rows, 4, 'keys'));
    const keyLo = new Uint32Array(part(1, rows, 4, 'keys'));
    const firstTs = new Float64Array(part(2, rows, 8, 'first-seen times'));
    const lastTs = new Float64Array(part(3, rows, 8, 'last-seen times'));
    const stats = new Float64Array(part(4, rows * width, 8, 'statistics'));
    const table = new KeyTable(width, limitOf(limits, name));
    for (let row = 0; row < rows; row++) table.restore(keyHi[row]!, keyLo[row]!, firstTs[row]!, lastTs[row]!, stats.subarray(row * width, row * width + width));
    table.evicted += evicted;
    tables[name] = table;
  });
  return new ContextState(limits, tables);
}

export class ContextStateError extends Error {
  override readonly name = 'ContextStateError';

  constructor(detail: string) {
    super(`the saved context state cannot be read: ${detail}`);
  }
}

const MAGIC = new TextEncoder().encode('ZACTXST2');
const TABLE_ORDER = ['sources', 'destinations', 'pairs', 'channels'] as const satisfies readonly (keyof ContextTables)[];

function limitOf(limits: Readonly<ContextLimits>, name: keyof ContextTables): number {
  return name === 'sources' || name === 'destinations' ? limits.hosts : name === 'pairs' ? limits.pairs : limits.channels;
}
