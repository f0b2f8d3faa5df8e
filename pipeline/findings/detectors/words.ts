import type { Surroundings } from '../detector.js';
import type { Modifier } from '../grade.js';

// Shared by the detectors: how numbers and times read in a summary, and the modifiers several use.

export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function bytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${Math.round(n)} B`;
}

/** An epoch time as `2024-04-18 19:34 UTC`. */
export function clock(ts: number): string {
  return `${new Date(ts * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function duration(seconds: number): string {
  if (seconds >= 3600) return `${(seconds / 3600).toFixed(1)} h`;
  if (seconds >= 60) return `${(seconds / 60).toFixed(1)} min`;
  return `${seconds.toFixed(1)} s`;
}

// RITA's prevalence modifiers (default_config.hjson): an external destination at most 2% of the
// internal hosts reach raises the score, one at least half of them reach lowers it. Prevalence is
// about the monitored network's hosts going out: for any other direction there is none.
const RARE_SHARE = 0.02;
const COMMON_SHARE = 0.5;
const PREVALENCE_POINTS = 15;

/** For an internal `src` going out to `dst`: +15 when few internal hosts reach `dst`, −15 when most do; else nothing. */
export function prevalence(src: string, dst: string, now: number, around: Surroundings): Modifier | null {
  if (!around.isInternal(src) || around.isInternal(dst)) return null;
  const sources = around.destinationSources(dst, now);
  const active = around.activeSources(now);
  if (sources === null || active === 0) return null;
  const share = sources / active;
  const reach = `reached by ${sources} of the ${active} internal hosts active in the last day (${(share * 100).toFixed(1)}%)`;
  if (share <= RARE_SHARE) return { name: 'rare destination', points: PREVALENCE_POINTS, reason: reach };
  if (share >= COMMON_SHARE) return { name: 'common destination', points: -PREVALENCE_POINTS, reason: reach };
  return null;
}

/** The rare-destination half of `prevalence` alone (for detectors where a common one says nothing). */
export function rareDestination(src: string, dst: string, now: number, around: Surroundings): Modifier | null {
  const modifier = prevalence(src, dst, now, around);
  return modifier !== null && modifier.points > 0 ? modifier : null;
}

// RITA's first-seen modifier: a pair first seen recently raises the score. Here "recently" is
// within a day before the finding began (what began with a new pair), and only once the context
// had seen the network for a day before the pair appeared: on its first day, every pair is new.
const RECENT = 86_400;

/** +15 when `src` first contacted `dst` no more than a day before the finding began (`firstTs`), a day or more into the context's history. */
export function firstSeen(src: string, dst: string, firstTs: number, around: Surroundings): Modifier | null {
  const seen = around.pairFirstSeen(src, dst);
  const history = around.historyStart();
  if (seen === null || history === null || seen - history < RECENT || firstTs - seen > RECENT) return null;
  return { name: 'new pair', points: 15, reason: `${src} first contacted ${dst} at ${clock(seen)}` };
}

/** Multicast and broadcast destinations never answer a connection, so their "unanswered" says nothing. */
export function isGroupAddress(address: string): boolean {
  if (address.includes(':')) return address.toLowerCase().startsWith('ff');
  const first = Number(address.split('.', 1)[0]);
  return (first >= 224 && first <= 239) || address === '255.255.255.255' || address.endsWith('.255');
}

/** Both ends on the monitored network: RITA leaves such pairs out of its beacon and long-connection analyses. */
export function bothInternal(src: string, dst: string, around: Surroundings): boolean {
  return around.isInternal(src) && around.isInternal(dst);
}
