import type { FindingEntity } from '../../db/findings.js';
import type { FindingType } from './registry.js';
import { networkTest, parseCidr } from './surroundings.js';

/**
 * One allow-list entry (config `findings.allow`): every field given must match, and at least one
 * besides the comment is given. `host` matches either end; `host`, `src` and `dst` take an address
 * or a network ("13.107.0.0/16").
 */
export interface AllowEntry {
  /** Why this traffic is harmless: shown beside what it hides. */
  comment: string;
  type?: FindingType;
  host?: string;
  src?: string;
  dst?: string;
  port?: number;
  proto?: 'tcp' | 'udp' | 'icmp';
}

/**
 * Noisy but harmless traffic the analyst has vouched for. Applied when findings are listed (so an
 * entry added later hides what is already stored, and removing it shows it again) and when they are
 * raised (so no new finding or track is made for it).
 */
export class AllowList {
  private readonly entries: readonly { entry: AllowEntry; matches: (f: FindingEntity) => boolean }[];

  constructor(entries: readonly AllowEntry[]) {
    this.entries = entries.map((entry) => ({ entry, matches: entityMatcher(entry) }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The first entry that allows `finding`, or null. */
  allowing(finding: FindingEntity): AllowEntry | null {
    return this.entries.find(({ matches }) => matches(finding))?.entry ?? null;
  }
}

/** Whether `value` is an address or a network an entry can hold. */
export function isAddressOrNetwork(value: string): boolean {
  return parseCidr(value) !== null || parseCidr(`${value}/${value.includes(':') ? 128 : 32}`) !== null;
}

/** What an allow entry or a suppression matches: each part given (`host` either end; addresses or networks). */
export type EntityPattern = Partial<Pick<AllowEntry, 'host' | 'src' | 'dst' | 'port'>> & { type?: string; proto?: string };

/** A test of a finding's entity against a pattern: every part given must match. */
export function entityMatcher(entry: EntityPattern): (f: FindingEntity) => boolean {
  const host = addressTest(entry.host);
  const src = addressTest(entry.src);
  const dst = addressTest(entry.dst);
  return (f) =>
    (entry.type === undefined || f.type === entry.type) &&
    (host === null || (f.src !== null && host(f.src)) || (f.dst !== null && host(f.dst))) &&
    (src === null || (f.src !== null && src(f.src))) &&
    (dst === null || (f.dst !== null && dst(f.dst))) &&
    (entry.port === undefined || f.port === entry.port) &&
    (entry.proto === undefined || f.proto === entry.proto);
}

function addressTest(value: string | undefined): ((address: string) => boolean) | null {
  if (value === undefined) return null;
  const network = value.includes('/') ? value : `${value}/${value.includes(':') ? 128 : 32}`;
  return networkTest([network]);
}
