import type { TcpSegment } from '../decode/tcp-segment.js';

/** Words per key: 4 address words per side, the two ports, the IP version. */
export const KEY_WORDS = 10;
const EMPTY = -1;
const MAX_LOAD = 0.5;

/**
 * Open-addressing hash table from a connection's 4-tuple to a small integer
 * handle, with the keys in one typed array: no strings and no objects per packet.
 * The key is direction-free (the lower address:port goes first); `lookup` tells
 * the direction through `forward`.
 */
export class FlowTable {
  private keys: Uint32Array;
  private values: Int32Array;
  private mask: number;
  private used = 0;
  /** After lookup or insert: true when the segment goes from the key's first endpoint to its second. */
  forward = true;
  private readonly probe = new Uint32Array(KEY_WORDS);

  constructor(initialCapacity = 1 << 16) {
    let capacity = 1;
    while (capacity < initialCapacity) capacity <<= 1;
    this.keys = new Uint32Array(capacity * KEY_WORDS);
    this.values = new Int32Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.used;
  }

  /** The handle stored for the segment's connection, or -1. Remembers the segment's key for `insertLast`. */
  lookup(segment: TcpSegment): number {
    this.fillProbe(segment);
    const slot = this.find(this.probe, 0);
    return slot < 0 ? EMPTY : this.values[slot];
  }

  /** Copies the key of the last looked-up segment into `into` at `at` (KEY_WORDS words): keys kept in one pool, not one array each. */
  copyLastKey(into: Uint32Array, at: number): void {
    into.set(this.probe, at);
  }

  /** Stores `value` under the key of the last looked-up segment (which must not be present). */
  insertLast(value: number): void {
    if ((this.used + 1) / (this.mask + 1) > MAX_LOAD) this.grow();
    let slot = hashWords(this.probe, 0) & this.mask;
    while (this.values[slot] !== EMPTY) slot = (slot + 1) & this.mask;
    this.keys.set(this.probe, slot * KEY_WORDS);
    this.values[slot] = value;
    this.used++;
  }

  /** Removes the key at `at` in `key`, keeping every other key reachable (backward-shift deletion). */
  remove(key: Uint32Array, at = 0): void {
    let slot = this.find(key, at);
    if (slot < 0) return;
    const mask = this.mask;
    const keys = this.keys;
    for (;;) {
      this.values[slot] = EMPTY;
      let next = (slot + 1) & mask;
      for (;;) {
        if (this.values[next] === EMPTY) {
          this.used--;
          return;
        }
        const home = this.hashAt(next) & mask;
        // Move `next` back into the hole unless its home lies cyclically in (slot, next].
        const between = slot <= next ? home > slot && home <= next : home > slot || home <= next;
        if (!between) break;
        next = (next + 1) & mask;
      }
      keys.copyWithin(slot * KEY_WORDS, next * KEY_WORDS, next * KEY_WORDS + KEY_WORDS);
      this.values[slot] = this.values[next];
      slot = next;
    }
  }

  private find(key: Uint32Array, at = 0): number {
    const keys = this.keys;
    const mask = this.mask;
    let slot = hashWords(key, at) & mask;
    for (;;) {
      if (this.values[slot] === EMPTY) return -1;
      const base = slot * KEY_WORDS;
      let same = true;
      for (let i = 0; i < KEY_WORDS; i++) {
        if (keys[base + i] !== key[at + i]) {
          same = false;
          break;
        }
      }
      if (same) return slot;
      slot = (slot + 1) & mask;
    }
  }

  /** Writes the direction-free key of the segment into `probe` and sets `forward`. */
  private fillProbe(s: TcpSegment): void {
    const p = this.probe;
    const forward =
      s.src0 !== s.dst0 ? s.src0 < s.dst0 : s.src1 !== s.dst1 ? s.src1 < s.dst1 : s.src2 !== s.dst2 ? s.src2 < s.dst2 : s.src3 !== s.dst3 ? s.src3 < s.dst3 : s.srcPort <= s.dstPort;
    this.forward = forward;
    if (forward) {
      p[0] = s.src0; p[1] = s.src1; p[2] = s.src2; p[3] = s.src3;
      p[4] = s.dst0; p[5] = s.dst1; p[6] = s.dst2; p[7] = s.dst3;
      p[8] = ((s.srcPort << 16) | s.dstPort) >>> 0;
    } else {
      p[0] = s.dst0; p[1] = s.dst1; p[2] = s.dst2; p[3] = s.dst3;
      p[4] = s.src0; p[5] = s.src1; p[6] = s.src2; p[7] = s.src3;
      p[8] = ((s.dstPort << 16) | s.srcPort) >>> 0;
    }
    p[9] = s.ipVersion;
  }

  private hashAt(slot: number): number {
    return hashWords(this.keys, slot * KEY_WORDS);
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const capacity = (this.mask + 1) * 2;
    this.keys = new Uint32Array(capacity * KEY_WORDS);
    this.values = new Int32Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
    for (let i = 0; i < oldValues.length; i++) {
      if (oldValues[i] === EMPTY) continue;
      let slot = hashWords(oldKeys, i * KEY_WORDS) & this.mask;
      while (this.values[slot] !== EMPTY) slot = (slot + 1) & this.mask;
      this.keys.set(oldKeys.subarray(i * KEY_WORDS, i * KEY_WORDS + KEY_WORDS), slot * KEY_WORDS);
      this.values[slot] = oldValues[i];
    }
  }
}

/** FNV-1a-style mixing of the ten key words, with a final avalanche. */
function hashWords(words: Uint32Array, base: number): number {
  let h = 0x811c9dc5;
  for (let i = base; i < base + KEY_WORDS; i++) h = Math.imul(h ^ words[i], 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}
