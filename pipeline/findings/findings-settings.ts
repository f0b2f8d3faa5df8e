import { z } from 'zod';
import { numberFrom, oneOf, wholeFrom } from '../settings/schema-words.js';
import { isAddressOrNetwork, type AllowEntry } from './allow-list.js';
import { DEFAULT_FILE_ACTIVITY_OPTIONS } from './file-activity.js';
import { MODIFIERS, type ModifierOptions } from './modifier-registry.js';
import { DETECTORS, FINDING_TYPES, type DetectorOptions } from './registry.js';
import { parseCidr } from './surroundings.js';

// The config's `findings` section, owned here: the keys every detector shares, then one section a
// detector and one a shared modifier, each made from its module's own schema and defaults.

/** Everything the findings stage can be told (config key `findings`). */
export type FindingsOptions = {
  /** CIDRs of the monitored network: exfiltration is from inside to outside. RITA's `internal_subnets`. */
  internalNetworks: string[];
  /** A detection on an entity within this many hours of its finding's last connection updates it; later, it is a new finding. */
  mergeGapHours: number;
  /** The most source → destination pairs followed in one file (each costs an object and an index entry, and each of its connections 21 bytes of columns). */
  maxPairs: number;
  /** The modifiers several detectors share, by key. */
  modifiers: ModifierOptions;
  /** Noisy but harmless traffic: matching findings are not raised, and not listed (see allow-list.ts). */
  allow: AllowEntry[];
} & DetectorOptions;

const cidr = z
  .string()
  .refine((value) => parseCidr(value) !== null, { error: 'is not a network' })
  .describe('a network as an address and a prefix length, such as "10.0.0.0/8" or "fd00::/8"');

const addressOrNetwork = z
  .string()
  .refine(isAddressOrNetwork, { error: 'is neither an address nor a network' })
  .describe('an address ("10.1.0.10") or a network ("13.107.0.0/16")');

/** An allow-list entry: a comment, and what to match (all of the fields given). */
const allowEntry = z
  .strictObject({
    comment: z.string().min(1).describe('a comment saying why this traffic is harmless'),
    type: oneOf(FINDING_TYPES).optional(),
    host: addressOrNetwork.optional(),
    src: addressOrNetwork.optional(),
    dst: addressOrNetwork.optional(),
    port: wholeFrom(0, 65_535).optional(),
    proto: oneOf(['tcp', 'udp', 'icmp']).optional(),
  })
  .refine((e) => Object.keys(e).some((key) => key !== 'comment'), { error: 'matches everything: give a type, host, src, dst, port or proto' })
  .describe('{ comment, and any of type, host, src, dst, port, proto }');

// Built from the registries at run time; typed as what it checks (the config walks it as the object it is).
export const FINDINGS_SCHEMA = z.strictObject({
  internalNetworks: z.array(cidr),
  mergeGapHours: numberFrom(0, 24 * 365),
  maxPairs: wholeFrom(1),
  ...Object.fromEntries(DETECTORS.map((d) => [d.key, d.options])),
  modifiers: z.strictObject(Object.fromEntries(MODIFIERS.map((m) => [m.key, m.options]))),
  allow: z.array(allowEntry),
}) as unknown as z.ZodType<FindingsOptions>;

export const DEFAULT_FINDINGS: Readonly<FindingsOptions> = {
  internalNetworks: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', 'fc00::/7', 'fe80::/10'],
  // A day and a half: a daily job (a backup, a check-in) with some jitter stays one finding.
  mergeGapHours: 36,
  maxPairs: DEFAULT_FILE_ACTIVITY_OPTIONS.maxPairs,
  ...(Object.fromEntries(DETECTORS.map((d) => [d.key, d.defaults])) as DetectorOptions),
  modifiers: Object.fromEntries(MODIFIERS.map((m) => [m.key, m.defaults])) as ModifierOptions,
  allow: [],
};
