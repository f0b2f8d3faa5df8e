import { EventEmitter, once } from 'node:events';
import { archiveStartMs } from '../discover/log-files.js';

/** Paths waiting to be scored, each once, oldest archive first by the time in its name. */
export class FileQueue {
  /** Each path with its start time, worked out once when the path is added (not in every comparison). */
  private readonly pending = new Map<string, number>();
  private readonly events = new EventEmitter();

  get size(): number {
    return this.pending.size;
  }

  add(path: string): void {
    this.putBack(path);
    this.events.emit('added');
  }

  /** Returns a path to the queue without waking a waiter: it is waiting for something else (a model). */
  putBack(path: string): void {
    if (!this.pending.has(path)) this.pending.set(path, archiveStartMs(path));
  }

  /** The oldest archive (by the time in its name, then by path; files without a time last). */
  next(): string | undefined {
    let first: string | undefined;
    let firstStart = Number.POSITIVE_INFINITY;
    for (const [path, start] of this.pending) {
      if (first === undefined || start < firstStart || (start === firstStart && path < first)) {
        first = path;
        firstStart = start;
      }
    }
    if (first !== undefined) this.pending.delete(first);
    return first;
  }

  /** Resolves when a path is added, or when `signal` aborts. */
  async waitForMore(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    try {
      await once(this.events, 'added', { signal });
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }
}
