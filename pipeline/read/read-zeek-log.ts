import { LogReader, type ReadOptions } from './log-reader.js';
import { ZEEK_LOG_SCHEMA } from './zeek-log-schema.js';
import type { ZeekRow } from './conn-record.js';

/**
 * Streams any Zeek log as batches of rows keyed by its own columns (see `LogReader` and
 * `ZEEK_LOG_SCHEMA`), with the conn reader's bytes, lines, formats, bad lines and errors. For
 * looking at a log (`inspect`); only conn logs are scored, through `readConnLog`.
 */
export function readZeekLog(file: string, options: ReadOptions = {}): LogReader<ZeekRow> {
  return new LogReader(file, options, ZEEK_LOG_SCHEMA);
}
