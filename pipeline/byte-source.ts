import { createReadStream } from 'node:fs';
import { gunzip, isGzip } from './gunzip.js';

export type Compression = 'gzip' | 'none';

export interface ByteSource {
  compression: Compression;
  /** The file's content, decompressed, in chunks of a bounded size. */
  chunks: AsyncIterable<Buffer>;
}

const READ_CHUNK = 1024 * 1024;

/** Opens a file and decides from its first bytes, not its name, whether it is gzip. */
export async function openByteSource(file: string): Promise<ByteSource> {
  const raw = createReadStream(file, { highWaterMark: READ_CHUNK })[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await raw.next();
  const head = first.done ? Buffer.alloc(0) : first.value;
  const all = prepend(head, raw);
  return isGzip(head) ? { compression: 'gzip', chunks: gunzip(all) } : { compression: 'none', chunks: all };
}

async function* prepend(head: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}
