import type { TcpSegment } from '../decode/tcp-segment.js';
import { grownCapacity } from './column-capacity.js';

/** Words per key: 4 address words per side, the two ports, the IP version, the tunnel (0: none). */
export const KEY_WORDS = 11;
const EMPTY = -1;
const MAX_LOAD = 0.5;

/**
 * Open-addressing hash table from a connection's 4-tuple to a small integer
 * handle (the tracker's slot): no strings and no objects per packet. Buckets hold
 * only the handle and the key's hash; the keys themselves sit in one pool indexed
 * by handle, where the tracker also reads them back: less than half the memory of
 * keys in the buckets (twice as many buckets as keys) plus a second copy for the
 * tracker (docs/design-choices.md). The key is direction-free (the lower
 * address:port goes first); `lookup` tells the direction through `forward`.
 */
export class FlowTable {
  /** KEY_WORDS words per handle. */
  keys: Uint32Array;
  /** Two words a bucket, side by side so that one cache miss reads both: the handle (EMPTY for none) and the key's hash. */
  private buckets: Int32Array;
  private mask: number;
  private used = 0;
  /** After lookup: true when the segment goes from the key's first endpoint to its second. */
  forward = true;
  private readonly probe = new Uint32Array(KEY_WORDS);
  private probeHash = 0;

  constructor(initialCapacity = 1 << 16) {
    let capacity = 1;
    while (capacity < initialCapacity) capacity <<= 1;
    this.buckets = new Int32Array(capacity * 2).fill(EMPTY);
    this.keys = new Uint32Array(capacity * KEY_WORDS);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.used;
  }

  /** The handle stored for the segment's connection, or -1. Remembers the segment's key for `insertLast`. */
  lookup(segment: TcpSegment): number {
    this.fillProbe(segment);
    const probe = this.probe;
    const keys = this.keys;
    const hash = (this.probeHash = hashWords(probe, 0));
    const buckets = this.buckets;
    const mask = this.mask;
    for (let bucket = hash & mask; ; bucket = (bucket + 1) & mask) {
      const handle = buckets[2 * bucket];
      if (handle === EMPTY) return EMPTY;
      if (buckets[2 * bucket + 1] !== hash) continue;
      const base = handle * KEY_WORDS;
      let same = true;
      for (let i = 0; i < KEY_WORDS; i++) {
        if (keys[base + i] !== probe[i]) {
          same = false;
          break;
        }
      }
      if (same) return handle;
    }
  }

  /** Stores `handle` under the key of the last looked-up segment (which must not be present); the key goes to the pool at `handle`. */
  insertLast(handle: number): void {
    if ((this.used + 1) / (this.mask + 1) > MAX_LOAD) this.grow();
    if ((handle + 1) * KEY_WORDS > this.keys.length) {
      const grown = new Uint32Array(grownCapacity(this.keys.length / KEY_WORDS, handle + 1) * KEY_WORDS);
      grown.set(this.keys);
      this.keys = grown;
    }
    this.keys.set(this.probe, handle * KEY_WORDS);
    this.place(handle, this.probeHash);
    this.used++;
  }

  /** Removes `handle`'s connection, keeping every other key reachable (backward-shift deletion). */
  remove(handle: number): void {
    const mask = this.mask;
    const buckets = this.buckets;
    let bucket = hashWords(this.keys, handle * KEY_WORDS) & mask;
    while (buckets[2 * bucket] !== handle) {
      if (buckets[2 * bucket] === EMPTY) return;
      bucket = (bucket + 1) & mask;
    }
    for (;;) {
      buckets[2 * bucket] = EMPTY;
      let next = (bucket + 1) & mask;
      for (;;) {
        if (buckets[2 * next] === EMPTY) {
          this.used--;
          return;
        }
        const home = buckets[2 * next + 1] & mask;
        // Move `next` back into the hole unless its home lies cyclically in (bucket, next].
        const between = bucket <= next ? home > bucket && home <= next : home > bucket || home <= next;
        if (!between) break;
        next = (next + 1) & mask;
      }
      buckets[2 * bucket] = buckets[2 * next];
      buckets[2 * bucket + 1] = buckets[2 * next + 1];
      bucket = next;
    }
  }

  private place(handle: number, hash: number): void {
    let bucket = hash & this.mask;
    while (this.buckets[2 * bucket] !== EMPTY) bucket = (bucket + 1) & this.mask;
    this.buckets[2 * bucket] = handle;
    this.buckets[2 * bucket + 1] = hash;
  }

  /** Writes the direction-free key of the segment into `probe` and sets `forward`. */
  private fillProbe(s: TcpSegment): void {
    const p = this.probe;
    const forward =
      s.src0 !== s.dst0
        ? s.src0 < s.dst0
        : s.src1 !== s.dst1
          ? s.src1 < s.dst1
          : s.src2 !== s.dst2
            ? s.src2 < s.dst2
            : s.src3 !== s.dst3
              ? s.src3 < s.dst3
              : s.srcPort <= s.dstPort;
    this.forward = forward;
    if (forward) {
      p[0] = s.src0;
      p[1] = s.src1;
      p[2] = s.src2;
      p[3] = s.src3;
      p[4] = s.dst0;
      p[5] = s.dst1;
      p[6] = s.dst2;
      p[7] = s.dst3;
      p[8] = ((s.srcPort << 16) | s.dstPort) >>> 0;
    } else {
      p[0] = s.dst0;
      p[1] = s.dst1;
      p[2] = s.dst2;
      p[3] = s.dst3;
      p[4] = s.src0;
      p[5] = s.src1;
      p[6] = s.src2;
      p[7] = s.src3;
      p[8] = ((s.dstPort << 16) | s.srcPort) >>> 0;
    }
    p[9] = s.ipVersion;
    // The same inner 4-tuple in two tunnels is two connections.
    p[10] = s.tunnel === null ? 0 : s.tunnel.index;
  }

  private grow(): void {
    const old = this.buckets;
    const capacity = (this.mask + 1) * 2;
    this.buckets = new Int32Array(capacity * 2).fill(EMPTY);
    this.mask = capacity - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== EMPTY) this.place(old[i], old[i + 1]);
    }
  }
}

/** FNV-1a-style mixing of the key words, with a final avalanche; signed, as the buckets store it. */
function hashWords(words: Uint32Array, base: number): number {
  let h = 0x811c9dc5;
  for (let i = base; i < base + KEY_WORDS; i++) h = Math.imul(h ^ words[i], 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}
