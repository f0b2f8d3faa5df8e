/**
 * Zeek's `transport_proto` enum (init-bare.zeek), the type of conn.log's `proto`: Zeek writes one
 * of these names and nothing else (ICMPv6 is `icmp` too).
 */
export const TRANSPORT_PROTOS = ['tcp', 'udp', 'icmp', 'unknown_transport'] as const;

export type TransportProto = (typeof TRANSPORT_PROTOS)[number];

/** What `proto` may be, as bad-line reasons say it. */
export const PROTO_EXPECTED = `one of ${TRANSPORT_PROTOS.join(', ')}`;

/**
 * The enum name that `bytes` from `start` to `end` spell, or null when they spell none. The
 * constant is returned, not a string cut from the chunk, so a row's `proto` allocates nothing.
 */
export function transportProtoAt(bytes: Uint8Array, start: number, end: number): TransportProto | null {
  const length = end - start;
  for (let n = 0; n < NAME_BYTES.length; n++) {
    const name = NAME_BYTES[n]!;
    if (name.length !== length) continue;
    let i = 0;
    while (i < length && bytes[start + i] === name[i]) i++;
    if (i === length) return TRANSPORT_PROTOS[n]!;
  }
  return null;
}

/** The enum name `text` is (a JSON value), or null. */
export function transportProto(text: string): TransportProto | null {
  return TRANSPORT_PROTOS.find((name) => name === text) ?? null;
}

const NAME_BYTES = TRANSPORT_PROTOS.map((name) => Buffer.from(name, 'latin1'));
