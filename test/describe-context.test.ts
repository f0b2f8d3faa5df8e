import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONTEXT_FEATURE_NAMES } from '../pipeline/context/context-features.js';
import { describeContext } from '../pipeline/context/describe-context.js';

const subject = { origH: '10.1.0.105', respH: '192.0.2.66', respP: 443, proto: 'tcp' };

test('a context value is put in words naming its channel, pair, source or destination', () => {
  assert.equal(describeContext('channel.failed_share_1h', 1, subject), 'channel 10.1.0.105 → 192.0.2.66:443/tcp: 100% refused or unanswered (half-life 1 h)');
  assert.equal(describeContext('channel.conns_1h', 3110.4, subject), 'channel 10.1.0.105 → 192.0.2.66:443/tcp: 3,110 connections (half-life 1 h)');
  assert.equal(describeContext('channel.interval_mean', 17.46, subject), 'channel 10.1.0.105 → 192.0.2.66:443/tcp: one connection every 17 s on average');
  assert.equal(describeContext('pair.bytes_out_1h', 284_000_000, subject), '10.1.0.105 → 192.0.2.66: 284 MB sent (half-life 1 h)');
  assert.equal(describeContext('pair.newness', 1, subject), '10.1.0.105 → 192.0.2.66: first contact');
  assert.equal(describeContext('pair.newness', 0.25, subject), '10.1.0.105 → 192.0.2.66: first contact 2.0 h ago');
  assert.equal(describeContext('src.new_channels_1m', 212.3, subject), 'source 10.1.0.105: 212 destination:port channels used for the first time (half-life 1 min)');
  assert.equal(describeContext('dst.sources_1d', 4.2, subject), 'destination 192.0.2.66: 4.2 sources came to it (half-life 1 day)');
});

test('every context feature has words of its own, and a name that is not one has none', () => {
  for (const name of CONTEXT_FEATURE_NAMES) {
    const text = describeContext(name, 2, subject);
    assert.ok(text !== null && !text.includes(name), `${name}: ${text}`);
  }
  assert.equal(describeContext('orig_bytes', 2, subject), null);
});
