// A SYN scan (issue 28): one source probing many targets must not make one finding
// per target. Each source keeps a `refused` / `syn-unanswered` finding of its own for
// its first SCAN_TARGETS targets; the rest are one finding per (kind, source), with a
// count and examples.
import { afterAll, expect, test } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze } from '../src/index.js';
import { SCAN_TARGETS } from '../src/track/aggregates.js';
import { ETHERTYPE, ethernet, ipv4, pcapFile, tcp, TCP_FLAG, type PcapRecord } from './helpers/build-packets.js';

const dir = mkdtempSync(join(tmpdir(), 'flowstate-scan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SCANNER = '10.9.9.9';
const CLIENT = '10.1.1.1';
const TARGETS = 1_000;

test(`a SYN scan of ${TARGETS} targets: ${SCAN_TARGETS} findings of their own per kind, then one per (kind, source)`, async () => {
  const records: PcapRecord[] = [];
  let micros = 0;
  const add = (src: string, dst: string, fields: Parameters<typeof tcp>[0]): void => {
    micros += 100;
    records.push({
      tsSec: 1_700_000_000 + Math.floor(micros / 1e6),
      tsFrac: micros % 1e6,
      data: ethernet(ETHERTYPE.IPV4, ipv4({ src, dst, payload: tcp(fields) })),
    });
  };
  const target = (i: number): string => `198.51.${100 + (i >> 8)}.${i & 255}`;
  for (let i = 0; i < TARGETS; i++) {
    // Even targets refuse (RST+ACK), odd ones never answer.
    add(SCANNER, target(i), { srcPort: 40_000 + (i % 20_000), dstPort: 22, seq: i * 7919, flags: TCP_FLAG.SYN });
    if (i % 2 === 0)
      add(target(i), SCANNER, {
        srcPort: 22,
        dstPort: 40_000 + (i % 20_000),
        seq: 0,
        ack: i * 7919 + 1,
        flags: TCP_FLAG.RST | TCP_FLAG.ACK,
      });
  }
  // An ordinary client with two unanswered targets keeps its per-target findings.
  for (const dst of ['192.0.2.10', '192.0.2.11']) add(CLIENT, dst, { srcPort: 50_000, dstPort: 443, seq: 1, flags: TCP_FLAG.SYN });
  const path = join(dir, 'scan.pcap');
  writeFileSync(path, pcapFile({ records }));

  const { flows, findings } = await analyze(path);
  expect(flows).toHaveLength(TARGETS + 2);
  const perTarget = (kind: string, source: string): number =>
    findings.filter((f) => f.kind === kind && f.endpoint === null && f.details.flows !== undefined && flowsFrom(f.details.flows, source))
      .length;
  const flowsFrom = (ids: unknown, source: string): boolean =>
    (ids as number[]).every((id) => flows.find((f) => f.id === id)?.client.ip === source);

  for (const kind of ['refused', 'syn-unanswered']) {
    // The first SCAN_TARGETS targets of the scanner each have their own finding, as before.
    expect(perTarget(kind, SCANNER)).toBe(SCAN_TARGETS);
    const bySource = findings.filter((f) => f.kind === kind && f.host === SCANNER);
    expect(bySource).toHaveLength(1);
    const [scan] = bySource;
    expect(scan).toMatchObject({ endpoint: 'client', port: null, flowId: null });
    expect(scan.details).toMatchObject({ count: TARGETS / 2 - SCAN_TARGETS, aggregated_by: 'source', per_target_findings: SCAN_TARGETS });
    const targets = scan.details.targets as string[];
    expect(targets).toHaveLength(20);
    // Examples are the first targets past the threshold, in the order they were probed.
    const firstAggregated = kind === 'refused' ? 2 * SCAN_TARGETS : 2 * SCAN_TARGETS + 1;
    expect(targets[0]).toBe(`${target(firstAggregated)}:22`);
    expect(scan.message).toContain(`${TARGETS / 2 - SCAN_TARGETS} more connections from ${SCANNER}`);
  }
  const client = findings.filter((f) => f.kind === 'syn-unanswered' && flowsFrom(f.details.flows, CLIENT));
  expect(client.map((f) => [f.host, f.port])).toEqual([
    ['192.0.2.10', 443],
    ['192.0.2.11', 443],
  ]);
  // 2 × SCAN_TARGETS + 2 aggregated + 2 of the client, not one per target.
  expect(findings.filter((f) => f.kind === 'refused' || f.kind === 'syn-unanswered')).toHaveLength(2 * SCAN_TARGETS + 2 + 2);
});
