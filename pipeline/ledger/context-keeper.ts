import type { Db } from '../../db/connection.js';
import { readContextState } from '../../db/context-state.js';
import { ContextState, type ContextLimits } from '../context/context-state.js';
import { ContextStateError, decodeContextState, encodeContextState } from '../context/state-codec.js';

/**
 * The context state a scorer carries from file to file, and its last saved copy in the database.
 * A file scored and stored saves the state with its results (one transaction); a file that fails,
 * is stopped, or turns out to be stored already leaves no trace: the state goes back to the saved
 * copy. So a `kill -9` at any moment neither loses nor counts twice a file's part in it.
 */
export class ContextKeeper {
  private constructor(
    private readonly db: Db,
    private readonly sensor: string,
    private readonly limits: Readonly<ContextLimits>,
    private current: ContextState,
    /** Why the saved state could not be used, when it could not (the scorer then starts afresh). */
    readonly problem: string | null,
  ) {}

  /** `sensor`'s saved state, or an empty one before its first file (or when the saved one cannot be read: see `problem`). */
  static load(db: Db, sensor: string, limits: Readonly<ContextLimits>): ContextKeeper {
    const { state, problem } = readSaved(db, sensor, limits);
    return new ContextKeeper(db, sensor, limits, state, problem);
  }

  /** The state to count the next file into. */
  get state(): ContextState {
    return this.current;
  }

  /** A fresh copy of the state as last saved (before the file being scored): for a second read to replay. */
  rewound(): ContextState {
    return readSaved(this.db, this.sensor, this.limits).state;
  }

  /** The state's byte parts (views of its tables, not copies), to save with the file's results. */
  encode(): Uint8Array[] {
    return encodeContextState(this.current);
  }

  /** Forgets what the last file counted: back to the saved state. */
  discard(): void {
    this.current = this.rewound();
  }
}

function readSaved(db: Db, sensor: string, limits: Readonly<ContextLimits>): { state: ContextState; problem: string | null } {
  const saved = readContextState(db, sensor);
  if (saved === undefined) return { state: new ContextState(limits), problem: null };
  try {
    return { state: decodeContextState(saved.parts, limits), problem: null };
  } catch (error) {
    if (!(error instanceof ContextStateError)) throw error;
    return { state: new ContextState(limits), problem: `${db.name}: ${error.message} (saved with file ${saved.fileId ?? 'unknown'} at ${saved.savedAt}); starting from an empty state` };
  }
}
