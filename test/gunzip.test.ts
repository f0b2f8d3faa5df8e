// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { GzipError, gunzip, isGzip } from '../pipeline/read/gunzip.js';
import { pseudoRandomBytes } from './support/read.js';

const SLICE = 32 * 1024;

/** Inflates `input` delivered as the given chunks. */
async function inflate(chunks: Buffer[]): Promise<Buffer> {
  async function* source(): AsyncGenerator<Buffer> {
    // Each chunk arrives on a later turn, as from a stream.
    for (const chunk of chunks) yield await Promise.resolve(chunk);
  }
  const out: Buffer[] = [];
  for await (const piece of gunzip(source())) out.push(piece);
  return Buffer.concat(out);
}

/** `bytes` cut into chunks of `size`. */
function chunked(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return chunks;
}

async function gzipErrorOf(chunks: Buffer[]): Promise<GzipError> {
  try {
    await inflate(chunks);
  } catch (error) {
    if (error instanceof GzipError) return error;
    throw error;
  }
  return assert.fail('the input inflated without an error');
}

/** Incompressible text: base64 of pseudo-random bytes. */
function randomText(length: number, seed: number): Buffer {
  return Buffer.from(pseudoRandomBytes(Math.ceil((length * 3) / 4) + 3, seed).toString('base64').slice(0, length));
}

/** A gzip member of exactly `size` bytes, and the text it holds (stored, level 0, so size follows length). */
function memberOfSize(size: number, seed: number): { member: Buffer; text: Buffer } {
  const overhead = gzipSync(Buffer.alloc(0), { level: 0 }).length;
  for (let length = size - overhead - 16; length <= size; length++) {
    const text = randomText(length, seed);
    const member = gzipSync(text, { level: 0 });
    if (member.length === size) return { member, text };
  }
  throw new Error(`no level-0 gzip member of exactly ${size} bytes`);
}

const LOG_TEXT = Buffer.from(
  Array.from({ length: 2000 }, (_, i) => `${1713484800 + i}.000000\tC${i}\t10.0.0.${i % 250}\t${40000 + i}\t192.0.2.7\t443\ttcp\n`).join(''),
);

test('isGzip looks at the two magic bytes only', () => {
  assert.equal(isGzip(gzipSync('x')), true);
  assert.equal(isGzip(Buffer.from([0x1f, 0x8b])), true);
  assert.equal(isGzip(Buffer.from([0x1f])), false);
  assert.equal(isGzip(Buffer.from('#separator')), false);
  assert.equal(isGzip(Buffer.alloc(0)), false);
});

test('one member in one chunk inflates to its text', async () => {
  assert.deepEqual(await inflate([gzipSync(LOG_TEXT)]), LOG_TEXT);
});

test('one member delivered one byte per chunk inflates to its text', async () => {
  const gz = gzipSync(LOG_TEXT.subarray(0, 3000));
  assert.deepEqual(await inflate(chunked(gz, 1)), LOG_TEXT.subarray(0, 3000));
});

test('three members delivered one byte per chunk inflate to the three texts in order', async () => {
  const parts = [LOG_TEXT.subarray(0, 500), LOG_TEXT.subarray(500, 1234), LOG_TEXT.subarray(1234, 2000)];
  const gz = Buffer.concat(parts.map((p) => gzipSync(p)));
  assert.deepEqual(await inflate(chunked(gz, 1)), LOG_TEXT.subarray(0, 2000));
});

test('members delivered in chunks of every size from 2 to 40 bytes inflate whole', async () => {
  const parts = [LOG_TEXT.subarray(0, 700), LOG_TEXT.subarray(700, 1500)];
  const gz = Buffer.concat(parts.map((p) => gzipSync(p)));
  for (let size = 2; size <= 40; size++) {
    assert.deepEqual(await inflate(chunked(gz, size)), LOG_TEXT.subarray(0, 1500), `chunks of ${size} bytes`);
  }
});

test('many small members in one chunk inflate to all of their texts', async () => {
  const parts = chunked(LOG_TEXT, 997);
  const out = await inflate([Buffer.concat(parts.map((p) => gzipSync(p)))]);
  assert.deepEqual(out, LOG_TEXT);
});

test('a large member spanning many 32 KiB slices inflates whole', async () => {
  const text = Buffer.concat([LOG_TEXT, randomText(300 * 1024, 5), LOG_TEXT]);
  const gz = gzipSync(text);
  assert.ok(gz.length > 8 * SLICE);
  assert.deepEqual(await inflate([gz]), text);
  assert.deepEqual(await inflate(chunked(gz, 1024 * 1024)), text);
  assert.deepEqual(await inflate(chunked(gz, 4099)), text);
});

describe('a member boundary at the 32 KiB input slice boundary', () => {
  const second = gzipSync(LOG_TEXT);
  for (let delta = -8; delta <= 8; delta++) {
    const size = SLICE + delta;
    test(`a first member of ${size} bytes (32 KiB ${delta < 0 ? '-' : '+'} ${Math.abs(delta)}) is followed by the second`, async () => {
      const { member, text } = memberOfSize(size, 1000 + delta);
      assert.equal(member.length, size);
      const input = Buffer.concat([member, second]);
      const expected = Buffer.concat([text, LOG_TEXT]);
      assert.deepEqual(await inflate([input]), expected, 'one chunk, sliced at 32 KiB');
      assert.deepEqual(await inflate([input.subarray(0, SLICE), input.subarray(SLICE)]), expected, 'two chunks cut at 32 KiB');
      assert.deepEqual(await inflate([input.subarray(0, size), input.subarray(size)]), expected, 'two chunks cut at the member boundary');
    });
  }

  for (const delta of [-8, -3, -2, -1, 0, 1, 4, 8]) {
    const size = SLICE + delta;
    test(`a first member of ${size} bytes followed by zero padding, not a member, ends cleanly`, async () => {
      const { member, text } = memberOfSize(size, 2000 + delta);
      assert.deepEqual(await inflate([Buffer.concat([member, Buffer.alloc(64)])]), text);
    });
  }

  test('members at the slice boundary delivered one byte per chunk inflate whole', async () => {
    const { member, text } = memberOfSize(SLICE, 3000);
    const expected = Buffer.concat([text, LOG_TEXT]);
    assert.deepEqual(await inflate(chunked(Buffer.concat([member, second]), 1)), expected);
  });
});

describe('damage', () => {
  test('a member cut short is truncated-gzip', async () => {
    const gz = gzipSync(LOG_TEXT);
    const error = await gzipErrorOf([gz.subarray(0, Math.floor(gz.length / 2))]);
    assert.equal(error.code, 'truncated-gzip');
  });

  test('a member cut inside its 8-byte trailer is truncated-gzip', async () => {
    const gz = gzipSync(LOG_TEXT);
    for (const cut of [1, 4, 7, 8]) {
      const error = await gzipErrorOf([gz.subarray(0, gz.length - cut)]);
      assert.equal(error.code, 'truncated-gzip', `${cut} trailer bytes missing`);
    }
  });

  test('a second member cut short is truncated-gzip', async () => {
    const second = gzipSync(LOG_TEXT);
    const error = await gzipErrorOf([Buffer.concat([gzipSync('first\n'), second.subarray(0, 100)])]);
    assert.equal(error.code, 'truncated-gzip');
  });

  test('a wrong CRC in the trailer is corrupt-gzip', async () => {
    const gz = Buffer.from(gzipSync(LOG_TEXT));
    const crcAt = gz.length - 8;
    gz[crcAt] = (gz[crcAt] ?? 0) ^ 0xff;
    const error = await gzipErrorOf([gz]);
    assert.equal(error.code, 'corrupt-gzip');
  });

  test('a gzip header followed by random bytes is corrupt-gzip', async () => {
    const header = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]);
    const error = await gzipErrorOf([Buffer.concat([header, pseudoRandomBytes(4096, 99)])]);
    assert.equal(error.code, 'corrupt-gzip');
  });

  test('bytes after the last member that are neither zeros nor a member are corrupt-gzip', async () => {
    for (const junk of ['x', 'not gzip at all', '\x1f\x8bX']) {
      const error = await gzipErrorOf([Buffer.concat([gzipSync(LOG_TEXT), Buffer.from(junk, 'latin1')])]);
      assert.equal(error.code, 'corrupt-gzip', JSON.stringify(junk));
    }
  });

  test('zero padding then junk is corrupt-gzip', async () => {
    const error = await gzipErrorOf([Buffer.concat([gzipSync(LOG_TEXT), Buffer.alloc(100), Buffer.from('junk')])]);
    assert.equal(error.code, 'corrupt-gzip');
  });

  test('zero padding after the last member, in one chunk or across slices, is ignored', async () => {
    const gz = gzipSync(LOG_TEXT);
    assert.deepEqual(await inflate([Buffer.concat([gz, Buffer.alloc(1)])]), LOG_TEXT);
    assert.deepEqual(await inflate([Buffer.concat([gz, Buffer.alloc(3 * SLICE + 5)])]), LOG_TEXT);
    assert.deepEqual(await inflate([gz, Buffer.alloc(10), Buffer.alloc(10)]), LOG_TEXT);
  });
});

describe('empty members', () => {
  test('a gzip of nothing inflates to nothing', async () => {
    assert.equal((await inflate([gzipSync(Buffer.alloc(0))])).length, 0);
  });

  test('an empty member before a full one is skipped', async () => {
    assert.deepEqual(await inflate([Buffer.concat([gzipSync(Buffer.alloc(0)), gzipSync(LOG_TEXT)])]), LOG_TEXT);
  });

  test('an empty member after a full one is skipped', async () => {
    assert.deepEqual(await inflate([Buffer.concat([gzipSync(LOG_TEXT), gzipSync(Buffer.alloc(0))])]), LOG_TEXT);
  });
});

test('a lone gzip magic number is truncated-gzip', async () => {
  const error = await gzipErrorOf([Buffer.from([0x1f, 0x8b])]);
  assert.equal(error.code, 'truncated-gzip');
});
