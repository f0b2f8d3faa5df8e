import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { changeSince, identifyFile, type FileIdentity } from '../pipeline/ledger/file-identity.js';
import { readConnLog } from '../pipeline/read/read-conn-log.js';
import { LogReadError } from '../pipeline/read/log-read-error.js';
import { tempDir } from './support/paths.js';

async function identified(path: string): Promise<FileIdentity> {
  const result = await identifyFile(path);
  assert.equal(result.status, 'identified', JSON.stringify(result));
  return (result as { identity: FileIdentity }).identity;
}

test('a file is known by its size and the SHA-256 of its bytes', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, 'conn.log');
    await writeFile(path, 'some bytes\n');
    const identity = await identified(path);
    assert.equal(identity.size, 11);
    assert.equal(identity.sha256, createHash('sha256').update('some bytes\n').digest('hex'));
  } finally {
    await cleanup();
  }
});

test('a missing path, a directory and a FIFO are unreadable outcomes naming the path and the reason, not throws', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const missing = join(dir, 'gone.log.gz');
    const folder = join(dir, 'folder.log.gz');
    const fifo = join(dir, 'fifo.log.gz');
    await mkdir(folder);
    execFileSync('mkfifo', [fifo]);
    assert.deepEqual(await identifyFile(missing), { status: 'unreadable', size: 0, error: `${missing}: cannot read it: ENOENT: no such file or directory, stat '${missing}'` });
    assert.deepEqual(await identifyFile(folder), { status: 'unreadable', size: 0, error: `${folder}: not a regular file (a directory); only files are scored` });
    assert.deepEqual(await identifyFile(fifo), { status: 'unreadable', size: 0, error: `${fifo}: not a regular file (a FIFO); only files are scored` });
  } finally {
    await cleanup();
  }
});

test('a file that grew, was rewritten in place or vanished since it was identified is reported as changed', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, 'conn.log');
    await writeFile(path, 'first\n');
    const identity = await identified(path);
    assert.equal(await changeSince(identity), null, 'unchanged');

    await appendFile(path, 'more\n');
    assert.equal(await changeSince(identity), `it changed while it was scored (6 bytes, then 11)`);

    await writeFile(path, 'other\n');
    await utimes(path, new Date(), new Date(identity.modifiedMs + 5000));
    assert.match((await changeSince(identity)) ?? '', /^it was rewritten while it was scored \(modified at /);

    await writeFile(path, '');
    execFileSync('rm', [path]);
    assert.match((await changeSince(identity)) ?? '', /^it could not be read again after scoring \(ENOENT/);
  } finally {
    await cleanup();
  }
});

test('the reader refuses a FIFO before opening it, instead of waiting forever for a writer', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const fifo = join(dir, 'conn.log');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(
      async () => {
        for await (const batch of readConnLog(fifo)) assert.fail(`read ${batch.length} rows from a FIFO`);
      },
      (error: unknown) => error instanceof LogReadError && error.code === 'io' && error.message === `${fifo}: not a regular file (a directory, FIFO, socket or device); only files are read`,
    );
  } finally {
    await cleanup();
  }
});
