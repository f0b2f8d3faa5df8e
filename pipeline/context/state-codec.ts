import { CONTEXT_TABLE_WIDTHS, ContextState, tableLimit, type ContextLimits, type ContextTables } from './context-state.js';
import { KeyTable } from './key-table.js';

/**
 * The context state as byte parts, to be stored with each file's results (in the same transaction)
 * and read back at the next start. Every number is written as it is held, so a state read back
 * scores the next file bit for bit as the state that was never saved.
 *
 * The parts are views of the tables' own buffers, not copies: a state of a few hundred megabytes is
 * saved without a second one in memory. Part 0 is the header: the magic `ZACTXST3`, then per table
 * in TABLE_ORDER its rows (u32), width (u32) and evicted count (f64). Then one part per table: its
 * rows as `KeyTable` lays them out (key high and low halves u32, last-seen and first-seen times f64,
 * the statistics f32, padded to 8 bytes). Numbers are little-endian, as x86 and ARM hold them.
 *
 * `ZACTXST2` states (the version before, with float64 statistics and one part per column) are read
 * too, so an upgrade keeps the state it had.
 */
export function encodeContextState(state: ContextState): Uint8Array[] {
  const header = new Uint8Array(MAGIC.length + TABLE_ORDER.length * 16);
  header.set(MAGIC, 0);
  const view = new DataView(header.buffer);
  const parts: Uint8Array[] = [header];
  TABLE_ORDER.forEach((name, t) => {
    const table = state.tables[name];
    const at = MAGIC.length + t * 16;
    view.setUint32(at, table.size, true);
    view.setUint32(at + 4, table.width, true);
    view.setFloat64(at + 8, table.evicted, true);
    parts.push(table.rowsView());
  });
  return parts;
}

/** Reads a state written by `encodeContextState` (or its previous version); a damaged or foreign one is a `ContextStateError` saying what is wrong. */
export function decodeContextState(parts: readonly Uint8Array[], limits: Readonly<ContextLimits>): ContextState {
  const header = parts[0];
  const version = header === undefined ? undefined : VERSIONS.find((v) => header.length >= v.magic.length && v.magic.every((b, i) => header[i] === b));
  if (header === undefined || version === undefined) {
    throw new ContextStateError(`it does not start with ${new TextDecoder().decode(MAGIC)} (${header?.length ?? 0} bytes in its first part)`);
  }
  if (header.length !== MAGIC.length + TABLE_ORDER.length * 16) throw new ContextStateError(`its header holds ${header.length} bytes, not ${MAGIC.length + TABLE_ORDER.length * 16}`);
  const expectedParts = 1 + TABLE_ORDER.length * version.partsPerTable;
  if (parts.length !== expectedParts) throw new ContextStateError(`it has ${parts.length} parts, not ${expectedParts}`);
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const tables = {} as ContextTables;
  TABLE_ORDER.forEach((name, t) => {
    const at = MAGIC.length + t * 16;
    const rows = view.getUint32(at, true);
    const width = view.getUint32(at + 4, true);
    const evicted = view.getFloat64(at + 8, true);
    if (width !== CONTEXT_TABLE_WIDTHS[name]) throw new ContextStateError(`its ${name} table has ${width} statistics per key, this version keeps ${CONTEXT_TABLE_WIDTHS[name]}`);
    const table = new KeyTable(width, tableLimit(limits, name));
    const tableParts = parts.slice(1 + t * version.partsPerTable, 1 + (t + 1) * version.partsPerTable);
    version.restore(table, rows, tableParts, (bytes, size, what) => {
      if (bytes.length !== size) throw new ContextStateError(`its ${name} ${what} hold ${bytes.length} bytes, not ${size}`);
      // A copy: typed arrays need an aligned buffer of their own.
      return bytes.slice().buffer;
    });
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

/** A part of `size` bytes as an aligned buffer of its own, or a ContextStateError naming `what` it should hold. */
type PartReader = (bytes: Uint8Array, size: number, what: string) => ArrayBuffer;

interface Version {
  magic: Uint8Array;
  partsPerTable: number;
  restore: (table: KeyTable, rows: number, parts: readonly Uint8Array[], read: PartReader) => void;
}

const MAGIC = new TextEncoder().encode('ZACTXST3');

const VERSIONS: readonly Version[] = [
  {
    magic: MAGIC,
    partsPerTable: 1,
    restore(table, rows, [part], read) {
      const buffer = read(part!, rows * table.rowBytes, 'rows');
      const words = new Uint32Array(buffer);
      const times = new Float64Array(buffer);
      const stats = new Float32Array(buffer);
      const rowWords = table.rowBytes / 4;
      const statsWord = table.statsAt(0);
      for (let row = 0; row < rows; row++) {
        const at = row * rowWords;
        table.restore(words[at]!, words[at + 1]!, times[at / 2 + 2]!, times[at / 2 + 1]!, stats.subarray(at + statsWord, at + statsWord + table.width));
      }
    },
  },
  {
    magic: new TextEncoder().encode('ZACTXST2'),
    partsPerTable: 5,
    restore(table, rows, parts, read) {
      const keyHi = new Uint32Array(read(parts[0]!, rows * 4, 'keys'));
      const keyLo = new Uint32Array(read(parts[1]!, rows * 4, 'keys'));
      const firstSeen = new Float64Array(read(parts[2]!, rows * 8, 'first-seen times'));
      const lastSeen = new Float64Array(read(parts[3]!, rows * 8, 'last-seen times'));
      const width = table.width;
      const stats = new Float64Array(read(parts[4]!, rows * width * 8, 'statistics'));
      for (let row = 0; row < rows; row++) table.restore(keyHi[row]!, keyLo[row]!, firstSeen[row]!, lastSeen[row]!, stats.subarray(row * width, row * width + width));
    },
  },
];
const TABLE_ORDER = ['sources', 'destinations', 'pairs', 'channels'] as const satisfies readonly (keyof ContextTables)[];
