import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../../db/connection.js';
import { claimSensorLease, releaseSensorLease, renewSensorLease, type LeaseHolder } from '../../db/leases.js';

export interface SensorLeaseOptions {
  db: Db;
  sensor: string;
  /** How long a claim or renewal lasts (config `lease.seconds`). */
  seconds: number;
  /** Told, once per wait, that another scorer holds the lease; and each time the store cannot be reached to claim it. */
  onWait?: (message: string) => void;
}

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
   * Waits until this scorer holds the lease, trying again every third of its length (a holder
   * that died is replaced once its lease expires). Returns false when `signal` aborts first.
   */
  async acquire(signal: AbortSignal): Promise<boolean> {
    let told = false;
    while (!signal.aborted) {
      let claimed = false;
      try {
        claimed = claimSensorLease(this.options.db, this.lease);
      } catch (error) {
        // The store is down or unreachable: not this scorer's end; it tries again.
        this.options.onWait?.(error instanceof Error ? error.message : String(error));
      }
      if (claimed) {
        this.lostController = new AbortController();
        this.timer = setInterval(() => this.renew(), this.periodMs());
        // A lease must not keep a finished process alive.
        this.timer.unref();
        return true;
      }
      if (!told) {
        this.options.onWait?.(`sensor ${this.options.sensor}'s files are being scored by another scorer; waiting for its lease`);
        told = true;
      }
      await sleep(this.periodMs(), undefined, { signal }).catch((error: unknown) => {
        if (!signal.aborted) throw error;
      });
    }
    return false;
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
