// The README's library examples, verbatim but for the import path (a test below
// checks it), so they cannot rot; and the package's self-reference resolving to
// the built library. Paths are relative to the checkout, where vitest runs.
import { expect, onTestFinished, test } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_STATES, DatabaseReader, analyze, analyzeToDatabase, mergeShards, netstatAt, stateTimeline } from '../src/index.js';
import { CAPTURES, ROOT } from './helpers/paths.js';
import { ETHERTYPE, PcapngBuilder, TCP_FLAG, ethernet, ipv4, tcp } from './helpers/build-packets.js';

test('no connection of this capture ended in CLOSE_WAIT', async () => {
  const { flows } = await analyze('captures/client-close.pcap');
  const stuck = flows.filter((f) => f.client.state === 'CLOSE_WAIT' || f.server.state === 'CLOSE_WAIT');
  expect(stuck).toEqual([]);
});

test('20 endpoints sit in CLOSE_WAIT at the end, and from the first 10 ms on', async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'flowstate-')), 'leak.db');
  await analyze('captures/close-wait-leak.pcap', { db });
  const reader = new DatabaseReader(db);
  const atEnd = netstatAt(reader); // at the last packet; netstatAt(reader, { atNs }) for another moment
  expect(atEnd.filter((e) => e.state === 'CLOSE_WAIT')).toHaveLength(20);
  const timeline = stateTimeline(reader, [{ label: 'all' }], 10_000_000n); // every 10 ms
  const closeWait = ALL_STATES.indexOf('CLOSE_WAIT');
  expect(timeline?.groups[0].counts.map((row) => row[closeWait])).toEqual([0, 20, 20, 20, 20, 20]);
  reader.close();
});

test('the README’s library examples are the tests above, word for word, and import only what this file does', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const library = readme.slice(readme.indexOf('## As a library'), readme.indexOf('## Development'));
  const blocks = [...library.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  expect(blocks).toHaveLength(2);
  const source = readFileSync(join(ROOT, 'test/library.test.ts'), 'utf8');
  for (const block of blocks) {
    const body = block.replace(/^import [^;]+;\n/gm, '').trim();
    expect(source).toContain(body);
    for (const [, names, from] of block.matchAll(/^import \{ ([^}]+) \} from '([^']+)';$/gm))
      for (const name of names.split(', ')) {
        const here = from === 'flowstate' ? '../src/index.js' : from;
        expect(source, `${name} from ${from}`).toMatch(new RegExp(`import \\{[^}]*\\b${name}\\b[^}]*\\} from '${here}'`));
      }
  }
});

test('netstatAt and stateTimeline have defaults: the end of the capture, every endpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowstate-defaults-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  await analyze(join(CAPTURES, 'close-wait-leak.pcap'), { db: join(dir, 'leak.db') });
  const reader = new DatabaseReader(join(dir, 'leak.db'));
  onTestFinished(() => reader.close());
  expect(netstatAt(reader)).toEqual(netstatAt(reader, { atNs: reader.span().last_ns ?? 0n }));
  expect(stateTimeline(reader)).toEqual(stateTimeline(reader, [{ label: 'all' }]));
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

/** Every value the package exports (its types aside): adding or removing one is a deliberate change to the API. */
const PUBLIC_VALUES = [
  'ALL_STATES',
  'CaptureFormatError',
  'CloseKind',
  'CollectedOutput',
  'DEFAULT_HALF_OPEN_LIMIT',
  'DEFAULT_THRESHOLDS',
  'DEFAULT_TIME_WAIT_SECONDS',
  'DatabaseReader',
  'EndpointEvent',
  'ExitCode',
  'FINDINGS',
  'FINDING_KINDS',
  'FlowstateError',
  'NotAFlowstateDatabaseError',
  'Role',
  'SCHEMA_VERSION',
  'Severity',
  'TRANSITIONS',
  'TUNNELS',
  'TcpState',
  'UsageError',
  'ZEEK_CONN_STATE_MEANING',
  'ZEEK_HISTORY_LETTERS',
  'ZeekConnState',
  'analyze',
  'analyzeCapture',
  'analyzeToDatabase',
  'exportParquet',
  'formatEndpoint',
  'hostProfiles',
  'hostProfilesOfDatabase',
  'isSqliteFile',
  'mergeShards',
  'netstatAt',
  'parseShard',
  'queryParquet',
  'shardOf',
  'stateTimeline',
  'statesPresent',
  'zeekConnLogJsonLines',
  'zeekConnLogTsv',
  'zeekUid',
];

test('the package exports exactly its public values, each named in the README (no tracker, decoder or reader internals)', async () => {
  const packageName = 'flowstate';
  const library = (await import(packageName)) as Record<string, unknown>;
  expect(Object.keys(library).sort()).toEqual([...PUBLIC_VALUES].sort());
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const face = readme.slice(readme.indexOf('## As a library'), readme.indexOf('## Development'));
  expect(PUBLIC_VALUES.filter((name) => !face.includes(`\`${name}`))).toEqual([]);
});

test("import { analyze } from 'flowstate' resolves to the built library", async () => {
  // The package name resolves through package.json "exports" to dist/ (built by npm test).
  const packageName = 'flowstate';
  const library = (await import(packageName)) as { analyze: unknown; TcpState: Record<string, string> };
  expect(typeof library.analyze).toBe('function');
  expect(library.TcpState.CLOSE_WAIT).toBe('CLOSE_WAIT');
});

const syn = ethernet(
  ETHERTYPE.IPV4,
  ipv4({ src: '192.0.2.1', dst: '192.0.2.2', payload: tcp({ srcPort: 40000, dstPort: 80, seq: 1000, flags: TCP_FLAG.SYN }) }),
);
const synAck = ethernet(
  ETHERTYPE.IPV4,
  ipv4({
    src: '192.0.2.2',
    dst: '192.0.2.1',
    payload: tcp({ srcPort: 80, dstPort: 40000, seq: 5000, ack: 1001, flags: TCP_FLAG.SYN | TCP_FLAG.ACK }),
  }),
);

/** A pcapng file of the packets at the given epoch seconds (microsecond resolution), in a new folder. */
async function pcapng(name: string, packets: Array<[bigint, Buffer]>): Promise<string> {
  let builder = new PcapngBuilder().sectionHeader().interface({ linkType: 1 });
  for (const [seconds, packet] of packets) builder = builder.enhancedPacket(0, seconds * 1_000_000n, packet);
  const dir = mkdtempSync(join(tmpdir(), 'flowstate-time-'));
  const path = join(dir, name);
  writeFileSync(path, builder.bytes());
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return Promise.resolve(path);
}

test('a frame timed past 2262 is counted and tracked in capture order at the time of the frame before it (issue 16)', async () => {
  const path = await pcapng('far-future.pcapng', [
    [1_700_000_000n, syn],
    [18_000_000_000_000n, synAck],
  ]);
  const result = await analyze(path);
  expect(result.decode.issues.get('timestamp-out-of-range')?.count).toBe(1);
  expect(result.flows).toHaveLength(1);
  // The SYN-ACK was tracked: the server answered, at the SYN's time.
  expect(result.flows[0].server.state).toBe('SYN_RECV');
  const answered = result.transitions.find((t) => t.endpoint === 'server');
  expect(answered).toMatchObject({ toState: 'SYN_RECV', frame: 2, tsNs: 1_700_000_000_000_000_000n });
  expect(result.captures[0].lastNs).toBe(1_700_000_000_000_000_000n);
});

test('frames timed out of range before any in range are tracked at the first in-range time', async () => {
  const path = await pcapng('bad-clock-first.pcapng', [
    [18_000_000_000_000n, syn],
    [1_700_000_005n, synAck],
  ]);
  const result = await analyze(path);
  expect(result.decode.issues.get('timestamp-out-of-range')?.count).toBe(1);
  expect(result.flows).toHaveLength(1);
  expect(result.flows[0]).toMatchObject({ rolesGuessed: false, client: { state: 'ESTABLISHED', port: 40000 }, firstFrame: 1 });
  expect(result.transitions[0]).toMatchObject({ endpoint: 'client', toState: 'SYN_SENT', frame: 1, tsNs: 1_700_000_005_000_000_000n });
  expect(result.captures[0].firstNs).toBe(1_700_000_005_000_000_000n);
});

test('shards through the library: two analyzeToDatabase runs with a shard each, merged, hold the one run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowstate-shards-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const capture = join(CAPTURES, 'close-wait-leak.pcap');
  const whole = await analyze(capture);
  const shards = [0, 1].map((index) => join(dir, `${index}.db`));
  const parts = await Promise.all(shards.map((db, index) => analyzeToDatabase([capture], db, { shard: { index, count: 2 } })));
  expect(parts.map((p) => p.tracker.flows).reduce((a, b) => a + b)).toBe(whole.flows.length);
  const merged = mergeShards(join(dir, 'merged.db'), shards);
  expect(merged).toMatchObject({
    shards: 2,
    flows: whole.flows.length,
    transitions: whole.transitions.length,
    findings: whole.findings.length,
  });
  const reader = new DatabaseReader(join(dir, 'merged.db'));
  onTestFinished(() => reader.close());
  expect(reader.findings("kind = 'close-wait-leak'")).toHaveLength(1);
});
