/**
 * The context features: what each connection's source, destination, host pair and channel
 * (source → destination:port) had been doing when it arrived, itself included. Counts and byte
 * sums are exponentially damped: each connection adds 1 (or its bytes) and every value halves
 * once per half-life of log time without new connections, so a value at half-life 1 h weighs the
 * last hour fully, the hour before it half, and so on. Shares are failed over all, both damped alike.
 *
 * The names are stored with a model (its context scaler lists them), so never rename one: add.
 */

export type ContextEntity = 'source' | 'destination' | 'pair' | 'channel';

/** How a raw value is made ready for scaling: counts, bytes and times span orders of magnitude. */
export type ContextTransform = 'log1p' | 'linear';

export interface ContextFeature {
  name: string;
  entity: ContextEntity;
  transform: ContextTransform;
  /** What the value is, for explanations and docs ("connections, half-life 1 min"). */
  description: string;
}

const feature = (name: string, entity: ContextEntity, transform: ContextTransform, description: string): ContextFeature => ({ name, entity, transform, description });

/** In output order: `ContextState.observe` writes exactly these, in this order. */
export const CONTEXT_FEATURES: readonly ContextFeature[] = [
  feature('src.conns_10s', 'source', 'log1p', 'connections from the source (half-life 10 s)'),
  feature('src.conns_1m', 'source', 'log1p', 'connections from the source (half-life 1 min)'),
  feature('src.conns_10m', 'source', 'log1p', 'connections from the source (half-life 10 min)'),
  feature('src.conns_1h', 'source', 'log1p', 'connections from the source (half-life 1 h)'),
  feature('src.failed_share_1m', 'source', 'linear', "share of the source's connections refused or unanswered (half-life 1 min)"),
  feature('src.failed_share_1h', 'source', 'linear', "share of the source's connections refused or unanswered (half-life 1 h)"),
  feature('src.new_channels_1m', 'source', 'log1p', 'destination:port channels the source used for the first time (half-life 1 min)'),
  feature('src.new_channels_10m', 'source', 'log1p', 'destination:port channels the source used for the first time (half-life 10 min)'),
  feature('src.new_channels_1h', 'source', 'log1p', 'destination:port channels the source used for the first time (half-life 1 h)'),
  feature('src.new_peers_1h', 'source', 'log1p', 'destinations the source contacted for the first time (half-life 1 h)'),
  feature('src.bytes_out_1h', 'source', 'log1p', 'bytes the source sent (half-life 1 h)'),
  feature('src.bytes_in_1h', 'source', 'log1p', 'bytes the source received (half-life 1 h)'),
  feature('dst.conns_10s', 'destination', 'log1p', 'connections to the destination (half-life 10 s)'),
  feature('dst.conns_1m', 'destination', 'log1p', 'connections to the destination (half-life 1 min)'),
  feature('dst.failed_share_10s', 'destination', 'linear', 'share of connections to the destination refused or unanswered (half-life 10 s)'),
  feature('dst.failed_share_1m', 'destination', 'linear', 'share of connections to the destination refused or unanswered (half-life 1 min)'),
  feature('dst.new_sources_1m', 'destination', 'log1p', 'sources that contacted the destination for the first time (half-life 1 min)'),
  feature('dst.new_sources_1h', 'destination', 'log1p', 'sources that contacted the destination for the first time (half-life 1 h)'),
  feature('dst.sources_1d', 'destination', 'log1p', 'sources that contacted the destination for the first time, or after an hour or more without (half-life 1 day): its prevalence'),
  feature('pair.conns_1h', 'pair', 'log1p', 'connections from the source to the destination (half-life 1 h)'),
  feature('pair.bytes_out_1h', 'pair', 'log1p', 'bytes the source sent the destination (half-life 1 h)'),
  feature('pair.bytes_in_1h', 'pair', 'log1p', 'bytes the destination sent the source (half-life 1 h)'),
  feature('pair.newness', 'pair', 'linear', 'how recently the source first contacted the destination: 1 for a first contact, halving with every hour since'),
  feature('channel.conns_1m', 'channel', 'log1p', 'connections on the channel (half-life 1 min)'),
  feature('channel.conns_1h', 'channel', 'log1p', 'connections on the channel (half-life 1 h)'),
  feature('channel.failed_share_1h', 'channel', 'linear', "share of the channel's connections refused or unanswered (half-life 1 h)"),
  feature('channel.interval_mean', 'channel', 'log1p', 'mean seconds between connections on the channel (half-life 1 h)'),
  feature('channel.interval_cv', 'channel', 'linear', 'variability of the time between connections on the channel: standard deviation over mean, 0 for a metronome (drawn towards 1 while there are few intervals)'),
  feature('channel.size_cv', 'channel', 'linear', 'variability of the bytes sent on the channel: standard deviation over mean, 0 for the same size every time (drawn towards 1 while there are few connections)'),
];

export const CONTEXT_WIDTH = CONTEXT_FEATURES.length;
export const CONTEXT_FEATURE_NAMES: readonly string[] = CONTEXT_FEATURES.map((f) => f.name);

/**
 * Connection states that mean the connection was refused or never answered: Zeek's `S0` (no
 * reply), `REJ` (rejected), `RSTOS0` and `RSTRH` (reset before a handshake), `SH` and `SHR`
 * (half-open, then closed), `OTH` (no handshake seen). A refused port, a dead host, a scan or a
 * flood shows up as these; an established connection that ends with a reset (`RSTO`, `RSTR`) does not.
 */
export const FAILED_STATES: ReadonlySet<string> = new Set(['S0', 'REJ', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH']);
