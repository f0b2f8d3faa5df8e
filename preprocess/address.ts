import { ownString } from '../pipeline/read/own-string.js';

/**
 * The seed recipe turns addresses into numbers: IPv4 as its 32-bit integer modulo 65535, IPv6 as
 * its 128-bit integer modulo 4294967295. Because 2^32 ≡ 1 (mod 2^32 − 1), the IPv6 value modulo
 * 2^32 − 1 is the sum of its four 32-bit words modulo 2^32 − 1: exact, without BigInt.
 * An address that does not parse gives 0, like any other unset value.
 */
export function addressAsInteger(address: string): number {
  if (address.includes(':')) {
    const cached = ipv6Cache.get(address);
    if (cached !== undefined) return cached;
    const words = ipv6Words(address);
    let sum = 0;
    if (words !== null) for (let i = 0; i < 8; i += 2) sum += words[i]! * 65536 + words[i + 1]!;
    // IPv6 parsing is slow and a network's addresses repeat; the bound keeps a scan from growing it forever.
    if (ipv6Cache.size >= IPV6_CACHE_SIZE) ipv6Cache.clear();
    // The key must own its characters: the reader's address is a view that would pin its chunk.
    ipv6Cache.set(ownString(address), sum % IPV6_MODULUS);
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
const IPV6_CACHE_SIZE = 65_536;
const ipv6Cache = new Map<string, number>();
const IPV6_MODULUS = 4294967295;

function isPrivateV4(v: number): boolean {
  const a = v >>> 24;
  const b = (v >>> 16) & 0xff;
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
}

/** `a.b.c.d` as a 32-bit integer, read in one pass over the characters (it runs for every row). */
function ipv4Integer(address: string): number | null {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return null;
    } else if (c === 46 /* . */ && digits > 0 && dots < 3) {
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return null;
    }
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : null;
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
