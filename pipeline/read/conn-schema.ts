import { whyNotConnColumns, type ConnRecord } from './conn-record.js';
import { connJsonRecord } from './conn-json-record.js';
import { buildTextRowParser } from './text-row-parser.js';
import type { LogSchema } from './log-schema.js';

/** A conn log, the only log that is scored: `#path conn` (or none), the conn columns, records of the conn.log schema. */
export const CONN_SCHEMA: LogSchema<ConnRecord> = {
  name: 'conn',
  acceptsPath: (path) => path === 'conn',
  whyNotColumns: whyNotConnColumns,
  textRowParser: buildTextRowParser,
  jsonRow: connJsonRecord,
  timeOf: (record) => record.ts,
};
