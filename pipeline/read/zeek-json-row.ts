import { jsonAddress, jsonCount, jsonProto, jsonTime, jsonValue } from './json-values.js';
import type { JsonObject } from './log-schema.js';
import type { ZeekRow } from './conn-record.js';

/**
 * One line of any Zeek JSON log as a record, by its own keys and with the values JSON gives
 * (arrays' items as strings), except where Zeek's conventions say more: `ts` becomes epoch
 * seconds whichever `json_timestamps` wrote it, and the connection id's addresses, ports and
 * `proto` must be what they are in every log (as in a conn log, or the line is bad).
 */
export function zeekJsonRow(object: JsonObject): ZeekRow {
  const row: ZeekRow = {};
  for (const key in object) {
    const value = object[key];
    switch (key) {
      case 'ts':
        row[key] = jsonTime(value, key);
        break;
      case 'id.orig_h':
      case 'id.resp_h':
        row[key] = jsonAddress(value, key);
        break;
      case 'id.orig_p':
      case 'id.resp_p':
        row[key] = jsonCount(value, key, 65535);
        break;
      case 'proto':
        row[key] = jsonProto(value, key);
        break;
      default:
        row[key] = jsonValue(value);
    }
  }
  return row;
}
