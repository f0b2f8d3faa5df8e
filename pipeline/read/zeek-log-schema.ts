import { buildZeekRowParser } from './zeek-row-parser.js';
import { zeekJsonRow } from './zeek-json-row.js';
import type { LogSchema } from './log-schema.js';
import type { ZeekRow } from './conn-record.js';

/** Any Zeek log (dns, http, ssl, ssh, notice, conn…): whatever `#path` and columns it declares, rows by its own column names. */
export const ZEEK_LOG_SCHEMA: LogSchema<ZeekRow> = {
  name: null,
  acceptsPath: () => true,
  whyNotColumns: () => null,
  textRowParser: buildZeekRowParser,
  jsonRow: zeekJsonRow,
  timeOf: (row) => (typeof row.ts === 'number' ? row.ts : null),
};
