import { z } from 'zod';
import { wholeFrom } from '../settings/schema-words.js';
import { DEFAULT_CONTEXT_LIMITS } from './context-state.js';

// The config's `context` section, owned by the context stage.

export const CONTEXT_SCHEMA = z.strictObject({
  /** The most keys each context table holds before it evicts its idle half. */
  maxKeys: z.strictObject({ hosts: wholeFrom(2), pairs: wholeFrom(2), channels: wholeFrom(2) }),
});

export const DEFAULT_CONTEXT: Readonly<z.infer<typeof CONTEXT_SCHEMA>> = { maxKeys: { ...DEFAULT_CONTEXT_LIMITS } };
