import { z } from 'zod';
import { numberFrom } from '../../settings/schema-words.js';
import type { Surroundings } from '../around.js';
import type { Modifier } from '../grade.js';
import { defineModifier } from '../modifier.js';

/** +points when few internal hosts reach `dst`, −points when most do; null for anything else. */
export type Prevalence = (src: string, dst: string, now: number, around: Surroundings) => Modifier | null;

/**
 * RITA's prevalence modifiers (default_config.hjson): an external destination at most 2% of the
 * internal hosts reach raises the score, one at least half of them reach lowers it. Prevalence is
 * about the monitored network's hosts going out: for any other direction there is none.
 */
export const prevalence = defineModifier({
  key: 'prevalence',
  names: ['rare destination', 'common destination'],
  logs: ['conn'],
  about: 'an internal host going out to a destination few internal hosts reach (+), or most of them reach (−), in the last day',
  options: z.strictObject({
    /** At most this share of the internal hosts active in the last day: rare. */
    rareShare: numberFrom(0, 1),
    /** At least this share: common. */
    commonShare: numberFrom(0, 1),
    points: numberFrom(0, 100),
  }),
  defaults: { rareShare: 0.02, commonShare: 0.5, points: 15 },
  make(options): Prevalence {
    return (src, dst, now, around) => {
      if (!around.isInternal(src) || around.isInternal(dst)) return null;
      const sources = around.destinationSources(dst, now);
      const active = around.activeSources(now);
      if (sources === null || active === 0) return null;
      const share = sources / active;
      const reach = `reached by ${sources} of the ${active} internal hosts active in the last day (${(share * 100).toFixed(1)}%)`;
      if (share <= options.rareShare) return { name: 'rare destination', points: options.points, reason: reach };
      if (share >= options.commonShare) return { name: 'common destination', points: -options.points, reason: reach };
      return null;
    };
  },
});
