import { CONTEXT_TABLE_WIDTHS, ContextState, type ContextLimits, type ContextTables } from './context-state.js';
import { KeyTable } from './key-table.js';

/**
 * The context state as bytes, to be stored with each file's results (in the same transaction) and
 * read back at the next start. Every number is written as it is held, so a state read back scores
 * the next file bit for bit as the state that was never saved.
 *
 * Layout (little-endian, as x86 and ARM hold numbers): the magic `ZACTXST1`, then per table in TABLE_ORDER: rows (u32), width
 * (u32), evicted (f64), then its rows' high key halves (u32 × rows), low halves, first-seen times
 * (f64 × rows), last-seen times, and statistics (f64 × rows × width).
 */
export function encodeContextState(state: ContextState): Uint8Array {
  let length = MAGIC.length;
  for (const name of TABLE_ORDER) {
    const table = state.tables[name];
    length += 16 + table.size * (4 + 4 + 8 + 8 + 8 * table.width);
  }
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  let at = MAGIC.length;
  const put = (array: Uint32Array | Float64Array): void => {
    bytes.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), at);
    at += array.byteLength;
  };
  for (const name of TABLE_ORDER) {
    const table = state.tables[name];
    const rows = table.size;
    view.setUint32(at, rows, true);
    view.setUint32(at + 4, table.width, true);
    view.setFloat64(at + 8, table.evicted, true);
    at += 16;
    put(table.keyHi.subarray(0, rows));
    put(table.keyLo.subarray(0, rows));
    put(table.firstTs.subarray(0, rows));
    put(table.lastTs.subarray(0, rows));
    put(table.stats.subarray(0, rows * table.width));
  }
  return bytes;
}

/** Reads a state written by `encodeContextState`; a damaged or foreign blob is a `ContextStateError` saying what is wrong. */
export function decodeContextState(bytes: Uint8Array, limits: Readonly<ContextLimits>): ContextState {
  if (bytes.length < MAGIC.length || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw new ContextStateError(`it does not start with ${new TextDecoder().decode(MAGIC)} (${bytes.length} bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = MAGIC.length;
  const take = (count: number, size: 4 | 8, what: string): ArrayBuffer => {
    const end = at + count * size;
    if (end > bytes.length) throw new ContextStateError(`it ends inside the ${what} (${bytes.length} bytes, ${end} needed)`);
    // A copy: typed arrays need an aligned buffer of their own.
    const copy = bytes.slice(at, end).buffer;
    at = end;
    return copy;
  };
  const tables = {} as ContextTables;
  for (const name of TABLE_ORDER) {
    if (at + 16 > bytes.length) throw new ContextStateError(`it ends before the ${name} table`);
    const rows = view.getUint32(at, true);
    const width = view.getUint32(at + 4, true);
    const evicted = view.getFloat64(at + 8, true);
    at += 16;
    if (width !== CONTEXT_TABLE_WIDTHS[name]) throw new ContextStateError(`its ${name} table has ${width} statistics per key, this version keeps ${CONTEXT_TABLE_WIDTHS[name]}`);
    const keyHi = new Uint32Array(take(rows, 4, `${name} keys`));
    const keyLo = new Uint32Array(take(rows, 4, `${name} keys`));
    const firstTs = new Float64Array(take(rows, 8, `${name} times`));
    const lastTs = new Float64Array(take(rows, 8, `${name} times`));
    const stats = new Float64Array(take(rows * width, 8, `${name} statistics`));
    const table = new KeyTable(width, limitOf(limits, name));
    for (let row = 0; row < rows; row++) table.restore(keyHi[row]!, keyLo[row]!, firstTs[row]!, lastTs[row]!, stats.subarray(row * width, row * width + width));
    table.evicted += evicted;
    tables[name] = table;
  }
  if (at !== bytes.length) throw new ContextStateError(`${bytes.length - at} bytes follow the last table`);
  return new ContextState(limits, tables);
}

export class ContextStateError extends Error {
  override readonly name = 'ContextStateError';

  constructor(detail: string) {
    super(`the saved context state cannot be read: ${detail}`);
  }
}

const MAGIC = new TextEncoder().encode('ZACTXST1');
const TABLE_ORDER = ['sources', 'destinations', 'pairs', 'channels'] as const satisfies readonly (keyof ContextTables)[];

function limitOf(limits: Readonly<ContextLimits>, name: keyof ContextTables): number {
  return name === 'sources' || name === 'destinations' ? limits.hosts : name === 'pairs' ? limits.pairs : limits.channels;
}
