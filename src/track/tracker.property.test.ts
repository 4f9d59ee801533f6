// Random segment streams, both directions, random flags, sequence and ACK
// numbers (mostly near what each side has sent, so that real paths are taken,
// sometimes anywhere in the 32-bit space), gaps of time and timers. Whatever
// arrives, the tracker must not throw, must keep every endpoint in one of the
// eleven states or UNKNOWN, must record each endpoint's transitions as a chain
// (each from-state is the previous to-state) and must never record time going
// backwards for an endpoint.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { Connection, type Side } from '../../test/helpers/tracker-harness.js';
import { TcpFlag } from '../decode/tcp-segment.js';
import { ALL_STATES } from '../tcp/tcp-state.js';

const FLAG_NAMES = Object.keys(TcpFlag).filter((name) => name !== 'NS');

const segmentArbitrary = fc.record({
  side: fc.constantFrom<Side>('client', 'server'),
  flags: fc.subarray(FLAG_NAMES, { minLength: 1 }),
  len: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1460 })),
  // Near the side's next sequence number (a resend, the next byte, a jump), or anywhere.
  seqOffset: fc.oneof(fc.constant(0), fc.integer({ min: -3000, max: 3000 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
  ackOffset: fc.oneof(fc.constant(0), fc.integer({ min: -3000, max: 3000 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
  window: fc.oneof(fc.constant(65535), fc.constant(0), fc.integer({ min: 0, max: 65535 })),
  after: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 2, noNaN: true }), fc.constant(61)),
});

test('random segment streams never throw, keep states known, and record each endpoint as a chain in time order', () => {
  fc.assert(
    fc.property(fc.array(segmentArbitrary, { minLength: 1, maxLength: 40 }), fc.boolean(), (segments, waitAtEnd) => {
      const c = new Connection({ timeWaitSeconds: 60, closedLingerSeconds: 5 });
      for (const s of segments) {
        const peer: Side = s.side === 'client' ? 'server' : 'client';
        c.send(s.side, s.flags.join(' '), {
          len: s.len,
          seq: (c.nextSeq(s.side) + s.seqOffset) >>> 0,
          ack: (c.nextSeq(peer) + s.ackOffset) >>> 0,
          window: s.window,
          after: s.after,
        });
        expect(ALL_STATES).toContain(c.state('client'));
        expect(ALL_STATES).toContain(c.state('server'));
      }
      if (waitAtEnd) c.wait(120);
      const output = c.finish();
      const last = new Map<string, { to: string; ns: bigint }>();
      for (const t of output.transitions) {
        expect(ALL_STATES).toContain(t.toState);
        const key = `${t.flowId} ${t.endpoint}`;
        const previous = last.get(key);
        if (previous !== undefined) {
          expect(t.fromState, key).toBe(previous.to);
          expect(t.tsNs >= previous.ns, `${key}: ${t.tsNs} after ${previous.ns}`).toBe(true);
        } else expect(['CLOSED', 'UNKNOWN']).toContain(t.fromState);
        last.set(key, { to: t.toState, ns: t.tsNs });
      }
      for (const flow of output.flows) {
        for (const side of ['client', 'server'] as const) {
          expect(ALL_STATES).toContain(flow[side].state);
          const chain = last.get(`${flow.id} ${side}`);
          if (chain !== undefined) expect(flow[side].state, `flow ${flow.id} ${side}`).toBe(chain.to);
        }
      }
    }),
    { numRuns: 400 },
  );
});
