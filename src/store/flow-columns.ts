import type { TcpState } from '../tcp/tcp-state.js';
import type { CloseKind, FlowRecord, Role } from '../track/records.js';
import type { RowBatchBuilder } from './row-batch.js';

/**
 * The flows table, declared once: each column's name, SQL type, how it is read
 * from a FlowRecord, and (per group of columns documented together) its sentence
 * in docs/schema.md. The DDL, the writer's row, the kinds the row crosses to the
 * writer thread in, the reader's FlowRow type and the documentation are all made
 * from this list, so a column cannot be written in one place and read in another.
 */

/** How a value crosses to the writer thread (row-batch.ts): number, string, or nanosecond time. */
type Kind = 'n' | 's' | 't';

interface Column<Name extends string, Value> {
  readonly name: Name;
  readonly sql: string;
  readonly kind: Kind;
  readonly read: (flow: FlowRecord) => Value;
}

const column =
  (sql: string, kind: Kind) =>
  <Name extends string, Value>(name: Name, read: (flow: FlowRecord) => Value): Column<Name, Value> => ({ name, sql, kind, read });

const integer = column('INTEGER NOT NULL', 'n') as <N extends string>(name: N, read: (flow: FlowRecord) => number) => Column<N, number>;
const integerOrNull = column('INTEGER', 'n') as <N extends string>(
  name: N,
  read: (flow: FlowRecord) => number | null,
) => Column<N, number | null>;
const time = column('INTEGER NOT NULL', 't') as <N extends string>(name: N, read: (flow: FlowRecord) => bigint) => Column<N, bigint>;
const text = column('TEXT NOT NULL', 's') as <N extends string, V extends string>(name: N, read: (flow: FlowRecord) => V) => Column<N, V>;
const textOrNull = column('TEXT', 's') as <N extends string, V extends string | null>(
  name: N,
  read: (flow: FlowRecord) => V,
) => Column<N, V>;
/** Booleans are 0/1 integers. */
const flag = <N extends string>(name: N, read: (flow: FlowRecord) => boolean): Column<N, number> =>
  integer(name, (flow) => (read(flow) ? 1 : 0));

const group = <Columns extends ReadonlyArray<Column<string, unknown>>>(doc: string, ...columns: Columns) => ({ doc, columns });

export const FLOW_COLUMN_GROUPS = [
  group('flow id, in order of first packet', { ...integer('id', (f) => f.id), sql: 'INTEGER PRIMARY KEY' }),
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
    'times one side acknowledged data the capture never showed',
    integer('capture_loss', (f) => f.captureLossEvents),
  ),
  group(
    'how much such data there was',
    integer('missed_bytes', (f) => f.client.missedBytes + f.server.missedBytes),
  ),
  group(
    'dropped from memory by the half-open bound before it ended (SYN flood); its end state is the one it had then',
    flag('evicted', (f) => f.evicted),
  ),
  group(
    'where its first and last segments are',
    integer('first_capture', (f) => f.firstSource + 1),
    integer('first_frame', (f) => f.firstFrame),
    integer('last_capture', (f) => f.lastSource + 1),
    integer('last_frame', (f) => f.lastFrame),
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
] as const;

type FlowColumn = (typeof FLOW_COLUMN_GROUPS)[number]['columns'][number];

/** The flows table's columns, in table order. */
export const FLOW_COLUMNS: readonly FlowColumn[] = FLOW_COLUMN_GROUPS.flatMap((g): readonly FlowColumn[] => g.columns);

/** A row of `flows` as the reader returns it: one property per column, typed as written. */
export type FlowRow = { [C in FlowColumn as C['name']]: ReturnType<C['read']> };

/** The kinds of the flows row, in order, as RowBatch spells them. */
export const FLOW_ROW_KINDS = FLOW_COLUMNS.map((c) => c.kind).join('');

export const CREATE_FLOWS = `CREATE TABLE flows (\n${FLOW_COLUMNS.map((c) => `  ${c.name} ${c.sql}`).join(',\n')}\n);`;

// A batch keeps numbers, strings and times in three arrays, each in column order: a row is written
// kind by kind, one loop each: two thirds of the time of one loop asking each column its kind.
const numberReaders = FLOW_COLUMNS.filter((c) => c.kind === 'n').map((c) => c.read as (flow: FlowRecord) => number | null);
const stringReaders = FLOW_COLUMNS.filter((c) => c.kind === 's').map((c) => c.read as (flow: FlowRecord) => string | null);
const timeReaders = FLOW_COLUMNS.filter((c) => c.kind === 't').map((c) => c.read as (flow: FlowRecord) => bigint);

/** Writes a flow's row into the batch; true when the batch is full. */
export function writeFlowRow(batch: RowBatchBuilder, flow: FlowRecord): boolean {
  for (let i = 0; i < numberReaders.length; i++) batch.number(numberReaders[i](flow));
  for (let i = 0; i < stringReaders.length; i++) batch.string(stringReaders[i](flow));
  for (let i = 0; i < timeReaders.length; i++) batch.time(timeReaders[i](flow));
  return batch.endRow();
}
