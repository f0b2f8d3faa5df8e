import type { Surroundings } from './around.js';

// Shared by the detectors: how numbers and times read in a summary, and which addresses they leave out.
// The modifiers several detectors share are modules of their own (modifiers/).

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
