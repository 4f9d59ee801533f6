// The reassembler under random fragment streams: overlapping, missing, duplicated
// and reordered pieces of several datagrams at once.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { FRAGMENT_MEMORY_LIMIT, IpReassembler } from './ip-reassembly.js';

/** A datagram's payload of `length` bytes, each byte telling its datagram and position. */
const payloadOf = (datagram: number, length: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (datagram * 31 + i) & 0xff));

/**
 * The longest payload a random piece reaches (from 70,000 plus 9,000 bytes), made once per
 * datagram: a piece is a view into it, where building its payload per piece took most of the run.
 */
const LONGEST = 79_000;
const payloads = [0, 1, 2, 3].map((datagram) => payloadOf(datagram, LONGEST));

const piece = fc.record({
  datagram: fc.nat({ max: 3 }),
  from: fc.nat({ max: 70_000 }),
  length: fc.nat({ max: 9_000 }),
  more: fc.boolean(),
  seconds: fc.nat({ max: 100 }),
});

describe('IP reassembly on random fragment streams', () => {
  test('never throws, stays under its memory bound, and what it puts back is the datagram itself', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 300 }), (pieces) => {
        const reassembler = new IpReassembler();
        let seconds = 0;
        for (const p of pieces) {
          seconds += p.seconds % 3;
          const whole = reassembler.add(
            `d${p.datagram}`,
            p.from,
            payloads[p.datagram].subarray(p.from, p.from + p.length),
            p.more,
            seconds,
          );
          expect(reassembler.bytesHeld).toBeLessThanOrEqual(FRAGMENT_MEMORY_LIMIT);
          // Bytes come from one consistent payload per datagram: a whole one must be that payload's start.
          if (whole !== undefined) expect(whole.equals(payloads[p.datagram].subarray(0, whole.length))).toBe(true);
        }
        reassembler.finish();
        expect(reassembler.bytesHeld).toBe(0);
        const s = reassembler.stats;
        expect(s.fragments).toBe(pieces.length);
      }),
      { numRuns: 300, seed: 1616 },
    );
  });

  // Two pieces at least: offset 0 without more-fragments is a whole datagram, never handed to the reassembler.
  test('every piece of a datagram, shuffled and with duplicates, puts it back exactly once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 40 }),
        fc.integer({ min: 8, max: 4000 }),
        fc.array(fc.nat(), { minLength: 60, maxLength: 60 }),
        (count, size, order) => {
          const length = count * 8 + (size % 8);
          const payload = payloadOf(1, length);
          const pieces = Array.from({ length: count }, (_, i) => ({ from: i * 8, to: i === count - 1 ? length : (i + 1) * 8 }));
          const shuffled = [...pieces, pieces[order[0] % count]].sort((a, b) => (order[a.from % 60] ?? 0) - (order[b.from % 60] ?? 0));
          const reassembler = new IpReassembler();
          const wholes = shuffled
            .map((p) => reassembler.add('one', p.from, payload.subarray(p.from, p.to), p.to !== length, 0))
            .filter((w) => w !== undefined);
          expect(wholes.length).toBe(1);
          expect(wholes[0]?.equals(payload)).toBe(true);
        },
      ),
      { numRuns: 200, seed: 44 },
    );
  });
});
