import { z } from 'zod';
import { numberFrom, wholeFrom } from '../../settings/schema-words.js';
import { channelPort, channelProto, type FileActivity, type PairActivity } from '../file-activity.js';
import { type Candidate, defineDetector, type Detector, mergedTotals, numberIn, pairCandidate } from '../detector.js';
import { grade, reaches, THRESHOLDS_SCHEMA } from '../grade.js';
import { clock, count } from '../words.js';

const OPTIONS = z.strictObject({
  /** Distinct ports of one host (vertical) or hosts on one port (horizontal) in a file. */
  thresholds: THRESHOLDS_SCHEMA,
  /** Of which at least this many were refused or unanswered: clients use many ports of a server, and succeed. */
  minFailed: wholeFrom(0),
  /** And at least this share of them: a busy resolver or proxy reaches thousands of hosts, a few percent of them dead. */
  minFailedShare: numberFrom(0, 1),
});

export type PortScanOptions = z.infer<typeof OPTIONS>;

export const DEFAULT_PORT_SCAN: Readonly<PortScanOptions> = { thresholds: { min: 20, low: 40, medium: 200, high: 1000, critical: 10_000 }, minFailed: 8, minFailedShare: 0.25 };

/**
 * `port-scan`: one source trying many ports of one host (vertical; the entity is the pair) or one
 * port of many hosts (horizontal; the entity is the source and the port), many of them refused or
 * unanswered. Measured by the distinct ports or hosts in the busiest file (distinct counts do not
 * add across files); ICMP has no ports and is left out.
 */
function portScan(options: Readonly<PortScanOptions>): Detector {
  return {
    type: 'port-scan',
    detect(activity: FileActivity): Candidate[] {
      return [...vertical(activity, options), ...horizontal(activity, options)];
    },
    merge(earlier, fresh) {
      return mergedTotals(earlier, fresh, {
        ...fresh.evidence,
        targets: Math.max(numberIn(earlier.evidence, 'targets'), numberIn(fresh.evidence, 'targets')),
        failedTargets: Math.max(numberIn(earlier.evidence, 'failedTargets'), numberIn(fresh.evidence, 'failedTargets')),
        files: numberIn(earlier.evidence, 'files', 1) + 1,
      });
    },
    assess(candidate: Candidate) {
      const targets = numberIn(candidate.evidence, 'targets');
      if (!reaches(targets, options.thresholds)) return null;
      const failed = numberIn(candidate.evidence, 'failedTargets');
      const isVertical = candidate.evidence.direction === 'vertical';
      const what = isVertical
        ? `${count(targets)} ports of ${candidate.dst} (${count(failed)} refused or unanswered), e.g. ${(candidate.evidence.sample as number[]).join(', ')}`
        : `port ${candidate.port}/${candidate.proto} of ${count(targets)} hosts (${count(failed)} refused or unanswered)`;
      return {
        grade: grade(isVertical ? 'distinct ports of one host' : 'distinct hosts on one port', targets, options.thresholds),
        summary: `${isVertical ? 'vertical' : 'horizontal'} scan: ${candidate.src} tried ${what}, ${clock(candidate.firstTs)} to ${clock(candidate.lastTs)}`,
      };
    },
  };
}

function vertical(activity: FileActivity, options: Readonly<PortScanOptions>): Candidate[] {
  const found: Candidate[] = [];
  for (const pair of activity.pairs) {
    // A pair with fewer connections than the minimum cannot have used enough ports.
    if (pair.connections < options.thresholds.min || pair.failed < options.minFailed) continue;
    const ports = scannable(activity.channelsOf(pair));
    const failed = scannable(activity.channelsOf(pair, true));
    if (ports.length < options.thresholds.min || failed.length < Math.max(options.minFailed, options.minFailedShare * ports.length)) continue;
    const sample = ports.map(channelPort).sort((a, b) => a - b).slice(0, 10);
    found.push(pairCandidate('port-scan', activity, pair, { direction: 'vertical', targets: ports.length, failedTargets: failed.length, sample, files: 1 }));
  }
  return found;
}

function horizontal(activity: FileActivity, options: Readonly<PortScanOptions>): Candidate[] {
  // Sources and channels with enough refused hosts first (few), then every host each reached there.
  const failedHosts = new Map<string, { src: string; channel: number; pairs: PairActivity[] }>();
  for (const pair of activity.pairs) {
    if (pair.failed === 0) continue;
    for (const channel of scannable(activity.channelsOf(pair, true))) {
      const key = `${pair.src}|${channel}`;
      const entry = failedHosts.get(key) ?? { src: pair.src, channel, pairs: [] };
      entry.pairs.push(pair);
      failedHosts.set(key, entry);
    }
  }
  const suspects = [...failedHosts.values()].filter((entry) => entry.pairs.length >= options.minFailed);
  if (suspects.length === 0) return [];
  const suspectSources = new Set(suspects.map((s) => s.src));
  const bySource = new Map<string, PairActivity[]>();
  for (const pair of activity.pairs) {
    if (!suspectSources.has(pair.src)) continue;
    const list = bySource.get(pair.src) ?? [];
    list.push(pair);
    bySource.set(pair.src, list);
  }
  const found: Candidate[] = [];
  for (const { src, channel, pairs: failed } of suspects) {
    const reached = (bySource.get(src) ?? []).filter((pair) => activity.channelsOf(pair).has(channel));
    if (reached.length < options.thresholds.min || failed.length < options.minFailedShare * reached.length) continue;
    found.push({
      type: 'port-scan',
      src,
      dst: null,
      port: channelPort(channel),
      proto: channelProto(channel),
      firstTs: reached.reduce((first, pair) => Math.min(first, pair.firstTs), Infinity),
      lastTs: reached.reduce((last, pair) => Math.max(last, pair.lastTs), -Infinity),
      connections: reached.reduce((sum, pair) => sum + pair.connections, 0),
      bytesOut: reached.reduce((sum, pair) => sum + pair.bytesOut, 0),
      bytesIn: reached.reduce((sum, pair) => sum + pair.bytesIn, 0),
      evidence: { direction: 'horizontal', targets: reached.length, failedTargets: failed.length, files: 1 },
      // A pair's first and last connections may be on another port than the one scanned: none is sampled.
      uids: { first: null, last: null, top: null },
    });
  }
  return found;
}

/** The channels a scan can be made of: all but ICMP's. */
function scannable(channels: Set<number>): number[] {
  return [...channels].filter((c) => channelProto(c) !== 'icmp');
}

export const portScanDetector = defineDetector({
  type: 'port-scan',
  key: 'portScan',
  logs: ['conn'],
  about: 'one source trying many ports of one host (vertical) or one port of many hosts (horizontal), many of them refused or unanswered',
  options: OPTIONS,
  defaults: DEFAULT_PORT_SCAN,
  make: portScan,
});
