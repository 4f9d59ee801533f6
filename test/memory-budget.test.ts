// The memory budget (issue 28): memory is bounded by a setting, not by the input.
// Past the budget the least recently seen connections are written as they stand,
// marked evicted; a later segment of one starts a new flow, honestly midstream.
// The budget is a setting, so a tiny one shows all of it on a small capture.
import { afterAll, describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { analyze } from '../src/index.js';
import { parseSize } from '../src/memory-budget.js';
import { BYTES_PER_LIVE_FLOW } from '../src/track/tracker.js';
import { ETHERTYPE, ethernet, ipv4, pcapFile, tcp, TCP_FLAG, type PcapRecord } from './helpers/build-packets.js';
import { CAPTURES } from './helpers/paths.js';
import { flowstate } from './helpers/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'flowstate-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONNECTIONS = 200;
const KEPT = 50;
const REVISITS = 5;
const SERVER = '192.0.2.1';

/** CONNECTIONS connections that open, carry 10 bytes and stay ESTABLISHED; then one more data segment on each of the first REVISITS. */
function establishedCapture(): string {
  const records: PcapRecord[] = [];
  let micros = 0;
  const add = (src: string, dst: string, fields: Parameters<typeof tcp>[0]): void => {
    micros += 10;
    records.push({
      tsSec: 1_700_000_000 + Math.floor(micros / 1e6),
      tsFrac: micros % 1e6,
      data: ethernet(ETHERTYPE.IPV4, ipv4({ src, dst, payload: tcp(fields) })),
    });
  };
  const client = (i: number): string => `10.0.${i >> 8}.${i & 255}`;
  const port = (i: number): number => 20_000 + i;
  for (let i = 0; i < CONNECTIONS; i++) {
    const [c, p, iss, siss] = [client(i), port(i), 1000 * i, 5000 * i];
    add(c, SERVER, { srcPort: p, dstPort: 443, seq: iss, flags: TCP_FLAG.SYN });
    add(SERVER, c, { srcPort: 443, dstPort: p, seq: siss, ack: iss + 1, flags: TCP_FLAG.SYN | TCP_FLAG.ACK });
    add(c, SERVER, { srcPort: p, dstPort: 443, seq: iss + 1, ack: siss + 1, flags: TCP_FLAG.ACK });
    add(c, SERVER, {
      srcPort: p,
      dstPort: 443,
      seq: iss + 1,
      ack: siss + 1,
      flags: TCP_FLAG.ACK | TCP_FLAG.PSH,
      payload: Buffer.alloc(10),
    });
    add(SERVER, c, { srcPort: 443, dstPort: p, seq: siss + 1, ack: iss + 11, flags: TCP_FLAG.ACK });
  }
  for (let i = 0; i < REVISITS; i++)
    add(client(i), SERVER, {
      srcPort: port(i),
      dstPort: 443,
      seq: 1000 * i + 11,
      ack: 5000 * i + 1,
      flags: TCP_FLAG.ACK | TCP_FLAG.PSH,
      payload: Buffer.alloc(10),
    });
  const path = join(dir, 'established.pcap');
  writeFileSync(path, pcapFile({ records }));
  return path;
}

describe('the memory budget', () => {
  const capture = establishedCapture();

  test('with the default budget nothing is evicted', async () => {
    const result = await analyze(capture);
    expect(result.tracker.evictedConnections).toBe(0);
    expect(result.flows).toHaveLength(CONNECTIONS);
    expect(result.flows.every((f) => !f.evicted && f.evictedBy === null)).toBe(true);
    expect(result.findings.map((f) => f.kind)).toEqual([]);
  });

  test(`a budget of ${KEPT} connections: the idlest are written as they stand and evicted, a revisited one starts midstream`, async () => {
    const result = await analyze(capture, { memoryBytes: KEPT * BYTES_PER_LIVE_FLOW });
    const { tracker, flows } = result;
    // Each connection past the first KEPT evicts the idlest; so does each revisit (a new, midstream flow).
    expect(tracker.evictedConnections).toBe(CONNECTIONS - KEPT + REVISITS);
    // The newcomer is admitted before the idlest leaves.
    expect(tracker.peakFlowsInMemory).toBe(KEPT + 1);
    expect(flows).toHaveLength(CONNECTIONS + REVISITS);
    // Every connection has a row.
    const tuples = new Set(flows.map((f) => `${f.client.ip}:${f.client.port}`));
    expect(tuples.size).toBe(CONNECTIONS);

    const evicted = flows.filter((f) => f.evicted);
    expect(evicted).toHaveLength(tracker.evictedConnections);
    for (const f of evicted) {
      expect(f.evictedBy).toBe('memory');
      // The states it had when evicted, as far as the capture proved them, and marked inferred for what came after.
      expect([f.client.state, f.server.state]).toEqual(['ESTABLISHED', 'ESTABLISHED']);
      expect(f.client.stateInferred && f.server.stateInferred).toBe(true);
      expect(f.midstream).toBe(false);
      expect(f.rolesGuessed).toBe(false);
    }
    // The least recently seen go first: the first connections opened, in order.
    const firstEvicted = evicted.slice(0, CONNECTIONS - KEPT).map((f) => f.client.port);
    expect(firstEvicted).toEqual(Array.from({ length: CONNECTIONS - KEPT }, (_, i) => 20_000 + i));

    // A revisited connection is a new flow, midstream: nothing about its start is claimed.
    const midstream = flows.filter((f) => f.midstream);
    expect(midstream.map((f) => f.client.port).sort()).toEqual(Array.from({ length: REVISITS }, (_, i) => 20_000 + i));
    for (const f of midstream) {
      expect(f.rolesGuessed).toBe(true);
      expect(f.evicted).toBe(false);
      expect(f.server).toMatchObject({ ip: SERVER, port: 443, state: 'ESTABLISHED', stateInferred: true });
      expect(f.client).toMatchObject({ state: 'ESTABLISHED', stateInferred: true });
      const transitions = result.transitions.filter((t) => t.flowId === f.id);
      expect(transitions.map((t) => [t.fromState, t.toState, t.inferred])).toEqual([
        ['UNKNOWN', 'ESTABLISHED', true],
        ['UNKNOWN', 'ESTABLISHED', true],
      ]);
    }
    // An evicted flow's transitions end where the capture left it: none after its eviction.
    for (const f of evicted) {
      const last = result.transitions.filter((t) => t.flowId === f.id).at(-1);
      expect(last?.toState).toBe('ESTABLISHED');
    }
    const kinds = result.findings.map((f) => f.kind);
    expect(kinds.filter((k) => k === 'memory-evicted')).toHaveLength(1);
    const pickups = result.findings.filter((f) => f.kind === 'midstream-pickup');
    expect(pickups).toHaveLength(REVISITS);
    expect(pickups[0].message).toContain('or the memory budget evicted it earlier');
  });

  test('analyze --memory on a real capture: counted in --json, every connection has a row, evicted rows marked, said once on stderr', async () => {
    const db = join(dir, 'many-short.db');
    const whole = await flowstate(['analyze', join(CAPTURES, 'many-short.pcap'), '--db', join(dir, 'whole.db'), '--json']);
    expect(JSON.parse(whole.stdout)).toMatchObject({ evicted_connections: 0 });
    const run = await flowstate(['analyze', join(CAPTURES, 'many-short.pcap'), '--db', db, '--json', '--memory', '4K']);
    expect(run.status, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { evicted_connections: number; flows: number };
    expect(summary.evicted_connections).toBeGreaterThan(0);
    const said = run.stderr.split('\n').filter((line) => line.includes('memory budget of 4 KiB reached'));
    expect(said).toEqual([
      'flowstate: warning: memory budget of 4 KiB reached: the idlest connections are written as they stand and evicted; --memory to raise it',
    ]);
    const rows = (
      path: string,
    ): Array<{
      tuple: string;
      evicted: number;
      evicted_by: string | null;
      client_state_inferred: number;
      server_state_inferred: number;
    }> => {
      const handle = new Database(path, { readonly: true });
      try {
        return handle
          .prepare(
            "SELECT client_ip || ':' || client_port || '-' || server_ip || ':' || server_port AS tuple, evicted, evicted_by, client_state_inferred, server_state_inferred FROM flows",
          )
          .all() as ReturnType<typeof rows>;
      } finally {
        handle.close();
      }
    };
    const all = rows(db);
    const evicted = all.filter((r) => r.evicted === 1);
    expect(evicted).toHaveLength(summary.evicted_connections);
    expect(evicted.every((r) => r.evicted_by === 'memory' && r.client_state_inferred === 1 && r.server_state_inferred === 1)).toBe(true);
    expect(all.filter((r) => r.evicted === 0).every((r) => r.evicted_by === null)).toBe(true);
    // Every connection of the whole run has at least one row (a pieces-of-it row per eviction and comeback).
    const tuples = (list: ReturnType<typeof rows>): Set<string> => new Set(list.map((r) => r.tuple.split('-').sort().join('-')));
    expect([...tuples(rows(join(dir, 'whole.db')))].every((t) => tuples(all).has(t))).toBe(true);
  });

  test('--memory takes sizes; anything else is a usage error', async () => {
    expect(parseSize('512M')).toBe(512 * 2 ** 20);
    expect(parseSize('1G')).toBe(2 ** 30);
    expect(parseSize('1.5GiB')).toBe(1.5 * 2 ** 30);
    expect(parseSize('800kb')).toBe(800 * 1024);
    expect(parseSize('65536')).toBe(65536);
    expect(parseSize('lots')).toBeUndefined();
    expect(parseSize('0')).toBeUndefined();
    const run = await flowstate(['analyze', join(CAPTURES, 'many-short.pcap'), '--db', join(dir, 'x.db'), '--memory', 'lots']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--memory takes a size such as 512M or 1G, not "lots"');
  });
});
