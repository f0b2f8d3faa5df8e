import type { z } from 'zod';
import type { ZeekLog } from './around.js';

/**
 * A modifier that several detectors share (a detector's own, such as a flood's many sources, lives
 * in its detector). Its module owns its config section (`findings.modifiers.<key>`), its defaults,
 * the logs it reads and how it is worked out; `make` configures it. It adds or takes points at the
 * `modifiers` step of the grading order (grade.ts).
 */
export interface ModifierDefinition<Key extends string, Schema extends z.ZodObject, Apply> {
  key: Key;
  /** The names it gives the points it adds or takes, as the evidence shows them. */
  names: readonly string[];
  logs: readonly ZeekLog[];
  /** What it says, in a line, for docs/findings.md. */
  about: string;
  options: Schema;
  defaults: Readonly<z.infer<Schema>>;
  make(options: Readonly<z.infer<Schema>>): Apply;
}

export function defineModifier<const Key extends string, Schema extends z.ZodObject, Apply>(
  definition: ModifierDefinition<Key, Schema, Apply>,
): ModifierDefinition<Key, Schema, Apply> {
  return definition;
}
