/**
 * Reads the decimal in `bytes` from `start` to `end` as Zeek writes it (`80`, `0.000415`,
 * `1646089195.000415`) with a digit loop, several times faster than `Number()`. Anything
 * unusual (a sign, an exponent, more digits than a double holds exactly) goes to `Number()`,
 * but not '', ' 1 ', '0x1f' or 'Infinity', which `Number()` accepts and Zeek never writes.
 */
export function decimalAt(bytes: Uint8Array, start: number, end: number): number {
  // All digits, the point skipped, as one integer: exact while below 2^53.
  let digitsValue = 0;
  let point = -1;
  for (let i = start; i < end; i++) {
    const c = bytes[i]! - 48;
    if (c >= 0 && c <= 9) digitsValue = digitsValue * 10 + c;
    else if (c === -2 /* . */ && point < 0) point = i;
    else return strictNumber(latin1(bytes, start, end));
  }
  const decimals = point < 0 ? 0 : end - point - 1;
  const wholeDigits = point < 0 ? end - start : point - start;
  if (wholeDigits === 0 || digitsValue > Number.MAX_SAFE_INTEGER) return strictNumber(latin1(bytes, start, end));
  // One division of two exact numbers is correctly rounded: the same double Number() gives.
  return decimals === 0 ? digitsValue : digitsValue / POWERS_OF_TEN[decimals]!;
}

export function toNumber(value: string): number {
  const bytes = Buffer.from(value, 'utf8');
  return decimalAt(bytes, 0, bytes.length);
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1', start, end);
}

// 10^k is exact in a double up to 10^22.
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);

function strictNumber(v: string): number {
  const first = v.charCodeAt(0);
  const last = v.charCodeAt(v.length - 1);
  if (!((first >= 48 && first <= 57) || first === 45 || first === 46)) return NaN;
  if (!((last >= 48 && last <= 57) || last === 46)) return NaN;
  return +v;
}

/** Undoes the ASCII writer's escaping: `\xHH` for separators and non-printable bytes, `\\` for a backslash. */
export function unescapeZeek(value: string): string {
  if (value.indexOf('\\') < 0) return value;
  return value.replace(/\\(x[0-9a-fA-F]{2}|\\)/g, (_m, code: string) =>
    code === '\\' ? '\\' : String.fromCharCode(parseInt(code.slice(1), 16)),
  );
}
