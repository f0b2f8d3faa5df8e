import { badValue } from './log-read-error.js';
import { ADDRESS_EXPECTED, isAddress } from './address.js';
import { spanValues, type SpanValues, type TextMarkers } from './span-values.js';
import type { FieldSpans } from './field-spans.js';
import type { TextColumn } from './log-schema.js';
import type { ZeekRow, ZeekValue } from './conn-record.js';

type ValueReader = (row: FieldSpans, k: number) => ZeekValue;

/**
 * Builds the function that turns one row of any Zeek log into a record keyed by the file's own
 * column names, each value read as its `#types` token says: numbers for time, interval, double,
 * count, int and port; booleans; checked addresses; string arrays for sets and vectors (an
 * address set's items checked too); strings for the rest. A value that does not fit its type
 * makes the line bad, as in a conn log. Not the conn hot path: one reader call per column.
 */
export function buildZeekRowParser(columns: readonly TextColumn[], markers: TextMarkers): (row: FieldSpans) => ZeekRow {
  const values = spanValues(markers);
  const names = columns.map((column) => column.name);
  const readers = columns.map((column) => readerFor(column.name, column.type ?? typeByName(column.name), values));
  return (row) => {
    const record: ZeekRow = {};
    for (let k = 0; k < readers.length; k++) record[names[k]!] = readers[k]!(row, k);
    return record;
  };
}

// Zeek counts are 64-bit: above 2^53 they lose precision as doubles, but they are not bad values.
const MAX_COUNT = 2 ** 64;
const MAX_PORT = 65535;

function readerFor(name: string, type: string, v: SpanValues): ValueReader {
  const bracket = type.indexOf('[');
  if (bracket > 0 && ['set', 'vector', 'table'].includes(type.slice(0, bracket))) {
    if (type.slice(bracket + 1, -1) !== 'addr') return (row, k) => v.set(row, k);
    return (row, k) => {
      const items = v.set(row, k);
      const bad = items?.find((item) => !isAddress(item));
      if (bad !== undefined) throw badValue(name, bad, ADDRESS_EXPECTED);
      return items;
    };
  }
  switch (type) {
    case 'time':
      return (row, k) => v.time(row, k, name);
    case 'interval':
      return (row, k) => v.interval(row, k, name);
    case 'double':
      return (row, k) => v.double(row, k, name);
    case 'count':
      return (row, k) => v.count(row, k, name, MAX_COUNT);
    case 'port':
      return (row, k) => v.count(row, k, name, MAX_PORT);
    case 'int':
      return (row, k) => v.int(row, k, name);
    case 'bool':
      return (row, k) => v.bool(row, k, name);
    case 'addr':
      return (row, k) => v.address(row, k, name);
    // Every `proto` of Zeek's logs (conn, dns, notice, dpd…) is a transport_proto.
    case 'enum':
      return name === 'proto' ? (row, k) => v.proto(row, k, name) : (row, k) => v.text(row, k);
    default:
      // string, and the types a file rarely holds (subnet, pattern, func): text as written.
      return (row, k) => v.text(row, k);
  }
}

/** The type of a column of an export that declares none: the connection id's columns are the same in every Zeek log. */
function typeByName(name: string): string {
  switch (name) {
    case 'ts':
      return 'time';
    case 'id.orig_h':
    case 'id.resp_h':
      return 'addr';
    case 'id.orig_p':
    case 'id.resp_p':
      return 'port';
    case 'proto':
      return 'enum';
    default:
      return 'string';
  }
}
