import { z } from 'zod';
import { oneOf } from '../settings/schema-words.js';
import { READ_THREAD_SETTINGS } from './read-thread.js';

// The config's `read` section, owned by the first read.

export const READ_SCHEMA = z.strictObject({
  /** Read, count and featurise each file on a thread of its own beside scoring: "auto" does where the process may use two cores or more. */
  thread: oneOf(READ_THREAD_SETTINGS),
});

export const DEFAULT_READ: Readonly<z.infer<typeof READ_SCHEMA>> = { thread: 'auto' };
