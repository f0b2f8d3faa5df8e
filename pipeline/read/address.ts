/** What an `addr` value may be, as bad-line reasons say it. */
export const ADDRESS_EXPECTED = 'an IPv4 or IPv6 address';

// The longest IPv6 text: six groups of four hex digits and a dotted quad (45 characters).
const MAX_ADDRESS_LENGTH = 45;
const COLON = 58;
const DOT = 46;

/**
 * Whether `bytes` from `start` to `end` are an address as Zeek writes an `addr`: a dotted quad
 * without leading zeros, or IPv6 in any valid text form (RFC 4291 2.2: `::` at most once, either
 * case of hex, a dotted-quad tail as in `::ffff:1.2.3.4`). The same answer as Node's `net.isIP`,
 * except that a zone (`fe80::1%eth0`) is refused: Zeek's addr type holds none, so no Zeek log has
 * one. The TSV reader checks a field where it lies in the chunk, before cutting a string for it.
 * A byte scan, because it runs for two fields of every conn row, where a regex would take a large
 * part of the row's microsecond. A table of addresses already checked was measured slower: on the
 * honeypot archives one address in five missed a 4,096-slot table, and confirming a hit compares
 * as many characters as this scan reads.
 */
export function isAddressAt(bytes: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  if (length < 2 || length > MAX_ADDRESS_LENGTH) return false;
  // Read as a dotted quad (what most addresses are), one octet of up to three digits at a time,
  // until something in the first octet says IPv6 (a colon, a hex letter, a fourth digit): one pass
  // over an IPv4 address, and fewer tests per character than a general loop.
  let i = start;
  for (let octet = 0; octet < 4; octet++) {
    // `end` bounds every look: the next field follows in the chunk.
    let digit = i < end ? bytes[i]! - 48 : -1;
    if (!(digit >= 0 && digit <= 9)) return octet === 0 && isIpv6(bytes, start, end);
    let value = digit;
    i++;
    if (i < end) {
      digit = bytes[i]! - 48;
      if (digit >= 0 && digit <= 9) {
        // `01` is a leading zero: inet_pton refuses it (some parsers read it as octal).
        if (value === 0) return octet === 0 && isIpv6(bytes, start, end);
        value = value * 10 + digit;
        i++;
        if (i < end) {
          digit = bytes[i]! - 48;
          if (digit >= 0 && digit <= 9) {
            value = value * 10 + digit;
            i++;
            if (value > 255) return octet === 0 && isIpv6(bytes, start, end);
          }
        }
      }
    }
    if (octet < 3) {
      if (i >= end || bytes[i] !== DOT) return octet === 0 && isIpv6(bytes, start, end);
      i++;
    }
  }
  return i === end;
}

/** The same check for a string (a JSON value): any character outside ASCII makes it no address. */
export function isAddress(text: string): boolean {
  const length = text.length;
  if (length > MAX_ADDRESS_LENGTH) return false;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c > 127) return false;
    scratch[i] = c;
  }
  return isAddressAt(scratch, 0, length);
}

const scratch = new Uint8Array(MAX_ADDRESS_LENGTH);

function isIpv4(bytes: Uint8Array, start: number, end: number): boolean {
  let dots = 0;
  let digits = 0;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c >= 48 && c <= 57) {
      // `01` is a leading zero: inet_pton refuses it (some parsers read it as octal).
      if (digits === 1 && value === 0) return false;
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return false;
    } else if (c === DOT && digits > 0 && dots < 3) {
      dots++;
      digits = 0;
      value = 0;
    } else {
      return false;
    }
  }
  return dots === 3 && digits > 0;
}

function isIpv6(bytes: Uint8Array, start: number, end: number): boolean {
  let groups = 0;
  let compressed = false;
  let i = start;
  if (bytes[i] === COLON) {
    // Only `::` may begin an address; `end` bounds the look, as the next field follows in the chunk.
    if (i + 1 >= end || bytes[i + 1] !== COLON) return false;
    compressed = true;
    i += 2;
    if (i === end) return true;
  }
  for (;;) {
    const groupStart = i;
    while (i < end && i - groupStart < 5 && isHexDigit(bytes[i]!)) i++;
    if (i < end && bytes[i] === DOT) {
      // A dotted quad ends the address and stands for its last two groups.
      if (!isIpv4(bytes, groupStart, end)) return false;
      groups += 2;
      break;
    }
    const digits = i - groupStart;
    if (digits === 0 || digits > 4) return false;
    groups++;
    if (i === end) break;
    if (bytes[i] !== COLON || groups >= 8) return false;
    i++;
    if (i < end && bytes[i] === COLON) {
      if (compressed) return false;
      compressed = true;
      i++;
      if (i === end) break;
    } else if (i === end) {
      return false;
    }
  }
  // `::` stands for at least one group of zeros.
  return compressed ? groups <= 7 : groups === 8;
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}
