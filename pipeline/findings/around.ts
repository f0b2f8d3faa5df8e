// What a detector or a modifier may ask beyond the file it reads: the logs it can name, and the
// network as the context state knows it after the file. Types only, below every detector and modifier.

/** The Zeek logs a detector or a modifier may read. Today every one reads the conn log. */
export type ZeekLog = 'conn' | 'dns' | 'http' | 'ssl' | 'open_conn';

/** What a detector may ask of the network beyond the file: the context state after it. */
export interface Surroundings {
  /** Internal hosts that contacted `dst` in the day before `now`; null when there is no context to ask. */
  destinationSources(dst: string, now: number): number | null;
  /** Internal hosts active in the day before `now`: 0 when none is known, and prevalence means nothing. */
  activeSources(now: number): number;
  /** When `src` first contacted `dst`, as far as the context remembers, or null. */
  pairFirstSeen(src: string, dst: string): number | null;
  /** The earliest first contact the context remembers: how far back its history goes; null without context. */
  historyStart(): number | null;
  /** Whether `address` is on the monitored network (config `findings.internalNetworks`). */
  isInternal(address: string): boolean;
}
