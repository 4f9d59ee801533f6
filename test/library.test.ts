// The README's library example, verbatim but for the import path, so it cannot rot;
// and the package's self-reference resolving to the built library.
import { expect, test } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseReader, analyze } from '../src/index.js';
import { CAPTURES } from './helpers/paths.js';
import { ETHERTYPE, PcapngBuilder, TCP_FLAG, ethernet, ipv4, tcp } from './helpers/build-packets.js';

test('no connection of this capture ended in CLOSE_WAIT', async () => {
  const { flows } = await analyze(join(CAPTURES, 'client-close.pcap'));
  const stuck = flows.filter((f) => f.client.state === 'CLOSE_WAIT' || f.server.state === 'CLOSE_WAIT');
  expect(stuck).toEqual([]);
});

test('the same question finds the leak where there is one, and the database matches', async () => {
  const { flows, transitions, findings } = await analyze(join(CAPTURES, 'close-wait-leak.pcap'));
  expect(flows.filter((f) => f.client.state === 'CLOSE_WAIT')).toHaveLength(20);
  expect(transitions.filter((t) => t.toState === 'CLOSE_WAIT')).toHaveLength(20);
  expect(findings.filter((f) => f.kind === 'close-wait-leak')).toHaveLength(1);
});

test('the database holds the transitions the library hands back, field for field (packed codes decoded)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowstate-db-'));
  const db = join(dir, 'two.db');
  // Two files read as one (capture ids 1 and 2), a midstream pickup (inferred) and a short TIME_WAIT (timer transitions).
  const { transitions } = await analyze([join(CAPTURES, 'midstream.pcap'), join(CAPTURES, 'client-close.pcap')], {
    db,
    timeWaitSeconds: 0.001,
  });
  const reader = new DatabaseReader(db);
  // Integers as BigInt: nanosecond times exceed 2^53.
  const rows = reader.db.prepare('SELECT * FROM transitions ORDER BY id').safeIntegers(true).all() as Array<
    Record<string, bigint | string | null>
  >;
  reader.close();
  rmSync(dir, { recursive: true, force: true });
  expect(new Set(transitions.map((t) => t.source))).toEqual(new Set([0, 1]));
  expect(transitions.some((t) => t.inferred) && transitions.some((t) => !t.inferred) && transitions.some((t) => t.frame === null)).toBe(
    true,
  );
  const int = (value: bigint | string | null): number | null => (value === null ? null : Number(value));
  expect(
    rows.map((r) => [
      int(r.flow_id),
      r.endpoint,
      r.ts_ns,
      int(r.capture_id),
      int(r.frame),
      r.from_state,
      r.to_state,
      r.cause,
      int(r.inferred),
    ]),
  ).toEqual(
    transitions.map((t) => [t.flowId, t.endpoint, t.tsNs, t.source + 1, t.frame, t.fromState, t.toState, t.cause, t.inferred ? 1 : 0]),
  );
});

test("import { analyze } from 'flowstate' resolves to the built library", async () => {
  // The package name resolves through package.json "exports" to dist/ (built by npm test).
  const packageName = 'flowstate';
  const library = (await import(packageName)) as { analyze: unknown; TcpState: Record<string, string> };
  expect(typeof library.analyze).toBe('function');
  expect(library.TcpState.CLOSE_WAIT).toBe('CLOSE_WAIT');
});

test('a record time beyond 64-bit nanoseconds is counted and skipped, the rest analysed', async () => {
  const syn = ethernet(
    ETHERTYPE.IPV4,
    ipv4({ src: '192.0.2.1', dst: '192.0.2.2', payload: tcp({ srcPort: 40000, dstPort: 80, flags: TCP_FLAG.SYN }) }),
  );
  const microseconds = (seconds: bigint): bigint => seconds * 1_000_000n;
  const capture = new PcapngBuilder()
    .sectionHeader()
    .interface({ linkType: 1 })
    .enhancedPacket(0, microseconds(1_700_000_000n), syn)
    .enhancedPacket(0, microseconds(18_000_000_000_000n), syn)
    .bytes();
  const dir = mkdtempSync(join(tmpdir(), 'flowstate-time-'));
  const path = join(dir, 'far-future.pcapng');
  writeFileSync(path, capture);
  const result = await analyze(path);
  rmSync(dir, { recursive: true, force: true });
  expect(result.decode.issues.get('timestamp-out-of-range')?.count).toBe(1);
  expect(result.flows).toHaveLength(1);
  expect(result.captures[0].lastNs).toBe(1_700_000_000_000_000_000n);
});
