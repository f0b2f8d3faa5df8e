import type { z } from 'zod';
import { firstSeen } from './modifiers/first-seen.js';
import { prevalence } from './modifiers/prevalence.js';

/** Every shared modifier, in the order the docs list them. A detector's own modifiers live in it. */
export const MODIFIERS = [prevalence, firstSeen] as const;

type Definitions = (typeof MODIFIERS)[number];

/** The modifiers configured, by key, as each detector's `make` receives them. */
export type Modifiers = { [M in Definitions as M['key']]: ReturnType<M['make']> };

/** Each modifier's options, by key (config `findings.modifiers`). */
export type ModifierOptions = { [M in Definitions as M['key']]: z.infer<M['options']> };

export function makeModifiers(options: Readonly<ModifierOptions>): Modifiers {
  return { prevalence: prevalence.make(options.prevalence), firstSeen: firstSeen.make(options.firstSeen) };
}
