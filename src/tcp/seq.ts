/**
 * TCP sequence numbers live in a 2^32 circle (RFC 9293 §3.4): compare them by
 * the signed 32-bit difference (RFC 1982), never with plain `<`. A Seq holds the
 * 32 bits as a signed integer (0xffffffff is -1): V8 keeps such a number in an
 * object's field unboxed, where an unsigned one above 2^31 costs a heap number.
 * Compare a Seq only with another Seq, never with a raw field value.
 */
export type Seq = number & { readonly __seq: unique symbol };

/** A raw 32-bit field value as a sequence number. */
export function seq(value: number): Seq {
  return (value | 0) as Seq;
}

/** a + n in sequence space. */
export function seqAdd(a: Seq, n: number): Seq {
  return ((a + n) | 0) as Seq;
}

/** Signed distance from b to a: positive when a is after b (valid while |a−b| < 2^31). */
export function seqDiff(a: Seq, b: Seq): number {
  return (a - b) | 0;
}

export function seqLt(a: Seq, b: Seq): boolean {
  return seqDiff(a, b) < 0;
}

export function seqLe(a: Seq, b: Seq): boolean {
  return seqDiff(a, b) <= 0;
}

export function seqGt(a: Seq, b: Seq): boolean {
  return seqDiff(a, b) > 0;
}

export function seqGe(a: Seq, b: Seq): boolean {
  return seqDiff(a, b) >= 0;
}
