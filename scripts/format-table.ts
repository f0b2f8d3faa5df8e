
/** A value as the formats show it: text, a number, or unset. */
export type Cell = string | number | null;

export interface TableColumn {
  header: string;
  /** Default: right when every set value in the column is a number, else left. */
  align?: 'left' | 'right';
  /** Longer values are cut to this many characters, the cut marked with `…`. */
  maxWidth?: number;
  /** Where a long value loses characters: at its end (default), or at its start, which suits paths. */
  truncate?: 'end' | 'start';
}

const UNSET = '-';
const GAP = '  ';

/**
 * An aligned text table: a header, a rule, then one line per row. Numbers are right-aligned,
 * unset values show as `-` (as in Zeek logs), long values are cut with `…`, and control
 * characters are escaped: values come from network data and file names, and a raw newline would
 * break the layout, a raw ESC could drive the reader's terminal.
 */
export function formatTable(columns: readonly TableColumn[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((row) => columns.map((column, c) => fit(displayed(row[c] ?? null), column)));
  const widths = columns.map((column, c) => Math.max(length(column.header), ...text.map((cells) => length(cells[c]!))));
  const right = columns.map((column, c) => (column.align ?? (isNumeric(rows, c) ? 'right' : 'left')) === 'right');
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (right[c] ? pad(cell, widths[c]!, 'start') : pad(cell, widths[c]!, 'end')))
      .join(GAP)
      .trimEnd();
  return [line(columns.map((column) => column.header)), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n') + '\n';
}

/** One JSON object per line (JSON lines), for jq and scripts. */
export function formatJsonLines(rows: readonly object[]): string {
  return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
}

function displayed(value: Cell): string {
  if (value === null) return UNSET;
  return escapeControls(String(value));
}

// C0 controls, DEL and C1 controls (which include the 8-bit CSI).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => NAMED[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function fit(text: string, column: TableColumn): string {
  const max = column.maxWidth;
  if (max === undefined || length(text) <= max) return text;
  const chars = Array.from(text);
  if (max < 1) return '';
  return column.truncate === 'start' ? `…${chars.slice(chars.length - max + 1).join('')}` : `${chars.slice(0, max - 1).join('')}…`;
}

function isNumeric(rows: readonly (readonly Cell[])[], c: number): boolean {
  let numbers = 0;
  for (const row of rows) {
    const value = row[c] ?? null;
    if (value === null) continue;
    if (typeof value !== 'number') return false;
    numbers++;
  }
  return numbers > 0;
}

// In code points, so that `…` and accented letters count as one column each.
function length(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function pad(text: string, width: number, side: 'start' | 'end'): string {
  const fill = ' '.repeat(Math.max(0, width - length(text)));
  return side === 'start' ? fill + text : text + fill;
}

/**
 * Writes to stdout and waits until the text is handed to the system: a large CSV piped into a
 * slow reader then waits for it instead of piling up in memory, and a write error becomes the
 * command's error. A reader that went away (`| head`) is not an error: the rest is dropped, as
 * Unix tools do, instead of Node crashing on the stream's unhandled EPIPE.
 */
export function print(text: string, stream: NodeJS.WritableStream = process.stdout): Promise<void> {
  if (!guarded.has(stream)) {
    guarded.add(stream);
    // Without a listener the 'error' event that follows the failed write would be thrown.
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') closed.add(stream);
    });
  }
  if (closed.has(stream)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => {
      if (error === null || error === undefined || (error as NodeJS.ErrnoException).code === 'EPIPE') resolve();
      else reject(error);
    });
  });
}

const guarded = new WeakSet<NodeJS.WritableStream>();
const closed = new WeakSet<NodeJS.WritableStream>();
