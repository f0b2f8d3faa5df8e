import type { FindingEntity, StoredFinding } from '../../db/findings.js';
import type { Suppression, SuppressionMatch, SuppressionScope } from '../../db/suppressions.js';
import { entityMatcher } from './allow-list.js';

/**
 * The suppressions in force, as the findings lists, the reopening rule and (later) the outputs ask
 * of them: which one, if any, covers a finding. Read from the store each time a list is made or a
 * file's findings are written, so a new or revoked one takes effect without a restart.
 */
export class SuppressionSet {
  private readonly rules: readonly { suppression: Suppression; matches: (f: FindingEntity) => boolean }[];

  constructor(suppressions: readonly Suppression[]) {
    this.rules = suppressions.map((suppression) => ({
      suppression,
      matches: entityMatcher({
        type: suppression.type ?? undefined,
        src: suppression.src ?? undefined,
        dst: suppression.dst ?? undefined,
        port: suppression.port ?? undefined,
        proto: suppression.proto ?? undefined,
      }),
    }));
  }

  get size(): number {
    return this.rules.length;
  }

  /** The first suppression covering `finding` of `sensor`, or null. */
  covering(finding: FindingEntity, sensor: string): Suppression | null {
    return this.rules.find(({ suppression, matches }) => (suppression.sensor === null || suppression.sensor === sensor) && matches(finding))?.suppression ?? null;
  }
}

/**
 * What a suppression made from `finding` matches, by scope: `entity` its whole entity (each part as
 * it is, a part it lacks left open), `pair` its source and destination, `channel` those and its
 * port and proto, `src` or `dst` that end alone. By default for the same finding type on the same
 * sensor; `everyType` and `everySensor` widen it.
 */
export function suppressionFor(finding: StoredFinding, scope: SuppressionScope, options: { everyType: boolean; everySensor: boolean }): SuppressionMatch {
  const keep = {
    entity: { src: true, dst: true, port: true },
    pair: { src: true, dst: true, port: false },
    channel: { src: true, dst: true, port: true },
    src: { src: true, dst: false, port: false },
    dst: { src: false, dst: true, port: false },
  }[scope];
  const match: SuppressionMatch = {
    sensor: options.everySensor ? null : finding.sensor,
    type: options.everyType ? null : finding.type,
    scope,
    src: keep.src ? finding.src : null,
    dst: keep.dst ? finding.dst : null,
    port: keep.port ? finding.port : null,
    proto: keep.port ? finding.proto : null,
  };
  if (match.src === null && match.dst === null) {
    throw new Error(`finding ${finding.id} has no ${scope === 'src' ? 'source' : scope === 'dst' ? 'destination' : 'source or destination'} to suppress by (its entity is ${finding.src ?? '*'} → ${finding.dst ?? '*'}); choose another scope`);
  }
  return match;
}
