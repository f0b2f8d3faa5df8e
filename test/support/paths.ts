import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from this file whether it runs from test/ or dist/test/. */
export const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

/**
 * The real Zeek logs in `../shared/data` (see its README). Tests fail loudly when they are
 * missing rather than skipping: a green run without them would prove nothing.
 */
export const sharedData = resolve(process.env.ZEEK_ANOMALY_SHARED_DATA ?? join(repoRoot, '..', 'shared', 'data'));

export function shared(...parts: string[]): string {
  const path = join(sharedData, ...parts);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: the tests need ../shared/data beside the repository (or ZEEK_ANOMALY_SHARED_DATA)`);
  }
  return path;
}

/** Zeek's other logs (dns, http, ssl, ssh, open_conn, notice; see its README), the sibling of the shared data folder. */
export const otherLogs = join(dirname(sharedData), 'other-logs');

export function otherLog(...parts: string[]): string {
  const path = join(otherLogs, ...parts);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: the tests need ../shared/other-logs beside ../shared/data (or beside ZEEK_ANOMALY_SHARED_DATA)`);
  }
  return path;
}

export function fixture(...parts: string[]): string {
  return join(repoRoot, 'test', 'fixtures', ...parts);
}

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir(prefix = 'zeek-anomaly-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Files a test file writes for itself, each under a fresh name in one temporary folder: call
 * `setUp` in `before` and `cleanUp` in `after`, then `write(name, content)` returns each file's path.
 */
export function scratchFiles(): { setUp: () => Promise<void>; cleanUp: () => Promise<void>; write: (name: string, content: string | Buffer) => string } {
  let dir = '';
  let cleanup: () => Promise<void> = () => Promise.resolve();
  let count = 0;
  return {
    setUp: async () => void ({ dir, cleanup } = await tempDir()),
    cleanUp: () => cleanup(),
    write: (name, content) => {
      const file = join(dir, `${++count}-${name}`);
      writeFileSync(file, content);
      return file;
    },
  };
}

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}
