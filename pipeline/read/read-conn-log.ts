import { LogReader, type ReadOptions } from './log-reader.js';
import { CONN_SCHEMA } from './conn-schema.js';
import type { ConnRecord } from './conn-record.js';

/**
 * Streams one conn log as batches of records (see `LogReader`). Any other log, however it is
 * named, is refused with `wrong-log-type` (its `#path` or `_path`) or `missing-columns`.
 */
export class ConnLogReader extends LogReader<ConnRecord> {
  constructor(file: string, options: ReadOptions = {}) {
    super(file, options, CONN_SCHEMA);
  }
}

export function readConnLog(file: string, options?: ReadOptions): ConnLogReader {
  return new ConnLogReader(file, options);
}
