import type { Params } from '../connection.js';

/** A statement as PostgreSQL takes it: `$1`, `$2`… in the text, and the values in that order. */
export interface PostgresStatement {
  text: string;
  values: unknown[];
}

interface Translated {
  text: string;
  /** The parameter names in `$n` order; null when the SQL's parameters are positional (`?`). */
  names: string[] | null;
  positional: number;
}

// The statements are constants, so each is translated once.
const translations = new Map<string, Translated>();

/**
 * `sql`, written with SQLite's `?` or `@name` parameters (as every statement in db/ is), in
 * PostgreSQL's `$n` form with `params` in order. A name used twice is one `$n`. Throws, naming
 * it, when a named parameter has no value.
 */
export function toPostgres(sql: string, params: Params | undefined): PostgresStatement {
  let translated = translations.get(sql);
  if (translated === undefined) {
    translated = translate(sql);
    translations.set(sql, translated);
  }
  const { text, names, positional } = translated;
  if (names === null) {
    const values = Array.isArray(params) ? (params as unknown[]) : [];
    if (values.length !== positional) throw new Error(`the statement takes ${positional} values, and ${values.length} were given: ${oneLine(sql)}`);
    return { text, values: values.map(bindable) };
  }
  const named = (params ?? {}) as Record<string, unknown>;
  if (Array.isArray(params)) throw new Error(`the statement takes named values (@${names[0]}), and an array was given: ${oneLine(sql)}`);
  return {
    text,
    values: names.map((name) => {
      if (!(name in named)) throw new Error(`no value for @${name}: ${oneLine(sql)}`);
      return bindable(named[name]);
    }),
  };
}

function translate(sql: string): Translated {
  const names: string[] = [];
  let positional = 0;
  let out = '';
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      // A quoted string or identifier, whose doubled quote is an escaped one: copied as it is.
      const end = closingQuote(sql, i, c);
      out += sql.slice(i, end + 1);
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end - 1;
    } else if (c === '?') {
      out += `$${++positional}`;
    } else if (c === '@' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))![0];
      let index = names.indexOf(name);
      if (index === -1) index = names.push(name) - 1;
      out += `$${index + 1}`;
      i += name.length;
    } else {
      out += c;
    }
  }
  if (positional > 0 && names.length > 0) throw new Error(`the statement mixes ? and @name parameters: ${oneLine(sql)}`);
  return { text: out, names: positional > 0 || names.length === 0 ? null : names, positional };
}

function closingQuote(sql: string, start: number, quote: string): number {
  for (let i = start + 1; i < sql.length; i++) {
    if (sql[i] !== quote) continue;
    if (sql[i + 1] === quote) i++;
    else return i;
  }
  throw new Error(`an unclosed ${quote} in the statement: ${oneLine(sql)}`);
}

// SQLite takes booleans as 1 and 0; the schema's flags are smallints on PostgreSQL too. A view of
// bytes is copied down to its own bytes: the worker is sent the value by structured clone, which
// copies a view's whole buffer (a 1 MiB piece of a 40 MB context state would send 40 MB). An
// array of numbers goes as the array literal: node-postgres quotes and escapes every element of an
// array it is given, a third of an anomaly batch's time for numbers that need neither.
function bindable(value: unknown): unknown {
  if (typeof value === 'boolean') return Number(value);
  if (ArrayBuffer.isView(value) && value.byteLength !== value.buffer.byteLength) {
    return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  }
  if (Array.isArray(value) && value.every((item) => item === null || typeof item === 'number')) {
    return `{${value.map((item) => (item === null ? 'NULL' : String(item))).join(',')}}`;
  }
  return value;
}

function oneLine(sql: string): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}
