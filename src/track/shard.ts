import type { TcpSegment } from '../decode/tcp-segment.js';

/** Shard `index` of `count` (0-based): the connections whose 4-tuple hashes there. */
export interface Shard {
  index: number;
  count: number;
}

/** The most shards a run can be split into. */
export const MAX_SHARDS = 1024;

/** One endpoint's address words and port, mixed (FNV-1a). */
function endpointHash(w0: number, w1: number, w2: number, w3: number, port: number): number {
  let h = 0x811c9dc5;
  h = Math.imul(h ^ w0, 0x01000193);
  h = Math.imul(h ^ w1, 0x01000193);
  h = Math.imul(h ^ w2, 0x01000193);
  h = Math.imul(h ^ w3, 0x01000193);
  return Math.imul(h ^ port, 0x01000193);
}

/**
 * The shard of a segment's connection: the same for both directions (the two
 * endpoints' hashes are added, which does not care which is the source) and for
 * every instance of the 4-tuple, so each shard sees whole connections. The inner
 * 4-tuple alone decides: a tunnelled connection goes where its addresses say.
 * Stable across runs, versions and machines: the shards of one capture made
 * anywhere fit together.
 */
export function shardOf(s: TcpSegment, count: number): number {
  let h = (endpointHash(s.src0, s.src1, s.src2, s.src3, s.srcPort) + endpointHash(s.dst0, s.dst1, s.dst2, s.dst3, s.dstPort)) | 0;
  // murmur3's finaliser: every input bit reaches the low bits the modulo reads
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % count;
}

/** "K/N" (0 ≤ K < N ≤ MAX_SHARDS) as a Shard, or undefined when it is not one. */
export function parseShard(text: string): Shard | undefined {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) return undefined;
  const index = Number(match[1]);
  const count = Number(match[2]);
  return count >= 1 && count <= MAX_SHARDS && index < count ? { index, count } : undefined;
}
