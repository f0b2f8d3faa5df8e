import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';

/** What the ledger knows a file by, taken before it is scored. */
export interface FileIdentity {
  path: string;
  size: number;
  sha256: string;
  modifiedMs: number;
}

/**
 * The ledger's `sha256` for a file whose content could not be read (vanished, unreadable, not a
 * regular file): the one failed row for that path, so the file is recorded once, not at every start.
 */
export const UNKNOWN_CONTENT = '';

export type Identified =
  | { status: 'identified'; identity: FileIdentity }
  /** The operating system refused (or the path is no regular file); `error` names the path and says why. */
  | { status: 'unreadable'; size: number; error: string };

/**
 * Stats and hashes a file (SHA-256, streamed: never held whole). An error from the operating
 * system — the file vanished (an expire-logs run, zeek-archiver moving it), may not be read, or
 * is a directory or a FIFO — is an outcome, never a throw: one file must not stop the service.
 */
export async function identifyFile(path: string): Promise<Identified> {
  const stated = await statFile(path);
  if (stated.status === 'unreadable') return stated;
  return hashedIdentity(path, stated.size, stated.modifiedMs);
}

export type Stated = { status: 'stated'; size: number; modifiedMs: number } | { status: 'unreadable'; size: number; error: string };

/** The file's size and modification time, or why it cannot be read (as `identifyFile`, without the hash). */
export async function statFile(path: string): Promise<Stated> {
  let before: Stats;
  try {
    before = await stat(path);
  } catch (error) {
    return unreadable(path, 0, error);
  }
  // A FIFO would block the read forever, a directory fails it: neither is an archive.
  if (!before.isFile()) return { status: 'unreadable', size: 0, error: `${path}: not a regular file (${kindOf(before)}); only files are scored` };
  return { status: 'stated', size: before.size, modifiedMs: before.mtimeMs };
}

/** The identity of a file already stated: its content hashed in a read of its own. */
export async function hashedIdentity(path: string, size: number, modifiedMs: number): Promise<Identified> {
  try {
    return { status: 'identified', identity: { path, size, sha256: await sha256Of(path), modifiedMs } };
  } catch (error) {
    return unreadable(path, size, error);
  }
}

/** Null when the file is as `identity` found it; otherwise why it is not (it grew, shrank, was replaced or vanished). */
export async function changeSince(identity: FileIdentity): Promise<string | null> {
  let now: Stats;
  try {
    now = await stat(identity.path);
  } catch (error) {
    return `it could not be read again after scoring (${messageOf(error)})`;
  }
  if (now.size !== identity.size) return `it changed while it was scored (${identity.size} bytes, then ${now.size})`;
  if (now.mtimeMs !== identity.modifiedMs) return `it was rewritten while it was scored (modified at ${new Date(now.mtimeMs).toISOString()})`;
  return null;
}

/** The content's SHA-256, streamed. */
async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function unreadable(path: string, size: number, error: unknown): { status: 'unreadable'; size: number; error: string } {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  // Only the operating system's refusals are the file's problem; anything else is a bug to surface.
  if (typeof code !== 'string') throw error;
  return { status: 'unreadable', size, error: `${path}: cannot read it: ${messageOf(error)}` };
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
