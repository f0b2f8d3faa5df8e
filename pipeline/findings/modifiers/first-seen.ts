import { z } from 'zod';
import { numberFrom } from '../../settings/schema-words.js';
import type { Surroundings } from '../around.js';
import type { Modifier } from '../grade.js';
import { defineModifier } from '../modifier.js';
import { clock } from '../words.js';

/** +points when `src` first contacted `dst` shortly before the finding began (`firstTs`); else null. */
export type FirstSeen = (src: string, dst: string, firstTs: number, around: Surroundings) => Modifier | null;

/**
 * RITA's first-seen modifier: a pair first seen recently raises the score. Here "recently" is
 * within `withinHours` before the finding began (what began with a new pair), and only once the
 * context had seen the network that long before the pair appeared: on its first day, every pair is new.
 */
export const firstSeen = defineModifier({
  key: 'firstSeen',
  names: ['new pair'],
  logs: ['conn'],
  about: 'the pair was first seen shortly before the finding began, once the context knew the network for as long',
  options: z.strictObject({
    withinHours: numberFrom(0, 24 * 365),
    points: numberFrom(0, 100),
  }),
  defaults: { withinHours: 24, points: 15 },
  make(options): FirstSeen {
    const recent = options.withinHours * 3600;
    return (src, dst, firstTs, around) => {
      const seen = around.pairFirstSeen(src, dst);
      const history = around.historyStart();
      if (seen === null || history === null || seen - history < recent || firstTs - seen > recent) return null;
      return { name: 'new pair', points: options.points, reason: `${src} first contacted ${dst} at ${clock(seen)}` };
    };
  },
});
