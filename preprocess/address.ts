/**
 * The seed recipe turns addresses into numbers: IPv4 as its 32-bit integer modulo 65535, IPv6 as
 * its 128-bit integer modulo 4294967295. Because 2^32 ≡ 1 (mod 2^32 − 1), the IPv6 value modulo
 * 2^32 − 1 is the sum of its four 32-bit words modulo 2^32 − 1: exact, without BigInt.
 * An address that does not parse gives 0, like any other unset value.
 */
export function addressAsInteger(address: string): number {
  if (address.includes(':')) {
    const words = ipv6Words(address);
    if (words === null) return 0;
    let sum = 0;
    for (let i = 0; i < 8; i += 2) sum += words[i]! * 65536 + words[i + 1]!;
    return sum % IPV6_MODULUS;
  }
  const v4 = ipv4Integer(address);
  return v4 === null ? 0 : v4 % IPV4_MODULUS;
}

/** RFC 1918, loopback, link-local and unique-local addresses: the sensor's own side, usually. */
export function isPrivateAddress(address: string): boolean {
  if (address.includes(':')) {
    const words = ipv6Words(address);
    if (words === null) return false;
    const first = words[0]!;
    const mapped = words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff;
    if (mapped) return isPrivateV4((words[6]! * 65536 + words[7]!) >>> 0);
    const loopback = words.slice(0, 7).every((w) => w === 0) && words[7] === 1;
    return loopback || (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
  }
  const v4 = ipv4Integer(address);
  return v4 !== null && isPrivateV4(v4);
}

const IPV4_MODULUS = 65535;
const IPV6_MODULUS = 4294967295;

function isPrivateV4(v: number): boolean {
  const a = v >>> 24;
  const b = (v >>> 16) & 0xff;
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
}

function ipv4Integer(address: string): number | null {
  const parts = address.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

/** The eight 16-bit groups of an IPv6 address (with `::` and an embedded IPv4 tail), or null. */
function ipv6Words(address: string): number[] | null {
  const zone = address.indexOf('%');
  const text = zone >= 0 ? address.slice(0, zone) : address;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (half: string): number[] | null => {
    if (half === '') return [];
    const groups: number[] = [];
    const parts = half.split(':');
    for (const [i, part] of parts.entries()) {
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = ipv4Integer(part);
        if (v4 === null) return null;
        groups.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
        groups.push(parseInt(part, 16));
      } else {
        return null;
      }
    }
    return groups;
  };
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (head === null || tail === null) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}
