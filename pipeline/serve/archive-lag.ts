import type { Db } from '../../db/connection.js';
import { isPathInLedger } from '../../db/dashboard-queries.js';
import { findConnLogs } from '../discover/log-files.js';

/** How far the scorer is behind the log directory: what the overview's health line says. */
export type ArchiveLag =
  | { status: 'read'; archives: number; unscored: number; newest: { path: string; end: number | null } | null }
  | { status: 'unreadable'; error: string };

// Listing a year of hourly archives takes a moment; the overview refreshes every few seconds and
// archives arrive hourly, so one listing serves a while.
const LISTING_TTL_MS = 30_000;

/**
 * The log directory's conn archives against the ledger: how many there are, how many the ledger
 * has not met yet, and the newest. Listed at most every 30 s, and one listing at a time.
 */
export class ArchiveLagReader {
  private last: { at: number; lag: Promise<ArchiveLag> } | null = null;

  constructor(
    private readonly db: Db,
    private readonly logDir: string,
    private readonly now: () => number = Date.now,
  ) {}

  read(): Promise<ArchiveLag> {
    const now = this.now();
    if (this.last === null || now - this.last.at >= LISTING_TTL_MS) this.last = { at: now, lag: this.list() };
    return this.last.lag;
  }

  private async list(): Promise<ArchiveLag> {
    try {
      const found = await findConnLogs([this.logDir]);
      const files = found.files;
      let unscored = 0;
      for (const file of files) if (!isPathInLedger(this.db, file.path)) unscored++;
      // Listed oldest first.
      const newest = files.at(-1);
      return { status: 'read', archives: files.length, unscored, newest: newest === undefined ? null : { path: newest.path, end: newest.end === null ? null : newest.end.getTime() / 1000 } };
    } catch (error) {
      return { status: 'unreadable', error: `${this.logDir}: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
}
