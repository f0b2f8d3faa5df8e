import { CONTEXT_FEATURES, type ContextEntity } from './context-features.js';

/** The connection a context value belongs to, enough to name its source, destination, pair or channel. */
export interface ContextSubject {
  origH: string;
  respH: string;
  respP: number;
  proto: string;
}

/**
 * A context value in words an analyst reads, naming the host, pair or channel it is about:
 * "channel 10.1.0.131 → 198.51.100.23:80/tcp: 87 connections (half-life 1 h)". Null for a name
 * that is not a context feature.
 */
export function describeContext(feature: string, value: number, subject: ContextSubject): string | null {
  const spec = BY_NAME.get(feature);
  if (spec === undefined) return null;
  return `${entityName(spec.entity, subject)}: ${valueInWords(feature, value)}`;
}

const BY_NAME = new Map(CONTEXT_FEATURES.map((f) => [f.name, f]));

function entityName(entity: ContextEntity, s: ContextSubject): string {
  switch (entity) {
    case 'source':
      return `source ${s.origH}`;
    case 'destination':
      return `destination ${s.respH}`;
    case 'pair':
      return `${s.origH} → ${s.respH}`;
    case 'channel':
      return `channel ${s.origH} → ${s.respH}:${s.respP}/${s.proto}`;
  }
}

function valueInWords(feature: string, value: number): string {
  const halfLife = /_(10s|1m|10m|1h|1d)$/.exec(feature)?.[1];
  const over = halfLife === undefined ? '' : ` (half-life ${HALF_LIFE_WORDS[halfLife]})`;
  const name = feature.slice(feature.indexOf('.') + 1).replace(/_(10s|1m|10m|1h|1d)$/, '');
  switch (name) {
    case 'conns':
      return `${count(value)} connections${over}`;
    case 'failed_share':
      return `${percent(value)} refused or unanswered${over}`;
    case 'new_channels':
      return `${count(value)} destination:port channels used for the first time${over}`;
    case 'new_peers':
      return `${count(value)} destinations contacted for the first time${over}`;
    case 'new_sources':
      return `${count(value)} sources new to it${over}`;
    case 'sources':
      return `${count(value)} sources came to it${over}`;
    case 'bytes_out':
      return `${bytes(value)} sent${over}`;
    case 'bytes_in':
      return `${bytes(value)} received${over}`;
    case 'newness':
      return value >= 0.999 ? 'first contact' : `first contact ${hoursAgo(value)} ago`;
    case 'interval_mean':
      return value > 0 ? `one connection every ${seconds(value)} on average` : 'no interval measured yet';
    case 'interval_cv':
      return `interval variation ${value.toFixed(2)} (0 is a metronome, about 1 is ordinary)`;
    case 'size_cv':
      return `size variation ${value.toFixed(2)} (0 is the same bytes every time, about 1 is ordinary)`;
    default:
      return `${feature} ${value.toPrecision(3)}`;
  }
}

const HALF_LIFE_WORDS: Record<string, string> = { '10s': '10 s', '1m': '1 min', '10m': '10 min', '1h': '1 h', '1d': '1 day' };

// One formatter for all: toLocaleString builds a new one per call, which cost 30 µs a flagged row.
const WHOLE = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function count(value: number): string {
  return value >= 10 ? WHOLE.format(value) : value.toFixed(1);
}

function percent(value: number): string {
  return `${Math.round(value * 100)}%`;
}

function bytes(value: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = value;
  let unit = 0;
  while (v >= 1000 && unit < units.length - 1) {
    v /= 1000;
    unit++;
  }
  return `${v >= 100 || unit === 0 ? Math.round(v) : v.toFixed(1)} ${units[unit]}`;
}

function seconds(value: number): string {
  if (value < 120) return `${value.toFixed(value < 10 ? 1 : 0)} s`;
  if (value < 7200) return `${(value / 60).toFixed(1)} min`;
  return `${(value / 3600).toFixed(1)} h`;
}

/** Newness halves every hour since the first contact. */
function hoursAgo(newness: number): string {
  const hours = newness > 0 ? -Math.log2(newness) : Infinity;
  return Number.isFinite(hours) && hours < 48 ? (hours < 1 ? `${Math.round(hours * 60)} min` : `${hours.toFixed(1)} h`) : 'over 2 days';
}
