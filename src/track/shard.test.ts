import { expect, test } from 'vitest';
import fc from 'fast-check';
import { TcpSegment } from '../decode/tcp-segment.js';
import { parseShard, shardOf } from './shard.js';

function segment(src: number[], srcPort: number, dst: number[], dstPort: number): TcpSegment {
  const s = new TcpSegment();
  [s.src0, s.src1, s.src2, s.src3] = src;
  [s.dst0, s.dst1, s.dst2, s.dst3] = dst;
  s.srcPort = srcPort;
  s.dstPort = dstPort;
  return s;
}

const word = fc.integer({ min: 0, max: 0xffffffff });
const address = fc.tuple(word, word, word, word);
const port = fc.integer({ min: 0, max: 65535 });

test('both directions of a connection land in the same shard', () => {
  fc.assert(
    fc.property(address, port, address, port, fc.integer({ min: 1, max: 1024 }), (a, ap, b, bp, count) => {
      const there = shardOf(segment(a, ap, b, bp), count);
      expect(shardOf(segment(b, bp, a, ap), count)).toBe(there);
      expect(there).toBeGreaterThanOrEqual(0);
      expect(there).toBeLessThan(count);
    }),
  );
});

test('connections of one client to one server spread evenly over the shards', () => {
  // The hard case for a hash: everything equal but the client port.
  const counts = new Array<number>(4).fill(0);
  for (let p = 32768; p < 32768 + 40_000; p++) counts[shardOf(segment([0x7f000001, 0, 0, 0], p, [0x7f000002, 0, 0, 0], 8080), 4)]++;
  for (const n of counts) expect(Math.abs(n - 10_000)).toBeLessThan(400);
});

test('the hash is fixed: shards made by other versions and machines fit together', () => {
  expect([0, 1, 2, 3].map((k) => shardOf(segment([0x0a000001 + k, 0, 0, 0], 1234, [0x0a0000ff, 0, 0, 0], 80), 7))).toMatchInlineSnapshot(`
    [
      5,
      5,
      2,
      5,
    ]
  `);
});

test('--shard K/N', () => {
  expect(parseShard('0/1')).toEqual({ index: 0, count: 1 });
  expect(parseShard(' 3/4 ')).toEqual({ index: 3, count: 4 });
  for (const bad of ['4/4', '1', '0/0', '-1/2', 'a/b', '1/1025', '1/2/3']) expect(parseShard(bad), bad).toBeUndefined();
});
