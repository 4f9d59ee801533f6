// A hostile capture: spoofed SYNs from distinct sources, far more than the
// half-open bound. Memory must stay bounded (flows in memory never exceed the
// bound by more than a handful), every eviction is counted, and the flood is named.
import { afterAll, expect, test } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze } from '../src/index.js';
import { ETHERTYPE, ethernet, ipv4, pcapFile, tcp, TCP_FLAG, type PcapRecord } from './helpers/build-packets.js';

const dir = mkdtempSync(join(tmpdir(), 'flowstate-flood-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SYNS = 50_000;
const LIMIT = 1_000;

test('50,000 spoofed SYNs under a half-open limit of 1,000: bounded, counted, reported', async () => {
  const records: PcapRecord[] = [];
  for (let i = 0; i < SYNS; i++) {
    const source = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const packet = ethernet(
      ETHERTYPE.IPV4,
      ipv4({
        src: source,
        dst: '192.0.2.80',
        payload: tcp({ srcPort: 1024 + (i % 60000), dstPort: 80, seq: i * 7919, flags: TCP_FLAG.SYN }),
      }),
    );
    records.push({ tsSec: 1_700_000_000 + Math.floor(i / 10_000), tsFrac: (i % 10_000) * 100, data: packet });
  }
  const path = join(dir, 'flood.pcap');
  writeFileSync(path, pcapFile({ records }));
  const result = await analyze(path, { halfOpenLimit: LIMIT });
  expect(result.tracker.flows).toBe(SYNS);
  expect(result.tracker.peakFlowsInMemory).toBeLessThanOrEqual(LIMIT + 1);
  expect(result.tracker.evictedHalfOpen).toBe(SYNS - LIMIT);
  expect(result.flows.filter((f) => f.evicted)).toHaveLength(SYNS - LIMIT);
  expect(result.findings.filter((f) => f.kind === 'half-open-evicted')).toHaveLength(1);
  const flood = result.findings.filter((f) => f.kind === 'half-open-flood' || f.kind === 'syn-unanswered');
  expect(flood.map((f) => [f.kind, f.host, f.port])).toEqual([['half-open-flood', '192.0.2.80', 80]]);
  // Evicted handshakes still count: they are SYNs nobody answered.
  expect(flood[0].details).toMatchObject({ unanswered: SYNS, sources: SYNS });
});
