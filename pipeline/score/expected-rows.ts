import { open } from 'node:fs/promises';

// Fewer bytes than a Zeek conn row takes (about 120 in TSV with a uid, more in JSON): rows / this
// is more rows than a file holds, so the scores' buffer is made once. The room past the last row is
// never written, and the operating system gives memory only for the pages that are.
const BYTES_PER_ROW_AT_LEAST = 100;
const AT_MOST = 64 * 1024 * 1024;
const AT_LEAST = 65_536;

/**
 * About as many rows as `file` can hold, or a little more, to size what keeps a number per row:
 * growing by doubling kept the old copy (32 MB at 8M rows) beside the new one until a full garbage
 * collection. A gzip file's uncompressed size is the one it records in its last four bytes (that
 * of its last member, modulo 4 GiB: a concatenated or larger file gets too low a figure, and the
 * buffer then grows as before). Any trouble reading the file gives the smallest size: the read
 * that scores it reports the trouble.
 */
export async function expectedRows(file: string): Promise<number> {
  let handle;
  try {
    handle = await open(file, 'r');
    const { size } = await handle.stat();
    let bytes = size;
    const head = Buffer.alloc(2);
    if (size >= 18 && (await handle.read(head, 0, 2, 0)).bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b) {
      const tail = Buffer.alloc(4);
      await handle.read(tail, 0, 4, size - 4);
      bytes = tail.readUInt32LE(0);
    }
    return Math.min(AT_MOST, Math.max(AT_LEAST, Math.ceil(bytes / BYTES_PER_ROW_AT_LEAST)));
  } catch {
    return AT_LEAST;
  } finally {
    await handle?.close();
  }
}
