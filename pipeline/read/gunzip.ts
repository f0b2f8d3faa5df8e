import { createRequire } from 'node:module';
import type * as ZlibSync from 'zlib-sync';

// zlib-sync is a native CommonJS addon whose exports Node cannot list for an ES import.
const zlibSync = createRequire(import.meta.url)('zlib-sync') as typeof ZlibSync;

/** Failure of the gzip layer; the reader adds the file name and the rows read before it. */
export class GzipError extends Error {
  override readonly name = 'GzipError';
  constructor(
    readonly code: 'corrupt-gzip' | 'truncated-gzip',
    message: string,
  ) {
    super(message);
  }
}

export function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Inflates a stream of gzip bytes, member after member, with memory bounded by the slice size. */
export async function* gunzip(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const decoder = new MultiMemberGunzip();
  for await (const chunk of input) {
    for (let start = 0; start < chunk.length; start += INPUT_SLICE) {
      yield* decoder.push(chunk.subarray(start, Math.min(start + INPUT_SLICE, chunk.length)));
    }
  }
  yield* decoder.end();
}

// One slice can inflate to about a thousand times its size, so feeding 32 KiB at a time keeps
// the worst case near 32 MiB of output whatever the file holds.
const INPUT_SLICE = 32 * 1024;
const OUTPUT_CHUNK = 512 * 1024;
// 15 window bits plus 16: zlib expects a gzip header and checks the CRC and length trailer.
const GZIP_WINDOW_BITS = 31;
const TRAILER_BYTES = 8;
// A 10-byte header, the 2-byte deflate stream of nothing, and the trailer: no member is shorter.
const SMALLEST_MEMBER = 20;

type Inflater = InstanceType<typeof zlibSync.Inflate>;

/**
 * zlib-sync inflates one gzip member and stops. Files made by `cat a.gz b.gz` (and shippers
 * that append) hold several, and zlib-sync does not say how much input a member used, so the
 * next member is found by its shape: a gzip header right after a trailer whose length field
 * equals the bytes the member produced.
 */
class MultiMemberGunzip {
  private inflater: Inflater = newInflater();
  private state: 'inflating' | 'between-members' | 'padding' = 'inflating';
  private memberBytesOut = 0;
  /** Input bytes the current member has taken in before the slice being pushed. */
  private memberBytesIn = 0;
  private inputOffset = 0;
  /** The member's last input bytes (up to a trailer's length): its trailer may straddle slices. */
  private previousTail = Buffer.alloc(0);
  private afterMemberEnd = Buffer.alloc(0);

  push(slice: Buffer): Buffer[] {
    const outputs: Buffer[] = [];
    let data = slice;
    for (;;) {
      if (this.state === 'padding') {
        if (!data.every((b) => b === 0)) throw garbageAfterStream(this.inputOffset);
        break;
      }
      if (this.state === 'between-members') {
        this.afterMemberEnd = Buffer.concat([this.afterMemberEnd, data]);
        data = Buffer.alloc(0);
        const next = findNextMember(this.afterMemberEnd, this.memberBytesOut, this.earliestTrailerEnd());
        if (next === 'need-more') break;
        if (next === 'padding') {
          this.state = 'padding';
          break;
        }
        if (next === 'garbage') throw garbageAfterStream(this.inputOffset);
        data = this.afterMemberEnd.subarray(next);
        this.startMember();
      }
      if (data.length === 0) break;

      this.inflater.push(data, zlibSync.Z_SYNC_FLUSH);
      const out = this.result();
      if (out !== null) outputs.push(out);
      if (this.inflater.err !== zlibSync.Z_STREAM_END) {
        const seen = data.length >= TRAILER_BYTES ? data : Buffer.concat([this.previousTail, data]);
        this.previousTail = Buffer.from(seen.subarray(Math.max(0, seen.length - TRAILER_BYTES)));
        this.memberBytesIn += data.length;
        break;
      }
      // The trailer may have begun in earlier slices: search from the member's last bytes on.
      this.state = 'between-members';
      this.afterMemberEnd = Buffer.concat([this.previousTail, data]);
      data = Buffer.alloc(0);
    }
    this.inputOffset += slice.length;
    return outputs;
  }

  end(): Buffer[] {
    if (this.state === 'padding') return [];
    if (this.state === 'between-members') {
      const next = findNextMember(this.afterMemberEnd, this.memberBytesOut, this.earliestTrailerEnd());
      if (next === 'need-more' || next === 'padding') return [];
      throw garbageAfterStream(this.inputOffset);
    }
    // Output that did not fit zlib's buffer comes out on the next push: drain it.
    const outputs: Buffer[] = [];
    for (;;) {
      this.inflater.push(Buffer.alloc(0), zlibSync.Z_SYNC_FLUSH);
      const out = this.result();
      if (out !== null) outputs.push(out);
      if (this.inflater.err === zlibSync.Z_STREAM_END) return outputs;
      if (out === null) break;
    }
    throw new GzipError(
      'truncated-gzip',
      `the gzip stream ends after ${this.inputOffset} bytes without its end marker: the file is truncated`,
    );
  }

  private startMember(): void {
    this.afterMemberEnd = Buffer.alloc(0);
    this.previousTail = Buffer.alloc(0);
    this.inflater = newInflater();
    this.memberBytesOut = 0;
    this.memberBytesIn = 0;
    this.state = 'inflating';
  }

  /**
   * In `afterMemberEnd` (the member's tail bytes, then the slice that ended it), the first offset
   * where its trailer may end. Earlier offsets lie inside the member's own header, whose zeroed
   * timestamp would otherwise pass for the length field of an empty member.
   */
  private earliestTrailerEnd(): number {
    const memberStart = this.memberBytesIn - this.previousTail.length;
    return Math.max(TRAILER_BYTES, SMALLEST_MEMBER - memberStart);
  }

  private result(): Buffer | null {
    const err = this.inflater.err;
    if (err < 0 && err !== zlibSync.Z_BUF_ERROR) {
      throw new GzipError('corrupt-gzip', `corrupt gzip data near byte ${this.inputOffset} (zlib: ${this.inflater.msg ?? err})`);
    }
    const result = this.inflater.result;
    if (result === null || typeof result === 'string' || result.length === 0) return null;
    this.memberBytesOut += result.length;
    return result;
  }
}

function newInflater(): Inflater {
  return new zlibSync.Inflate({ windowBits: GZIP_WINDOW_BITS, chunkSize: OUTPUT_CHUNK });
}

/** Where the next member starts in bytes that hold the end of the previous one (and its trailer). */
function findNextMember(
  bytes: Buffer,
  memberBytesOut: number,
  earliestTrailerEnd: number,
): number | 'need-more' | 'padding' | 'garbage' {
  const isize = memberBytesOut >>> 0;
  let trailerEnd = -1;
  for (let p = earliestTrailerEnd; p <= bytes.length; p++) {
    if (bytes.readUInt32LE(p - 4) !== isize) continue;
    if (trailerEnd < 0) trailerEnd = p;
    if (p + 3 <= bytes.length && bytes[p] === 0x1f && bytes[p + 1] === 0x8b && bytes[p + 2] === 0x08) return p;
  }
  if (trailerEnd < 0) return 'garbage';
  const after = bytes.subarray(trailerEnd);
  if (after.length === 0) return 'need-more';
  if (after.every((b) => b === 0)) return 'padding';
  // A header cut by the slice boundary: wait for the rest of it.
  if (after.length < 3 && after[0] === 0x1f && (after.length === 1 || after[1] === 0x8b)) return 'need-more';
  return 'garbage';
}

function garbageAfterStream(inputOffset: number): GzipError {
  return new GzipError('corrupt-gzip', `the bytes after the gzip stream near byte ${inputOffset} are not another gzip member`);
}
