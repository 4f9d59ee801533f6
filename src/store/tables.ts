import type { TcpState } from '../tcp/tcp-state.js';
import type { CaptureSummary } from '../track/capture-analysis.js';
import type { Listener } from '../track/listeners.js';
import type { CloseKind, EvictionCause, FindingRecord, FlowRecord, FlowUpdate, Role, Severity } from '../track/records.js';
import type { RowBatchBuilder } from './row-batch.js';
import { columnsOf, type Kind, type RowOf } from './table-columns.js';
import { TUNNEL_KINDS, TUNNELS } from '../decode/tunnels.js';

/**
 * The tables flowstate writes rows into, declared once: each column's name, SQL
 * type, how it is read from the record a row is written from, and (per group of
 * columns documented together) its sentence in docs/schema.md. The DDL, the
 * INSERTs and rows the writer makes, the reader's row types and the column tables
 * of docs/schema.md (scripts/schema-doc.mjs) all come from here, so a column
 * cannot be written in one place and read as another. (transition_rows is packed
 * by transition-code.ts; causes and meta are two-column lists, in schema.ts.)
 */

/** A capture's row: its summary and its 1-based id. */
export interface CaptureEntry {
  id: number;
  capture: CaptureSummary;
}

const capture = columnsOf<CaptureEntry>();
export const CAPTURES = capture.table('captures', [
  capture.group(
    '1-based, in the order the files were given',
    capture.rowId('id', (c) => c.id),
  ),
  capture.group(
    'absolute path of the file (`-` for standard input); `flow` and `netstat --at` read it again',
    capture.text('path', (c) => c.capture.path),
  ),
  capture.group(
    '`pcap`, `pcap-ns`, `pcap-modified` or `pcapng`',
    capture.text('format', (c) => c.capture.format),
  ),
  capture.group(
    'the file was gzip-compressed',
    capture.flag('gzipped', (c) => c.capture.gzipped),
  ),
  capture.group(
    'LINKTYPE numbers seen, comma-separated',
    capture.text('link_types', (c) => c.capture.linkTypes.join(',')),
  ),
  capture.group(
    'records read',
    capture.integer('packets', (c) => c.capture.packets),
  ),
  capture.group(
    'TCP segments decoded (retransmissions and duplicates included)',
    capture.integer('tcp_packets', (c) => c.capture.tcpPackets),
  ),
  capture.group(
    'first and last packet time',
    capture.timeOrNull('first_ns', (c) => c.capture.firstNs),
    capture.timeOrNull('last_ns', (c) => c.capture.lastNs),
  ),
  capture.group(
    'e.g. a file cut short: the byte offset and frame where reading stopped',
    capture.textOrNull('warnings', (c) => {
      const said = c.capture.error === null ? c.capture.warnings : [...c.capture.warnings, c.capture.error];
      return said.length > 0 ? said.join('\n') : null;
    }),
  ),
] as const);
export type CaptureRow = RowOf<(typeof CAPTURES)['columns'][number]>;

const { group, rowId, integer, integerOrNull, time, text, textOrNull, flag, table } = columnsOf<FlowRecord>();
export const FLOWS = table('flows', [
  group(
    'flow id, in order of first packet',
    rowId('id', (f) => f.id),
  ),
  group(
    'the endpoints (IPv6 in its RFC 5952 text form)',
    text('client_ip', (f) => f.client.ip),
    integer('client_port', (f) => f.client.port),
    text('server_ip', (f) => f.server.ip),
    integer('server_port', (f) => f.server.port),
  ),
  group(
    '4 or 6',
    integer('ip_version', (f) => f.ipVersion),
  ),
  group(
    '1, 2, … on the same 4-tuple while the previous one is still remembered (until its TIME_WAIT expires or 5 s after it closed)',
    integer('instance', (f) => f.instance),
  ),
  group(
    'first and last segment',
    time('first_ns', (f) => f.firstNs),
    time('last_ns', (f) => f.lastNs),
  ),
  group(
    'segments sent by each side',
    integer('client_packets', (f) => f.client.packets),
    integer('server_packets', (f) => f.server.packets),
  ),
  group(
    'TCP payload bytes those segments carried (retransmissions included; snaplen cuts do not shrink them)',
    integer('client_bytes', (f) => f.client.bytes),
    integer('server_bytes', (f) => f.server.bytes),
  ),
  group(
    "IP bytes (headers included), as Zeek's `orig_ip_bytes`",
    integer('client_ip_bytes', (f) => f.client.ipBytes),
    integer('server_ip_bytes', (f) => f.server.ipBytes),
  ),
  group(
    "each endpoint's state at capture end",
    text('client_state', (f): TcpState => f.client.state),
    text('server_state', (f): TcpState => f.server.state),
  ),
  group(
    'that state was inferred (midstream start, after capture loss, evicted), not observed',
    flag('client_state_inferred', (f) => f.client.stateInferred),
    flag('server_state_inferred', (f) => f.server.stateInferred),
  ),
  group(
    'no SYN seen: client and server come from the port heuristic',
    flag('roles_guessed', (f) => f.rolesGuessed),
  ),
  group(
    'the capture started after the handshake',
    flag('midstream', (f) => f.midstream),
  ),
  group(
    '`client` or `server`: who ended the connection first; NULL if nobody did',
    textOrNull('closed_first_by', (f): Role | null => f.closedFirstBy),
  ),
  group(
    'how: `FIN` or `RST`',
    textOrNull('close_kind', (f): CloseKind | null => f.closeKind),
  ),
  group(
    "sequence space sent and not acknowledged at capture end (netstat's Send-Q)",
    integer('client_unacked', (f) => f.client.unackedBytes),
    integer('server_unacked', (f) => f.server.unackedBytes),
  ),
  group(
    'segments that resent sequence space already seen',
    integer('client_retransmissions', (f) => f.client.retransmissions),
    integer('server_retransmissions', (f) => f.server.retransmissions),
  ),
  group(
    'segments each side sent with a bad TCP checksum (of those captured whole); kept unless `analyze --checksums drop`',
    integer('client_bad_checksums', (f) => f.client.badChecksums),
    integer('server_bad_checksums', (f) => f.server.badChecksums),
  ),
  group(
    'times one side acknowledged data the capture never showed',
    integer('capture_loss', (f) => f.captureLossEvents),
  ),
  group(
    'how much such data there was',
    integer('missed_bytes', (f) => f.client.missedBytes + f.server.missedBytes),
  ),
  group(
    'dropped from memory before it ended, by the half-open bound (SYN flood) or the memory budget (`analyze --memory`): its row was written as it stood then, its states are the ones it had then (marked inferred: what came after is unknown), and a later segment of it starts a new, midstream flow',
    flag('evicted', (f) => f.evicted),
  ),
  group(
    'why: `half-open-limit` or `memory` (the least recently seen connection when the budget was reached); NULL when not evicted',
    textOrNull('evicted_by', (f): EvictionCause | null => f.evictedBy),
  ),
  group(
    'where its first and last segments are',
    integer('first_capture', (f) => f.firstSource + 1),
    integer('first_frame', (f) => f.firstFrame),
    integer('last_capture', (f) => f.lastSource + 1),
    integer('last_frame', (f) => f.lastFrame),
  ),
  group(
    `the tunnel it ran inside, NULL on the outermost IP: kind (${TUNNEL_KINDS.map((k) => `\`${k}\``).join(', ')}; nested ones outermost first, \`gre>vxlan\`), the innermost tunnel's outer addresses (lower first, \`a-b\`), and its ${[...new Set(TUNNELS.flatMap((t) => (t.id === null ? [] : [t.id])))].join(', ')}`,
    textOrNull('tunnel', (f) => f.tunnel?.kind ?? null),
    textOrNull('tunnel_endpoints', (f) => f.tunnel?.endpoints ?? null),
    integerOrNull('tunnel_id', (f) => f.tunnel?.id ?? null),
  ),
  group(
    "Zeek's view of the connection (docs/zeek.md)",
    textOrNull('conn_state', (f) => f.zeek?.connState ?? null),
    textOrNull('history', (f) => f.zeek?.history ?? null),
  ),
  group(
    "Zeek's byte counts, from sequence numbers",
    integerOrNull('zeek_orig_bytes', (f) => f.zeek?.originatorBytes ?? null),
    integerOrNull('zeek_resp_bytes', (f) => f.zeek?.responderBytes ?? null),
    integerOrNull('zeek_missed_bytes', (f) => f.zeek?.missedBytes ?? null),
  ),
] as const);
/** A row of `flows` as the reader returns it: one property per column, typed as written. */
export type FlowRow = RowOf<(typeof FLOWS)['columns'][number]>;

/** One column a flow update writes: set to the value, or (`add`) increased by it. */
interface UpdatedColumn {
  readonly name: keyof FlowRow;
  readonly add: boolean;
  readonly kind: Kind;
  readonly read: (u: FlowUpdate) => string | number | bigint;
}
const set = (name: keyof FlowRow, kind: Kind, read: UpdatedColumn['read']): UpdatedColumn => ({ name, add: false, kind, read });
const add = (name: keyof FlowRow, read: (u: FlowUpdate) => number): UpdatedColumn => ({ name, add: true, kind: 'n', read });

/**
 * How a flow's row changes after it was written (its TIME_WAIT ended, segments came late), declared
 * once: the UPDATE statement, the kinds of its parameters and the writer's row all come from here.
 */
const FLOW_UPDATE: readonly UpdatedColumn[] = [
  set('client_state', 's', (u) => u.clientState),
  set('server_state', 's', (u) => u.serverState),
  set('client_state_inferred', 'n', (u) => (u.clientStateInferred ? 1 : 0)),
  set('server_state_inferred', 'n', (u) => (u.serverStateInferred ? 1 : 0)),
  add('client_packets', (u) => u.clientPacketsAfter),
  add('server_packets', (u) => u.serverPacketsAfter),
  add('client_bytes', (u) => u.clientBytesAfter),
  add('server_bytes', (u) => u.serverBytesAfter),
  set('last_ns', 't', (u) => u.lastNs),
  set('last_capture', 'n', (u) => u.lastSource + 1),
  set('last_frame', 'n', (u) => u.lastFrame),
];

/** The statement that updates a flow already written; its last parameter is the flow's id. */
export const FLOW_UPDATE_SQL = `UPDATE flows SET ${FLOW_UPDATE.map((c) => (c.add ? `${c.name} = ${c.name} + ?` : `${c.name} = ?`)).join(', ')} WHERE id = ?`;
/** The kinds of its parameters, in order (RowBatch). */
export const FLOW_UPDATE_KINDS = `${FLOW_UPDATE.map((c) => c.kind).join('')}n`;

/** Writes a flow update's parameters into the batch; true when the batch is full. */
export function writeFlowUpdate(batch: RowBatchBuilder, u: FlowUpdate): boolean {
  for (const c of FLOW_UPDATE) {
    const value = c.read(u);
    if (c.kind === 's') batch.string(value as string);
    else if (c.kind === 't') batch.time(value as bigint);
    else batch.number(value as number);
  }
  batch.number(u.id);
  return batch.endRow();
}

const finding = columnsOf<FindingRecord>();
export const FINDINGS = finding.table('findings', [
  finding.group('1-based', finding.rowId('id')),
  finding.group(
    'stable code, e.g. `close-wait-leak`, `time-wait-pressure`, `half-open-flood`',
    finding.text('kind', (f) => f.kind),
  ),
  finding.group(
    '`error`, `warning` or `info`',
    finding.text('severity', (f): Severity => f.severity),
  ),
  finding.group(
    'the flow, for per-flow findings (and aggregates of one flow); NULL for aggregates',
    finding.integerOrNull('flow_id', (f) => f.flowId),
  ),
  finding.group(
    '`client`/`server` the finding is about, when it is about one',
    finding.textOrNull('endpoint', (f): Role | null => f.endpoint),
  ),
  finding.group(
    'the host and port concerned (aggregates: the listener or the host; `port` NULL for a client-side aggregate, whose `details.remote` names the server)',
    finding.textOrNull('host', (f) => f.host),
    finding.integerOrNull('port', (f) => f.port),
  ),
  finding.group(
    'when it starts (aggregates: the first occurrence; time-wait-pressure: the peak)',
    finding.time('ts_ns', (f) => f.tsNs),
  ),
  finding.group(
    'evidence: the first segment that shows it',
    finding.integerOrNull('capture_id', (f) => f.source + 1),
    finding.integerOrNull('frame', (f) => f.frame),
  ),
  finding.group(
    'one plain sentence',
    finding.text('message', (f) => f.message),
  ),
  finding.group(
    'JSON: counts, durations (`*_ns`), `first_frame`, `last_frame`, up to 20 `flows` (aggregates: the lowest ids, the first connections, ascending), and `remedy`',
    finding.text('details', (f) => JSON.stringify(f.details)),
  ),
] as const);
export type FindingRow = RowOf<(typeof FINDINGS)['columns'][number]>;

const listener = columnsOf<Listener>();
export const LISTENERS = listener.table(
  'listeners',
  [
    listener.group(
      'the address and port seen answering a SYN with SYN-ACK',
      listener.text('ip', (l) => l.ip),
      listener.integer('port', (l) => l.port),
    ),
    listener.group(
      '4 or 6',
      listener.integer('ip_version', (l) => l.ipVersion),
    ),
    listener.group(
      'when it first answered',
      listener.time('first_ns', (l) => l.firstNs),
    ),
    listener.group(
      'the flow of that first answer',
      listener.integer('first_flow_id', (l) => l.flowId),
    ),
  ] as const,
  ['PRIMARY KEY (ip, port)'],
);
export type ListenerRow = RowOf<(typeof LISTENERS)['columns'][number]>;

/** The tables whose columns docs/schema.md shows from their declarations. */
export const DOCUMENTED_TABLES = [CAPTURES, FLOWS, FINDINGS, LISTENERS] as const;

/** The kinds of the flows row, in order, as RowBatch spells them. */
export const FLOW_ROW_KINDS = FLOWS.columns.map((c) => c.kind).join('');

// A batch keeps numbers, strings and times in three arrays, each in column order: a row is written
// kind by kind, one loop each: two thirds of the time of one loop asking each column its kind.
const readersOf = <V>(kind: string) => FLOWS.columns.filter((c) => c.kind === kind).map((c) => c.read as (flow: FlowRecord) => V);
const numberReaders = readersOf<number | null>('n');
const stringReaders = readersOf<string | null>('s');
const timeReaders = readersOf<bigint>('t');

/** Writes a flow's row into the batch; true when the batch is full. */
export function writeFlowRow(batch: RowBatchBuilder, flow: FlowRecord): boolean {
  for (let i = 0; i < numberReaders.length; i++) batch.number(numberReaders[i](flow));
  for (let i = 0; i < stringReaders.length; i++) batch.string(stringReaders[i](flow));
  for (let i = 0; i < timeReaders.length; i++) batch.time(timeReaders[i](flow));
  return batch.endRow();
}
