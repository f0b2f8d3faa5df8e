// node:test runs and awaits every test() and describe() it registers; their promises are not ours to await.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter, type LineBatch } from '../pipeline/read/line-splitter.js';

/** Feeds `chunks` and `end()`, checking that each batch is numbered on from the last, and returns what came out. */
function split(
  chunks: (string | Buffer)[],
  maxLineBytes?: number,
): { lines: string[]; overlong: number[]; endedMidLine: boolean; batches: LineBatch[] } {
  const splitter = new LineSplitter(maxLineBytes);
  const batches = chunks.map((c) => splitter.push(typeof c === 'string' ? Buffer.from(c) : c));
  batches.push(splitter.end());
  let next = 1;
  for (const batch of batches) {
    assert.equal(batch.firstLine, next, 'each batch starts where the previous one stopped');
    next += batch.lines.length;
  }
  const last = batches[batches.length - 1];
  return {
    lines: batches.flatMap((b) => b.lines),
    overlong: batches.flatMap((b) => b.overlong),
    endedMidLine: last?.endedMidLine ?? false,
    batches,
  };
}

/** `text` cut into pieces of `size` bytes (so UTF-8 characters and CRLF pairs are cut too). */
function bytesOf(text: string, size: number): Buffer[] {
  const bytes = Buffer.from(text);
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  return pieces;
}

test('one chunk of whole lines gives those lines, numbered from 1', () => {
  const { lines, batches, endedMidLine, overlong } = split(['a\tb\nc\n\nd\n']);
  assert.deepEqual(lines, ['a\tb', 'c', '', 'd']);
  assert.equal(batches[0]?.firstLine, 1);
  assert.deepEqual(overlong, []);
  assert.equal(endedMidLine, false);
});

test('a line cut across chunks comes out whole, in the batch of the chunk that ends it', () => {
  const { batches, lines } = split(['ab', 'c\nde', 'f', '\n']);
  assert.deepEqual(
    batches.map((b) => b.lines),
    [[], ['abc'], [], ['def'], []],
  );
  assert.deepEqual(lines, ['abc', 'def']);
  assert.equal(batches[3]?.firstLine, 2);
});

test('a CRLF cut between its CR and its LF still ends the line without the CR', () => {
  const { lines } = split(['abc\r', '\ndef\r\n', 'ghi\r', '\n']);
  assert.deepEqual(lines, ['abc', 'def', 'ghi']);
});

test('CRLF lines lose only their final CR', () => {
  const { lines } = split(['a\rb\r\n\r\nc\r\r\n']);
  assert.deepEqual(lines, ['a\rb', '', 'c\r']);
});

test('one byte per chunk gives the same lines as one chunk, UTF-8 and CRLF included', () => {
  const text = 'ts\tcafé\r\n🦀 crab\n\nplain line\r\nlast without newline é';
  const whole = split([text]);
  const bytewise = split(bytesOf(text, 1));
  assert.deepEqual(bytewise.lines, ['ts\tcafé', '🦀 crab', '', 'plain line', 'last without newline é']);
  assert.deepEqual(bytewise.lines, whole.lines);
  assert.equal(bytewise.endedMidLine, true);
  assert.equal(whole.endedMidLine, true);
});

test('every cut of a text into two chunks gives the same lines', () => {
  const text = 'α\tβ\r\nγ\n\nδδδ\r\n';
  const bytes = Buffer.from(text);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const { lines } = split([bytes.subarray(0, cut), bytes.subarray(cut)]);
    assert.deepEqual(lines, ['α\tβ', 'γ', '', 'δδδ'], `cut at byte ${cut}`);
  }
});

test('the last line without a newline comes from end() and sets endedMidLine', () => {
  const splitter = new LineSplitter();
  const first = splitter.push(Buffer.from('one\ntwo'));
  assert.deepEqual(first.lines, ['one']);
  const last = splitter.end();
  assert.deepEqual(last.lines, ['two']);
  assert.equal(last.firstLine, 2);
  assert.equal(last.endedMidLine, true);
});

test('input ending with a newline leaves end() empty and endedMidLine false', () => {
  const splitter = new LineSplitter();
  splitter.push(Buffer.from('one\ntwo\n'));
  const last = splitter.end();
  assert.deepEqual(last.lines, []);
  assert.deepEqual(last.overlong, []);
  assert.equal(last.endedMidLine, false);
  assert.equal(last.firstLine, 3);
});

test('no input at all gives no lines and does not count as ending mid-line', () => {
  const { lines, endedMidLine } = split([]);
  assert.deepEqual(lines, []);
  assert.equal(endedMidLine, false);
});

test('an overlong line inside one chunk stands as an empty line listed in overlong', () => {
  const { lines, overlong, batches } = split([`ok\n${'x'.repeat(17)}\nfine\n`], 16);
  assert.deepEqual(lines, ['ok', '', 'fine']);
  assert.deepEqual(overlong, [2]);
  assert.deepEqual(batches[0]?.overlong, [2]);
});

test('an overlong line split across many chunks is one overlong line, and the lines around it survive', () => {
  const chunks = ['first\nxxxxxx', 'xxxxxxxxxx', 'xxxxxxxxxx', 'xxxxxxxxxx', 'xx\nsecond\n'];
  const { lines, overlong } = split(chunks, 16);
  assert.deepEqual(lines, ['first', '', 'second']);
  assert.deepEqual(overlong, [2]);
});

test('an overlong line fed one byte at a time is still exactly one overlong line', () => {
  const { lines, overlong } = split(bytesOf(`a\n${'y'.repeat(100)}\nb\n`, 1), 16);
  assert.deepEqual(lines, ['a', '', 'b']);
  assert.deepEqual(overlong, [2]);
});

test('an overlong last line without a newline is reported overlong and ended mid-line', () => {
  const { lines, overlong, endedMidLine } = split(['a\n', 'z'.repeat(20), 'z'.repeat(20)], 16);
  assert.deepEqual(lines, ['a', '']);
  assert.deepEqual(overlong, [2]);
  assert.equal(endedMidLine, true);
});

test('a line of exactly the limit is kept, in one chunk or cut in two', () => {
  const line = '0123456789abcdef';
  assert.deepEqual(split([`${line}\n`], 16).lines, [line]);
  assert.deepEqual(split([line.slice(0, 7), `${line.slice(7)}\n`], 16).lines, [line]);
  assert.deepEqual(split([`${line}x\n`], 16).overlong, [1]);
  assert.deepEqual(split([line.slice(0, 7), `${line.slice(7)}x\n`], 16).overlong, [1]);
});

test('a line of exactly the limit ending in CRLF is kept however the chunks are cut', () => {
  const line = '0123456789abcdef';
  assert.deepEqual(split([`${line}\r\n`], 16).lines, [line], 'one chunk');
  assert.deepEqual(split([line.slice(0, 7), `${line.slice(7)}\r\n`], 16).lines, [line], 'cut before the CR');
  assert.deepEqual(split([`${line}\r`, '\n'], 16).lines, [line], 'cut between CR and LF');
});

test('the limit counts bytes, not characters, however the chunks are cut', () => {
  // Six two-byte characters: 6 characters, 12 bytes, over a 10-byte limit.
  const line = 'éééééé';
  assert.equal(Buffer.byteLength(line), 12);
  assert.deepEqual(split([`${line}\n`], 10).overlong, [1], 'one chunk');
  assert.deepEqual(split(bytesOf(`${line}\n`, 3), 10).overlong, [1], 'cut into 3-byte chunks');
});

test('the default limit is 1 MiB', () => {
  assert.equal(DEFAULT_MAX_LINE_BYTES, 1024 * 1024);
  const big = 'b'.repeat(DEFAULT_MAX_LINE_BYTES + 1);
  assert.deepEqual(split([`ok\n${big}\nok\n`]).overlong, [2]);
  assert.deepEqual(split([`ok\n${big.slice(1)}\nok\n`]).overlong, []);
});

test('a chunk whose memory the caller reuses does not change a line already started', () => {
  const splitter = new LineSplitter();
  const chunk = Buffer.from('hello');
  assert.deepEqual(splitter.push(chunk).lines, []);
  chunk.fill(0x21);
  assert.deepEqual(splitter.push(Buffer.from(' world\n')).lines, ['hello world']);
});
