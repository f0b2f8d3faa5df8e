import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { UidSlots } from '../pipeline/findings/uid-slots.js';

test('uid slots give back each pair’s uid as set, unset as null, a long one kept aside, across growth and a hand-over', () => {
  const slots = new UidSlots(2);
  const long = `C${'x'.repeat(4999)}`;
  slots.set(0, 'CHhAvVGS1DHFjwGM9');
  slots.set(1, null);
  slots.set(5, long);
  slots.set(6, 'C1');
  slots.set(7, 'C\u202eé');
  slots.set(0, 'Cnewer');
  assert.deepEqual([0, 1, 2, 5, 6, 7, 99].map((i) => slots.get(i)), ['Cnewer', null, null, long, 'C1', 'C\u202eé', null]);
  const { parts, buffers } = slots.handOver();
  assert.ok(buffers.every((buffer) => buffer instanceof ArrayBuffer));
  const taken = new UidSlots(0, structuredClone(parts, { transfer: buffers }));
  assert.deepEqual([0, 1, 5, 6].map((i) => taken.get(i)), ['Cnewer', null, long, 'C1']);
});
