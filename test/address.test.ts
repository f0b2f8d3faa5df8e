import * as assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { test } from 'node:test';
import { isAddress, isAddressAt } from '../pipeline/read/address.js';
import { transportProto, transportProtoAt } from '../pipeline/read/transport-proto.js';

test('the address check agrees with net.isIP on every text form, except that it refuses a zone', () => {
  const forms = [
    '0.0.0.0', '255.255.255.255', '192.0.2.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '1..2.3', '256.1.1.1', '1.2.3.4.', '.1.2.3.4',
    '::', '::1', '1::', '::ffff:1.2.3.4', '::ffff:01.2.3.4', '::1.2.3.4', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4',
    '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::', '::1:2:3:4:5:6:7', '1::2:3:4:5:6:7:8', '1:::2', ':1::', '1::2::3',
    ':', ':::', '1:2', 'FE80::A', 'fe80::1cf4:44d2:904a:14f7', '0000::1', '00000::1', 'g::1', '[::1]', ' 1.2.3.4', '1.2.3.4 ',
    'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255', '1:2:3:4:5:6:7:8:', ':1:2:3:4:5:6:7:8', '::ffff:1.2.3', '1.2.3.4::', '',
  ];
  // Random strings over the characters addresses are made of, so the odd corners are reached too.
  const alphabet = '0123456789abcdefABCDEF:.:.:.0';
  let x = 20240419;
  const next = (n: number): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  for (let i = 0; i < 200_000; i++) {
    const length = next(20);
    let text = '';
    for (let k = 0; k < length; k++) text += alphabet[next(alphabet.length)];
    forms.push(text);
  }
  let addresses = 0;
  for (const form of forms) {
    const expected = isIP(form) !== 0;
    if (expected) addresses++;
    assert.equal(isAddress(form), expected, JSON.stringify(form));
  }
  assert.ok(addresses > 1000, `only ${addresses} of the random strings are addresses: the comparison proves little`);
  assert.equal(isIP('fe80::1%eth0'), 6);
  assert.equal(isAddress('fe80::1%eth0'), false);
});

test('the address check reads only between its offsets, as the TSV reader gives them, and refuses what is not ASCII', () => {
  const at = (text: string, start: number, end: number): boolean => isAddressAt(Buffer.from(text, 'latin1'), start, end);
  assert.equal(at('x\t192.0.2.1\ty', 2, 11), true);
  assert.equal(at('1.2.3.45', 0, 7), true);
  assert.equal(at('::1', 0, 1), false);
  assert.equal(at(':::', 0, 2), true);
  assert.equal(at('a\t1:\t:2', 2, 4), false);
  assert.equal(at('2001:db8::1\t', 0, 12), false);
  // U+0131 would be '1' if its code were cut to a byte.
  assert.equal(isAddress('\u0131.2.3.4'), false);
  assert.equal(isAddress('１.2.3.4'), false);
});

test('proto is one of the transport_proto names, spelled as Zeek spells them', () => {
  for (const name of ['tcp', 'udp', 'icmp', 'unknown_transport']) {
    assert.equal(transportProto(name), name);
    assert.equal(transportProtoAt(Buffer.from(`x\t${name}\ty`), 2, 2 + name.length), name);
  }
  for (const other of ['TCP', 'Udp', 'icmp6', 'tcp ', '', 'sctp', 'unknown', '-', 'tcx']) {
    assert.equal(transportProto(other), null, other);
    assert.equal(transportProtoAt(Buffer.from(other), 0, Buffer.byteLength(other)), null, other);
  }
});
