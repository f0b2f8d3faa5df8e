import { isKnownField, type ConnRecord, type ZeekValue } from './conn-record.js';
import { jsonAddress, jsonBool, jsonCount, jsonInterval, jsonProto, jsonSet, jsonText, jsonTime, jsonValue, required } from './json-values.js';
import type { JsonObject } from './log-schema.js';

/** One line of a Zeek JSON conn log as a record; throws `BadLineError` for a line that cannot be one. */
export function connJsonRecord(o: JsonObject): ConnRecord {
  return {
    ts: required(jsonTime(o.ts, 'ts'), 'ts'),
    uid: jsonText(o.uid, 'uid'),
    'id.orig_h': required(jsonAddress(o['id.orig_h'], 'id.orig_h'), 'id.orig_h'),
    'id.orig_p': required(jsonCount(o['id.orig_p'], 'id.orig_p', 65535), 'id.orig_p'),
    'id.resp_h': required(jsonAddress(o['id.resp_h'], 'id.resp_h'), 'id.resp_h'),
    'id.resp_p': required(jsonCount(o['id.resp_p'], 'id.resp_p', 65535), 'id.resp_p'),
    proto: required(jsonProto(o.proto, 'proto'), 'proto'),
    service: jsonText(o.service, 'service'),
    duration: jsonInterval(o.duration, 'duration'),
    orig_bytes: jsonCount(o.orig_bytes, 'orig_bytes'),
    resp_bytes: jsonCount(o.resp_bytes, 'resp_bytes'),
    conn_state: jsonText(o.conn_state, 'conn_state'),
    local_orig: jsonBool(o.local_orig, 'local_orig'),
    local_resp: jsonBool(o.local_resp, 'local_resp'),
    missed_bytes: jsonCount(o.missed_bytes, 'missed_bytes'),
    history: jsonText(o.history, 'history'),
    orig_pkts: jsonCount(o.orig_pkts, 'orig_pkts'),
    orig_ip_bytes: jsonCount(o.orig_ip_bytes, 'orig_ip_bytes'),
    resp_pkts: jsonCount(o.resp_pkts, 'resp_pkts'),
    resp_ip_bytes: jsonCount(o.resp_ip_bytes, 'resp_ip_bytes'),
    tunnel_parents: jsonSet(o.tunnel_parents, 'tunnel_parents'),
    ip_proto: jsonCount(o.ip_proto, 'ip_proto', 255),
    extras: extrasOf(o),
  };
}

function extrasOf(o: JsonObject): Record<string, ZeekValue> | null {
  let extras: Record<string, ZeekValue> | null = null;
  for (const key in o) {
    if (isKnownField(key)) continue;
    extras ??= {};
    extras[key] = jsonValue(o[key]);
  }
  return extras;
}
