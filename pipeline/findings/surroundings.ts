import { BlockList, isIP } from 'node:net';
import type { ContextState } from '../context/context-state.js';
import type { Surroundings } from './around.js';

const DAY = 86_400;

/**
 * The detectors' view of the network beyond one file: the context state after it (or none), and
 * the internal hosts seen lately (`internalHosts`: host → its last file's end). Prevalence is a
 * share of the internal hosts, as RITA's; with none known (a sensor whose `internalNetworks` match
 * nothing) there is no prevalence to speak of, and its modifiers are left out.
 */
export function surroundingsOf(state: ContextState | null, isInternal: (address: string) => boolean, internalHosts: ReadonlyMap<string, number>): Surroundings {
  // Counting walks a table: once per hour of log time asked about, not per finding.
  const active = new Map<number, number>();
  const reached = new Map<string, number>();
  let historyStart: number | null | undefined;
  return {
    // RITA's prevalence: the internal hosts that contacted `dst` in the last day, each looked up in
    // the context's pair table (exact, where the damped counts of the context features are not).
    destinationSources(dst, now) {
      if (state === null) return null;
      const key = `${dst} ${Math.floor(now / 3600)}`;
      let count = reached.get(key);
      if (count === undefined) {
        count = 0;
        for (const [host, seen] of internalHosts) {
          if (seen < now - DAY) continue;
          const last = state.pairLastSeen(host, dst);
          if (last !== null && last >= now - DAY) count++;
        }
        reached.set(key, count);
      }
      return count;
    },
    activeSources(now) {
      const hour = Math.floor(now / 3600);
      let count = active.get(hour);
      if (count === undefined) {
        count = 0;
        for (const seen of internalHosts.values()) if (seen >= now - DAY) count++;
        active.set(hour, count);
      }
      return count;
    },
    pairFirstSeen: (src, dst) => state?.pairFirstSeen(src, dst) ?? null,
    historyStart() {
      if (state === null) return null;
      historyStart ??= state.earliestPairSeen();
      return historyStart;
    },
    isInternal,
  };
}

/** A test for membership of `cidrs` ("10.0.0.0/8", "fd00::/8"); a bad entry throws, naming it. */
export function networkTest(cidrs: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const parsed = parseCidr(cidr);
    if (parsed === null) throw new Error(`"${cidr}" is not a network: expected an address and a prefix length, such as "10.0.0.0/8" or "fd00::/8"`);
    list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return (address) => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/** An address and prefix length, or null when `cidr` is not one. */
export function parseCidr(cidr: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (match === null) return null;
  const version = isIP(match[1]!);
  const prefix = Number(match[2]);
  if (version === 0 || prefix > (version === 4 ? 32 : 128)) return null;
  return { address: match[1]!, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}
