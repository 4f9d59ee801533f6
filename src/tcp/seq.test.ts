import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { type Seq, seq, seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './seq.js';

const TWO_POW_31 = 2 ** 31;
const TWO_POW_32 = 2 ** 32;
const RUNS = { numRuns: 2000, seed: 0x5e9 };

/** Any raw 32-bit field value, with the values around the wrap and the half-circle much more likely. */
const anySeq = fc
  .oneof(
    fc.nat({ max: 0xffffffff }),
    fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff),
    fc.integer({ min: 0xffffff00, max: 0xffffffff }),
    fc.integer({ min: 0, max: 0xff }),
  )
  .map(seq);

/** A forward distance that keeps two sequence numbers comparable (|a − b| < 2^31). */
const distance = fc.integer({ min: -(TWO_POW_31 - 1), max: TWO_POW_31 - 1 });

describe('seq', () => {
  test('keeps a raw field as its 32 bits read as a signed integer; >>> 0 gives the field value back', () => {
    expect(seq(0xffffffff)).toBe(-1);
    expect(seq(-1)).toBe(-1);
    expect(seq(TWO_POW_32)).toBe(0);
    expect(seq(TWO_POW_32 + 5)).toBe(5);
    expect(seq(0xffffffff) >>> 0).toBe(0xffffffff);
    expect(seq(0x80000000) >>> 0).toBe(0x80000000);
  });

  test('always yields a signed 32-bit integer (unboxed in V8), whose field value round-trips', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), (n) => {
        const s = seq(n);
        return Number.isInteger(s) && s >= -TWO_POW_31 && s < TWO_POW_31 && s >>> 0 === ((n % TWO_POW_32) + TWO_POW_32) % TWO_POW_32;
      }),
      RUNS,
    );
  });
});

describe('seqAdd', () => {
  test('wraps past 0xffffffff to 0', () => {
    expect(seqAdd(seq(0xffffffff), 1)).toBe(0);
    expect(seqAdd(seq(0xfffffff0), 0x20)).toBe(0x10);
  });

  test('wraps backwards below 0 for a negative step', () => {
    expect(seqAdd(seq(0), -1)).toBe(seq(0xffffffff));
  });

  test('stays a signed 32-bit integer for any step', () => {
    fc.assert(
      fc.property(anySeq, fc.integer({ min: -(2 ** 33), max: 2 ** 33 }), (a, n) => {
        const s = seqAdd(a, n);
        return Number.isInteger(s) && s >= -TWO_POW_31 && s < TWO_POW_31;
      }),
      RUNS,
    );
  });

  test('is associative modulo 2^32', () => {
    fc.assert(
      fc.property(
        anySeq,
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffffffff }),
        (a, m, n) => seqAdd(seqAdd(a, m), n) === seqAdd(a, m + n),
      ),
      RUNS,
    );
  });

  test('adding 2^32 is the identity', () => {
    fc.assert(
      fc.property(anySeq, (a) => seqAdd(a, TWO_POW_32) === a),
      RUNS,
    );
  });
});

describe('seqDiff', () => {
  test('seqAdd then seqDiff round-trips any distance below 2^31, across the wrap', () => {
    fc.assert(
      fc.property(anySeq, distance, (a, n) => {
        expect(seqDiff(seqAdd(a, n), a)).toBe(n);
      }),
      RUNS,
    );
  });

  test('adding the difference gives back the other number', () => {
    fc.assert(
      fc.property(anySeq, anySeq, (a, b) => seqAdd(b, seqDiff(a, b)) === a),
      RUNS,
    );
  });

  test('is antisymmetric: diff(a, b) = −diff(b, a) except at exactly 2^31 apart', () => {
    fc.assert(
      fc.property(anySeq, distance, (a, n) => {
        const b = seqAdd(a, n);
        expect(seqDiff(a, b) + seqDiff(b, a)).toBe(0);
      }),
      RUNS,
    );
  });

  test('measures the short way round the circle', () => {
    expect(seqDiff(seq(0), seq(0xffffffff))).toBe(1);
    expect(seqDiff(seq(0xffffffff), seq(0))).toBe(-1);
    expect(seqDiff(seq(5), seq(0xfffffffb))).toBe(10);
    expect(seqDiff(seq(0x7fffffff), seq(0))).toBe(0x7fffffff);
  });

  test('at exactly 2^31 apart the distance is −2^31 both ways (the comparison is undefined there, RFC 1982)', () => {
    expect(seqDiff(seq(0x80000000), seq(0))).toBe(-TWO_POW_31);
    expect(seqDiff(seq(0), seq(0x80000000))).toBe(-TWO_POW_31);
  });

  test('is zero only for equal numbers', () => {
    fc.assert(
      fc.property(anySeq, anySeq, (a, b) => (seqDiff(a, b) === 0) === (a === b)),
      RUNS,
    );
  });
});

describe('ordering', () => {
  test('a + 1 is after a, even at 0xffffffff', () => {
    const top = seq(0xffffffff);
    expect(seqGt(seqAdd(top, 1), top)).toBe(true);
    expect(seqLt(top, seqAdd(top, 1))).toBe(true);
    fc.assert(
      fc.property(anySeq, (a) => {
        const next = seqAdd(a, 1);
        return seqGt(next, a) && seqGe(next, a) && seqLt(a, next) && seqLe(a, next) && !seqLt(next, a);
      }),
      RUNS,
    );
  });

  test('plain < would get the wrap wrong; seqLt does not', () => {
    const before = seq(0xfffffff0);
    const after = seqAdd(before, 0x20); // 0x10
    const middle = seq(0x7ffffff0);
    expect(seqAdd(middle, 0x20) < middle).toBe(true); // the signed form wraps at 2^31 instead
    expect(after >>> 0 < before >>> 0).toBe(true);
    expect(seqLt(before, after)).toBe(true);
    expect(seqGt(after, before)).toBe(true);
  });

  test('is antisymmetric within 2^31: exactly one of a < b, a = b, a > b', () => {
    fc.assert(
      fc.property(anySeq, distance, (a, n) => {
        const b = seqAdd(a, n);
        const lt = seqLt(a, b);
        const gt = seqGt(a, b);
        const eq = a === b;
        expect(Number(lt) + Number(gt) + Number(eq)).toBe(1);
        expect(seqLt(a, b)).toBe(seqGt(b, a));
        expect(seqLe(a, b)).toBe(seqGe(b, a));
        expect(lt).toBe(n > 0);
      }),
      RUNS,
    );
  });

  test('Le and Ge are Lt and Gt or equal', () => {
    fc.assert(
      fc.property(anySeq, anySeq, (a, b) => {
        expect(seqLe(a, b)).toBe(seqLt(a, b) || a === b);
        expect(seqGe(a, b)).toBe(seqGt(a, b) || a === b);
      }),
      RUNS,
    );
  });

  test('is transitive for numbers inside one half of the circle', () => {
    fc.assert(
      fc.property(anySeq, fc.nat({ max: 2 ** 30 }), fc.nat({ max: 2 ** 30 }), (a, m, n) => {
        const b = seqAdd(a, m + 1);
        const c = seqAdd(b, n + 1);
        return seqLt(a, b) && seqLt(b, c) && seqLt(a, c);
      }),
      RUNS,
    );
  });

  test('is invariant under shifting both numbers by the same amount', () => {
    fc.assert(
      fc.property(anySeq, anySeq, fc.nat({ max: 0xffffffff }), (a, b, k) => {
        expect(seqLt(seqAdd(a, k), seqAdd(b, k))).toBe(seqLt(a, b));
        expect(seqDiff(seqAdd(a, k), seqAdd(b, k))).toBe(seqDiff(a, b));
      }),
      RUNS,
    );
  });

  test('a number is never before or after itself', () => {
    fc.assert(
      fc.property(anySeq, (a: Seq) => !seqLt(a, a) && !seqGt(a, a) && seqLe(a, a) && seqGe(a, a)),
      RUNS,
    );
  });
});
