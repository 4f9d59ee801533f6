// The tables as declared: what the writer writes is what the reader reads, column by column.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Connection } from '../../test/helpers/tracker-harness.js';
import { DecodeStats } from '../decode/decode-stats.js';
import type { CaptureSummary } from '../track/capture-analysis.js';
import type { CollectedOutput } from '../track/collect-output.js';
import { DatabaseReader } from './database-reader.js';
import { DatabaseWriter } from './database-writer.js';
import type { Column } from './table-columns.js';
import { CAPTURES, FINDINGS, FLOWS, LISTENERS } from './tables.js';

let dir = '';
let reader: DatabaseReader;
let output: CollectedOutput;
let stats: Connection['tracker']['stats'];
const capture: CaptureSummary = {
  path: '/captures/one.pcap',
  format: 'pcapng',
  gzipped: true,
  linkTypes: [1, 113],
  packets: 9,
  tcpPackets: 8,
  firstNs: 1_700_000_000_123_456_789n,
  lastNs: null,
  warnings: ['cut short at byte offset 4096, frame 9'],
  error: null,
  readWhole: false,
  skippedBlocks: {},
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-tables-'));
  // A refused connection, then one with data both ways that the client closes and the server resets.
  const c = new Connection();
  c.client('SYN').server('SYN ACK').client('ACK', { len: 120 }).server('ACK', { len: 3000 }).client('FIN ACK').server('RST ACK');
  c.client('SYN', { clientPort: 40001, seq: 7 }).server('RST ACK', { clientPort: 40001, seq: 0, ack: 8 });
  output = c.finish();
  const path = join(dir, 'tables.db');
  const writer = new DatabaseWriter(path, { thread: false });
  for (const flow of output.flows) writer.flow(flow);
  for (const finding of output.findings) writer.finding(finding);
  const listeners = c.tracker.listeners.inOrder;
  stats = c.tracker.stats;
  await writer.commit(
    { captures: [capture], decode: new DecodeStats(), tracker: c.tracker.stats, listeners, error: undefined, incomplete: undefined },
    {},
  );
  reader = new DatabaseReader(path);
});

afterAll(() => {
  reader.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Each row read back has the declared columns in order, each equal to the value read from its record. */
function expectRoundTrip<R>(
  columns: ReadonlyArray<Column<R, string, unknown>>,
  rows: ReadonlyArray<Record<string, unknown>>,
  records: readonly R[],
): void {
  expect(rows).toHaveLength(records.length);
  rows.forEach((row, i) => {
    expect(Object.keys(row)).toEqual(columns.map((column) => column.name));
    for (const column of columns) if (column.read !== null) expect(row[column.name], column.name).toEqual(column.read(records[i]));
  });
}

test('flows: every declared column, in order, reads back as written', () => {
  expectRoundTrip(FLOWS.columns, reader.flows(), output.flows);
  expect(reader.flow(1)).toMatchObject({ client_bytes: 120, server_bytes: 3000, close_kind: 'FIN', closed_first_by: 'client' });
});

test('findings: every declared column reads back as written, ids numbered by SQLite', () => {
  const rows = reader.findings();
  expectRoundTrip(FINDINGS.columns, rows, output.findings);
  expect(rows.map((f) => f.id)).toEqual(output.findings.map((_, i) => i + 1));
  expect(rows.map((f) => f.kind)).toContain('refused');
});

test('captures and listeners: every declared column reads back as written', () => {
  expectRoundTrip(CAPTURES.columns, reader.captures(), [{ id: 1, capture }]);
  expect(reader.captures()[0]).toMatchObject({ gzipped: 1, link_types: '1,113', last_ns: null });
  expectRoundTrip(LISTENERS.columns, reader.listeners(), [
    { ip: '10.0.0.2', port: 80, ipVersion: 4, firstNs: reader.listeners()[0].first_ns, flowId: 1 },
  ]);
});

test('a flow update (its row changed after it was written) sets the states and times and adds the late packets and bytes', async () => {
  const path = join(dir, 'update.db');
  const writer = new DatabaseWriter(path, { thread: false });
  const flow = output.flows[0];
  writer.flow(flow);
  writer.flowUpdate({
    id: flow.id,
    clientState: 'CLOSED',
    serverState: 'TIME_WAIT',
    clientStateInferred: true,
    serverStateInferred: false,
    clientPacketsAfter: 2,
    serverPacketsAfter: 3,
    clientBytesAfter: 10,
    serverBytesAfter: 20,
    lastNs: flow.lastNs + 5_000_000_000n,
    lastSource: 0,
    lastFrame: 99,
  });
  await writer.commit(
    { captures: [capture], decode: new DecodeStats(), tracker: stats, listeners: [], error: undefined, incomplete: undefined },
    {},
  );
  const updated = new DatabaseReader(path);
  try {
    expect(updated.flow(flow.id)).toMatchObject({
      client_state: 'CLOSED',
      server_state: 'TIME_WAIT',
      client_state_inferred: 1,
      server_state_inferred: 0,
      client_packets: flow.client.packets + 2,
      server_packets: flow.server.packets + 3,
      client_bytes: flow.client.bytes + 10,
      server_bytes: flow.server.bytes + 20,
      last_ns: flow.lastNs + 5_000_000_000n,
      last_capture: 1,
      last_frame: 99,
    });
  } finally {
    updated.close();
  }
});
