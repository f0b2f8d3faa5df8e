import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { gunzip, isGzip } from './gunzip.js';

export type Compression = 'gzip' | 'none';

export interface ByteSource {
  compression: Compression;
  /** The file's content, decompressed, in chunks of a bounded size. The file closes when iteration ends, however it ends. */
  chunks: AsyncIterable<Buffer>;
}

const READ_CHUNK = 1024 * 1024;

/**
 * Opens a file and decides from its first bytes, not its name, whether it is gzip. `onFileBytes`
 * sees each chunk as read from the disk, in order, before any is decompressed.
 */
export async function openByteSource(file: string, onFileBytes?: (chunk: Buffer) => void): Promise<ByteSource> {
  // Opening a FIFO blocks until something writes to it, which may be never; a directory fails later
  // with a less clear error. Neither is a log. (The stat error itself, ENOENT or EACCES, names the file.)
  const info = await stat(file);
  if (!info.isFile()) throw new NotARegularFile();
  const stream = createReadStream(file, { highWaterMark: READ_CHUNK });
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let first: IteratorResult<Buffer>;
  try {
    first = await chunks.next();
  } catch (error) {
    stream.destroy();
    throw error;
  }
  const head = first.done ? Buffer.alloc(0) : first.value;
  const all = withHead(head, chunks, () => stream.destroy(), onFileBytes);
  return isGzip(head) ? { compression: 'gzip', chunks: gunzip(all) } : { compression: 'none', chunks: all };
}

async function* withHead(head: Buffer, rest: AsyncIterator<Buffer>, close: () => void, onFileBytes?: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
  try {
    if (head.length > 0) {
      onFileBytes?.(head);
      yield head;
    }
    for (let next = await rest.next(); !next.done; next = await rest.next()) {
      onFileBytes?.(next.value);
      yield next.value;
    }
  } finally {
    // Reached on a throw or an early `break` downstream too: a rejected file must not keep its descriptor.
    close();
  }
}

/** The path is a directory, a FIFO, a socket or a device: there is nothing to read as a log. */
export class NotARegularFile extends Error {
  readonly code = 'ENOTREGULAR';

  constructor() {
    // The reader puts the file's name in front, as it does for the operating system's errors.
    super('not a regular file (a directory, FIFO, socket or device); only files are read');
  }
}
