import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { TcpSegment } from '../decode/tcp-segment.js';
import { FlowTable, KEY_WORDS } from './flow-table.js';

interface Endpoint {
  /** Four 32-bit words; IPv4 uses only the first. */
  words: readonly [number, number, number, number];
  port: number;
}

function v4(address: number, port: number): Endpoint {
  return { words: [address >>> 0, 0, 0, 0], port };
}

function v6(w0: number, w1: number, w2: number, w3: number, port: number): Endpoint {
  return { words: [w0 >>> 0, w1 >>> 0, w2 >>> 0, w3 >>> 0], port };
}

/** A segment from `src` to `dst`; the IP version follows from `version`. */
function segmentBetween(src: Endpoint, dst: Endpoint, version: 4 | 6 = 4): TcpSegment {
  const s = new TcpSegment();
  s.ipVersion = version;
  [s.src0, s.src1, s.src2, s.src3] = src.words;
  [s.dst0, s.dst1, s.dst2, s.dst3] = dst.words;
  s.srcPort = src.port;
  s.dstPort = dst.port;
  return s;
}

/** Looks the segment up and inserts `value` when absent; returns the handle found or stored. */
function findOrInsert(table: FlowTable, segment: TcpSegment, value: number): number {
  const found = table.lookup(segment);
  if (found >= 0) return found;
  table.insertLast(value);
  return value;
}

const CLIENT = v4(0xc0000201, 40000); // 192.0.2.1
const SERVER = v4(0xc6336402, 443); // 198.51.100.2

describe('FlowTable', () => {
  test('finds nothing in an empty table', () => {
    const table = new FlowTable(16);
    expect(table.lookup(segmentBetween(CLIENT, SERVER))).toBe(-1);
    expect(table.size).toBe(0);
  });

  test('finds the same handle from both directions of a 4-tuple, with `forward` telling them apart', () => {
    const table = new FlowTable(16);
    expect(table.lookup(segmentBetween(CLIENT, SERVER))).toBe(-1);
    table.insertLast(7);
    const insertedForward = table.forward;

    expect(table.lookup(segmentBetween(CLIENT, SERVER))).toBe(7);
    const clientToServer = table.forward;
    expect(table.lookup(segmentBetween(SERVER, CLIENT))).toBe(7);
    const serverToClient = table.forward;

    expect(clientToServer).not.toBe(serverToClient);
    expect(clientToServer).toBe(insertedForward);
    expect(table.size).toBe(1);
  });

  test('tells the directions apart by port when both ends share an address (loopback)', () => {
    const table = new FlowTable(16);
    const a = v4(0x7f000001, 5000);
    const b = v4(0x7f000001, 60000);
    table.lookup(segmentBetween(a, b));
    table.insertLast(3);
    expect(table.lookup(segmentBetween(a, b))).toBe(3);
    const ab = table.forward;
    expect(table.lookup(segmentBetween(b, a))).toBe(3);
    expect(table.forward).not.toBe(ab);
  });

  test('keeps connections that differ only in one port apart', () => {
    const table = new FlowTable(16);
    findOrInsert(table, segmentBetween(CLIENT, SERVER), 1);
    findOrInsert(table, segmentBetween({ ...CLIENT, port: CLIENT.port + 1 }, SERVER), 2);
    findOrInsert(table, segmentBetween(CLIENT, { ...SERVER, port: 80 }), 3);
    expect(table.lookup(segmentBetween(CLIENT, SERVER))).toBe(1);
    expect(table.lookup(segmentBetween(SERVER, { ...CLIENT, port: CLIENT.port + 1 }))).toBe(2);
    expect(table.lookup(segmentBetween({ ...SERVER, port: 80 }, CLIENT))).toBe(3);
    expect(table.size).toBe(3);
  });

  test('does not confuse swapped ports with the reverse direction', () => {
    const table = new FlowTable(16);
    const a = v4(0x0a000001, 1000);
    const b = v4(0x0a000002, 2000);
    findOrInsert(table, segmentBetween(a, b), 1);
    // Same addresses, ports exchanged between them: a different connection.
    expect(table.lookup(segmentBetween({ ...a, port: 2000 }, { ...b, port: 1000 }))).toBe(-1);
  });

  test('never lets an IPv4 key collide with the IPv6 key of the same words', () => {
    const table = new FlowTable(16);
    const s4 = segmentBetween(CLIENT, SERVER, 4);
    // The same words and ports, as an IPv6 segment (e.g. ::-prefixed addresses with zero tail words).
    const s6 = segmentBetween(v6(CLIENT.words[0], 0, 0, 0, CLIENT.port), v6(SERVER.words[0], 0, 0, 0, SERVER.port), 6);
    findOrInsert(table, s4, 1);
    expect(table.lookup(s6)).toBe(-1);
    table.insertLast(2);
    expect(table.lookup(s4)).toBe(1);
    expect(table.lookup(s6)).toBe(2);
    expect(table.size).toBe(2);
  });

  test('keeps IPv6 addresses that differ only in their last word apart', () => {
    const table = new FlowTable(16);
    const server = v6(0x20010db8, 0, 0, 1, 443);
    findOrInsert(table, segmentBetween(v6(0x20010db8, 0, 0, 2, 50000), server, 6), 1);
    findOrInsert(table, segmentBetween(v6(0x20010db8, 0, 0, 3, 50000), server, 6), 2);
    expect(table.lookup(segmentBetween(server, v6(0x20010db8, 0, 0, 2, 50000), 6))).toBe(1);
    expect(table.lookup(segmentBetween(server, v6(0x20010db8, 0, 0, 3, 50000), 6))).toBe(2);
  });

  test('handles addresses with the top bit set (above 2^31) in both directions', () => {
    const table = new FlowTable(16);
    const a = v4(0xfffffffe, 65535);
    const b = v4(0x80000000, 0);
    findOrInsert(table, segmentBetween(a, b), 9);
    expect(table.lookup(segmentBetween(b, a))).toBe(9);
    expect(table.lookup(segmentBetween(a, b))).toBe(9);
  });

  test('keeps every key through growth from a tiny table', () => {
    const table = new FlowTable(1);
    const count = 5000;
    for (let i = 0; i < count; i++) {
      expect(table.lookup(segmentBetween(v4(0x0a000000 + (i >> 8), 1024 + (i & 0xff)), SERVER))).toBe(-1);
      table.insertLast(i);
    }
    expect(table.size).toBe(count);
    for (let i = 0; i < count; i++) {
      expect(table.lookup(segmentBetween(SERVER, v4(0x0a000000 + (i >> 8), 1024 + (i & 0xff))))).toBe(i);
    }
  });

  test('removes a connection by its handle; the others stay', () => {
    const table = new FlowTable(16);
    table.lookup(segmentBetween(CLIENT, SERVER));
    table.insertLast(1);
    findOrInsert(table, segmentBetween(v4(0x0a000001, 1), SERVER), 2);
    table.remove(1);
    expect(table.lookup(segmentBetween(CLIENT, SERVER))).toBe(-1);
    expect(table.lookup(segmentBetween(SERVER, CLIENT))).toBe(-1);
    expect(table.lookup(segmentBetween(SERVER, v4(0x0a000001, 1)))).toBe(2);
    expect(table.size).toBe(1);
  });

  test('keeps each handle’s key in the pool, lower address first, whichever direction inserted it', () => {
    const table = new FlowTable(16);
    table.lookup(segmentBetween(SERVER, CLIENT));
    table.insertLast(3);
    const key = Array.from(table.keys.subarray(3 * KEY_WORDS, 4 * KEY_WORDS));
    expect(key).toEqual([CLIENT.words[0], 0, 0, 0, SERVER.words[0], 0, 0, 0, ((CLIENT.port << 16) | SERVER.port) >>> 0, 4, 0]);
    table.lookup(segmentBetween(v4(1, 2), v4(3, 4)));
    expect(Array.from(table.keys.subarray(3 * KEY_WORDS, 4 * KEY_WORDS))).toEqual(key);
  });

  test('the same 4-tuple through another tunnel is another key; through the same tunnel, the same', () => {
    const table = new FlowTable(16);
    const through = (index: number | null): TcpSegment => {
      const s = segmentBetween(CLIENT, SERVER);
      s.tunnel = index === null ? null : { index, kind: 'vxlan', endpoints: '192.0.2.1-192.0.2.2', id: index };
      return s;
    };
    expect(findOrInsert(table, through(null), 1)).toBe(1);
    expect(findOrInsert(table, through(1), 2)).toBe(2);
    expect(findOrInsert(table, through(2), 3)).toBe(3);
    expect(table.lookup(through(1))).toBe(2);
    expect(table.lookup(segmentBetween(SERVER, CLIENT))).toBe(1);
  });

  test('ignores the removal of a handle that is not there', () => {
    const table = new FlowTable(16);
    findOrInsert(table, segmentBetween(CLIENT, SERVER), 1);
    table.remove(5);
    expect(table.size).toBe(1);
    expect(table.lookup(segmentBetween(CLIENT, SERVER))).toBe(1);
  });

  test('can insert a key again after removing it', () => {
    const table = new FlowTable(4);
    table.lookup(segmentBetween(CLIENT, SERVER));
    table.insertLast(1);
    table.remove(1);
    expect(table.lookup(segmentBetween(CLIENT, SERVER))).toBe(-1);
    table.insertLast(2);
    expect(table.lookup(segmentBetween(SERVER, CLIENT))).toBe(2);
    expect(table.size).toBe(1);
  });
});

describe('FlowTable against a Map model', () => {
  // A small universe of connections, so that inserts, removes and lookups hit the
  // same keys often; small tables, so that probe chains collide and wrap around.
  const UNIVERSE = 48;
  const endpoints = (i: number): [Endpoint, Endpoint, 4 | 6] => {
    if (i % 3 === 0) return [v6(0x20010db8, 0, i, 1, 1000 + i), v6(0x20010db8, 0, 0, 2, 443), 6];
    return [v4(0x0a000000 + (i % 5), 2000 + i), v4(0x0a0000ff, i % 2 === 0 ? 80 : 443), 4];
  };
  const op = (universe: number) =>
    fc.record({
      kind: fc.constantFrom('insert', 'insert', 'remove', 'lookup'),
      connection: fc.nat({ max: universe - 1 }),
      reverse: fc.boolean(),
    });
  // A few live keys keep the table at 4 to 16 slots, where clusters straddle its end often.
  const scenario = fc.constantFrom(3, 6, 12, UNIVERSE).chain((universe) =>
    fc.record({
      universe: fc.constant(universe),
      ops: fc.array(op(universe), { maxLength: 200 }),
      capacity: fc.constantFrom(1, 2, 8, 64),
    }),
  );

  test('backward-shift deletion keeps every remaining key reachable, whatever the order of inserts and removes', () => {
    fc.assert(
      fc.property(scenario, ({ universe, ops, capacity }) => {
        const table = new FlowTable(capacity);
        const model = new Map<number, number>();
        let nextValue = 0;
        for (const { kind, connection, reverse } of ops) {
          const [a, b, version] = endpoints(connection);
          const s = reverse ? segmentBetween(b, a, version) : segmentBetween(a, b, version);
          const found = table.lookup(s);
          expect(found).toBe(model.get(connection) ?? -1);
          if (kind === 'insert' && found < 0) {
            table.insertLast(nextValue);
            model.set(connection, nextValue++);
          } else if (kind === 'remove' && found >= 0) {
            table.remove(found);
            model.delete(connection);
          }
          expect(table.size).toBe(model.size);
        }
        for (let c = 0; c < universe; c++) {
          const [a, b, version] = endpoints(c);
          expect(table.lookup(segmentBetween(a, b, version)), `connection ${c}`).toBe(model.get(c) ?? -1);
          expect(table.lookup(segmentBetween(b, a, version)), `connection ${c} reversed`).toBe(model.get(c) ?? -1);
        }
      }),
      { numRuns: 1000, seed: 20260521 },
    );
  });

  test('flips `forward` between a connection’s two directions', () => {
    fc.assert(
      fc.property(fc.nat({ max: UNIVERSE - 1 }), (connection) => {
        const table = new FlowTable(8);
        const [a, b, version] = endpoints(connection);
        table.lookup(segmentBetween(a, b, version));
        const ab = table.forward;
        table.lookup(segmentBetween(b, a, version));
        expect(table.forward).toBe(!ab);
      }),
      { numRuns: 100, seed: 7 },
    );
  });
});
