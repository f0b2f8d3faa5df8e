import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../../db/connection.js';
import { claimSensorLease, releaseSensorLease, renewSensorLease, sensorLeaseHolder, takeSensorLeaseFrom, type LeaseHolder } from '../../db/leases.js';

export interface SensorLeaseOptions {
  db: Db;
  sensor: string;
  /** How long a claim or renewal lasts (config `lease.seconds`). */
  seconds: number;
  /** Told, once per wait, that another scorer holds the lease; and each time the store cannot be reached to claim it. */
  onWait?: (message: string) => void;
}

// A waiting scorer tries for the lease this often: one short transaction a second, so that it
// follows a holder that lets go within about a second, not a third of the lease later.
const WAIT_STEP_MS = 1000;

/**
 * This scorer's turn at a sensor's files (db/leases.ts): taken before a file is scored, renewed in
 * the background every third of its length, and let go when there is nothing left to score, so a
 * scorer beside it can take over. When a renewal finds it gone, `lost` aborts the file in hand.
 */
export class SensorLease {
  /** This process, as the lease rows name it. */
  readonly holder = `${hostname()}:${process.pid}:${Date.now().toString(36)}`;
  private timer: NodeJS.Timeout | null = null;
  private lostController = new AbortController();
  private file: string | null = null;

  constructor(private readonly options: SensorLeaseOptions) {}

  get held(): boolean {
    return this.timer !== null;
  }

  /** Aborts when the lease is found taken by another scorer. */
  get lost(): AbortSignal {
    return this.lostController.signal;
  }

  get lease(): LeaseHolder {
    return { sensor: this.options.sensor, holder: this.holder, seconds: this.options.seconds };
  }

  /**
   * Waits until this scorer holds the lease (`held`), trying every second: a holder that let it go
   * is followed at once, one that died once its lease expires, or at once when it was a process of
   * this host. `stopped` when `signal` aborts first. `not-needed` as soon as `stillNeeded` (asked
   * whenever another scorer is found holding the lease) says the turn is no longer wanted: the
   * holder has scored the very file this scorer was waiting to score, say.
   */
  async acquire(signal: AbortSignal, stillNeeded: () => boolean | Promise<boolean> = () => true): Promise<'held' | 'stopped' | 'not-needed'> {
    let told: string | null = null;
    while (!signal.aborted) {
      let waitingBecause: string;
      try {
        if (claimSensorLease(this.options.db, this.lease) || this.takeFromDeadHolder()) {
          this.lostController = new AbortController();
          this.timer = setInterval(() => this.renew(), this.periodMs());
          // A lease must not keep a finished process alive.
          this.timer.unref();
          return 'held';
        }
        // Another scorer has it, and may have done what this one is waiting to do.
        if (!(await stillNeeded())) return 'not-needed';
        waitingBecause = `sensor ${this.options.sensor}'s files are being scored by another scorer; waiting for its lease`;
      } catch (error) {
        // The store is down or unreachable: not this scorer's end; it tries again.
        waitingBecause = error instanceof Error ? error.message : String(error);
      }
      // Each reason is told once in a row: a store down for a minute is not sixty lines.
      if (waitingBecause !== told) this.options.onWait?.(waitingBecause);
      told = waitingBecause;
      await sleep(Math.min(WAIT_STEP_MS, this.periodMs()), undefined, { signal }).catch((error: unknown) => {
        if (!signal.aborted) throw error;
      });
    }
    return 'stopped';
  }

  /** Records the file in hand (null between files) and renews the lease now. */
  working(file: string | null): void {
    this.file = file;
    this.renew();
  }

  /** Lets the lease go, if held: another scorer may take the sensor's files at once. */
  release(): void {
    if (this.timer === null) return;
    this.stopRenewing();
    try {
      releaseSensorLease(this.options.db, this.lease);
    } catch {
      // The store is unreachable: the lease expires by itself, and then another scorer takes it.
    }
  }

  /**
   * A holder that was a process of this host, now gone (a service killed with -9, or its host
   * rebooted), is not waited out: its restart takes the lease at once. A holder elsewhere can only
   * expire. The holder's name is host:pid:start, so a reused pid is told apart by its start.
   */
  private takeFromDeadHolder(): boolean {
    const holder = sensorLeaseHolder(this.options.db, this.options.sensor);
    if (holder === null || holder === this.holder || !diedOnThisHost(holder)) return false;
    return takeSensorLeaseFrom(this.options.db, this.lease, holder);
  }

  private renew(): void {
    if (this.timer === null) return;
    let kept: boolean;
    try {
      kept = renewSensorLease(this.options.db, this.lease, this.file);
    } catch {
      // The store is unreachable for now: the lease runs on until it expires, and the file's
      // own write checks it then.
      return;
    }
    if (!kept) {
      this.stopRenewing();
      this.lostController.abort(new Error(`sensor ${this.options.sensor}'s lease was taken by another scorer`));
    }
  }

  private stopRenewing(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private periodMs(): number {
    return (this.options.seconds * 1000) / 3;
  }
}

/** Whether `holder` (host:pid:start) names a process of this host that no longer runs. */
function diedOnThisHost(holder: string): boolean {
  const last = holder.lastIndexOf(':');
  const middle = holder.lastIndexOf(':', last - 1);
  if (middle <= 0 || holder.slice(0, middle) !== hostname()) return false;
  const pid = Number(holder.slice(middle + 1, last));
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  // This very pid, under another start: the process that held it was this one's predecessor.
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
