import type { FindingRow, FlowRow, TransitionRow } from '../store/database-reader.js';
import { FIN_SENT_STATES, PEER_FIN_TAKEN_STATES, type TcpState, WAITING_STATES } from '../tcp/tcp-state.js';
import { formatEndpoint } from '../decode/format-address.js';
import { TcpFlag } from '../decode/tcp-segment.js';
import { formatTable, terminalText } from './format-table.js';
import { formatOffset, formatTimestamp } from './format-time.js';

/** One captured segment of a flow with both endpoints' states after it. */
export interface LadderStep {
  tsNs: bigint;
  captureId: number;
  frame: number;
  fromClient: boolean;
  flags: string;
  /** Relative to the sender's initial sequence number (the receiver's for ack). */
  relativeSeq: number;
  relativeAck: number | null;
  length: number;
  window: number;
  clientState: TcpState;
  serverState: TcpState;
  /** The state was inferred (the stored transition into it says so), not seen. */
  clientInferred: boolean;
  serverInferred: boolean;
  /** Sends nothing new: its sequence space (data, SYN, FIN) was all sent before. */
  retransmission: boolean;
}

/** One segment of a flow as the tracker saw it during a replay, with both endpoints' states after it. */
export interface SegmentSeen {
  tsNs: bigint;
  captureId: number;
  frame: number;
  fromClient: boolean;
  /** The TCP flags field. */
  flags: number;
  seq: number;
  ack: number;
  length: number;
  window: number;
  clientState: TcpState;
  serverState: TcpState;
}

/**
 * The ladder of one flow: its segments with sequence numbers relative to each
 * side's first, and the states after each segment as finally reconstructed. A
 * FIN's effect at its receiver is recorded at the FIN's frame once later
 * segments confirm it arrived, which the replay only learns afterwards, so the
 * stored transitions settle the states.
 */
export function ladderSteps(segments: readonly SegmentSeen[], transitions: readonly TransitionRow[]): LadderStep[] {
  let clientBase: number | undefined;
  let serverBase: number | undefined;
  // How far each side's sequence space has been sent, relative to its first.
  const sentTo = { client: -1, server: -1 };
  const steps = segments.map((s): LadderStep => {
    if (s.fromClient) clientBase ??= s.seq;
    else serverBase ??= s.seq;
    const ownBase = (s.fromClient ? clientBase : serverBase) as number;
    const peerBase = s.fromClient ? serverBase : clientBase;
    const relativeSeq = (s.seq - ownBase) >>> 0;
    const occupies = s.length + (s.flags & TcpFlag.SYN ? 1 : 0) + (s.flags & TcpFlag.FIN ? 1 : 0);
    const side = s.fromClient ? 'client' : 'server';
    const retransmission = occupies > 0 && relativeSeq + occupies <= sentTo[side];
    sentTo[side] = Math.max(sentTo[side], relativeSeq + occupies);
    return {
      tsNs: s.tsNs,
      captureId: s.captureId,
      frame: s.frame,
      fromClient: s.fromClient,
      flags: flagNames(s.flags),
      relativeSeq,
      relativeAck: s.flags & TcpFlag.ACK && peerBase !== undefined ? (s.ack - peerBase) >>> 0 : null,
      length: s.length,
      window: s.window,
      clientState: s.clientState,
      serverState: s.serverState,
      clientInferred: false,
      serverInferred: false,
      retransmission,
    };
  });
  for (const role of ['client', 'server'] as const) {
    const own = transitions.filter((t) => t.endpoint === role);
    let next = 0;
    let state = own[0]?.from_state;
    let inferred = false;
    if (state === undefined) continue;
    for (const step of steps) {
      while (next < own.length && notAfter(own[next], step)) {
        state = own[next].to_state;
        inferred = own[next++].inferred === 1;
      }
      if (role === 'client') [step.clientState, step.clientInferred] = [state, inferred];
      else [step.serverState, step.serverInferred] = [state, inferred];
    }
  }
  return steps;
}

function notAfter(t: TransitionRow, step: LadderStep): boolean {
  if (t.ts_ns !== step.tsNs) return t.ts_ns < step.tsNs;
  return t.frame === null || t.capture_id !== step.captureId || t.frame <= step.frame;
}

const FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [0x002, 'SYN'],
  [0x001, 'FIN'],
  [0x004, 'RST'],
  [0x008, 'PSH'],
  [0x010, 'ACK'],
  [0x020, 'URG'],
  [0x040, 'ECE'],
  [0x080, 'CWR'],
  [0x100, 'AE'],
];

/** "SYN,ACK" from the flags field. */
export function flagNames(flags: number): string {
  return (
    FLAG_NAMES.filter(([bit]) => flags & bit)
      .map(([, name]) => name)
      .join(',') || '-'
  );
}

function header(flow: FlowRow): string[] {
  const client = formatEndpoint(flow.client_ip, flow.client_port);
  const server = formatEndpoint(flow.server_ip, flow.server_port);
  const lines = [
    `flow ${flow.id}: ${client} → ${server} (IPv${flow.ip_version}${flow.instance > 1 ? `, instance ${flow.instance} on this 4-tuple` : ''})`,
    `  ${formatTimestamp(flow.first_ns)} … ${formatTimestamp(flow.last_ns)}, frames ${flow.first_frame}–${flow.last_frame}`,
    `  client ${flow.client_packets} packets ${flow.client_bytes} bytes, ends ${flow.client_state}${flow.client_state_inferred ? ' (inferred)' : ''}; ` +
      `server ${flow.server_packets} packets ${flow.server_bytes} bytes, ends ${flow.server_state}${flow.server_state_inferred ? ' (inferred)' : ''}`,
  ];
  const notes: string[] = [];
  if (flow.tunnel !== null)
    notes.push(`inside ${flow.tunnel} ${flow.tunnel_endpoints}${flow.tunnel_id !== null ? ` (id ${flow.tunnel_id})` : ''}`);
  if (flow.roles_guessed) notes.push('roles guessed from the ports (no SYN seen)');
  if (flow.closed_first_by) notes.push(`${flow.closed_first_by} closed first with ${flow.close_kind}`);
  if (flow.conn_state) notes.push(`Zeek conn_state ${flow.conn_state}, history ${flow.history}`);
  if (notes.length > 0) lines.push(`  ${notes.join('; ')}`);
  return lines;
}

/**
 * The connection as a ladder: every segment, the states after it (`~` marks a state
 * inferred, not seen), findings at their frame; below, each inferred transition with
 * its evidence (the stored cause).
 */
export function formatLadder(
  flow: FlowRow,
  steps: readonly LadderStep[],
  findings: readonly FindingRow[],
  transitions: readonly TransitionRow[] = [],
): string {
  const byFrame = new Map<string, string[]>();
  for (const f of findings) {
    if (f.frame === null) continue;
    const key = `${f.capture_id}:${f.frame}`;
    byFrame.set(key, [...(byFrame.get(key) ?? []), `${f.kind}`]);
  }
  const rows = steps.map((s) => [
    formatTimestamp(s.tsNs).slice(11, 29),
    formatOffset(s.tsNs - flow.first_ns),
    s.frame,
    s.fromClient ? 'client → server' : 'client ← server',
    s.flags,
    s.relativeSeq,
    s.relativeAck === null ? '' : s.relativeAck,
    s.length,
    s.window,
    `${s.clientState}${s.clientInferred ? '~' : ''}`,
    `${s.serverState}${s.serverInferred ? '~' : ''}`,
    (byFrame.get(`${s.captureId}:${s.frame}`) ?? []).join(', '),
  ]);
  const table = formatTable(
    ['time (UTC)', 'relative', 'frame', 'direction', 'flags', 'seq', 'ack', 'len', 'win', 'client', 'server', 'findings'],
    rows,
    {
      rightAligned: new Set([2, 5, 6, 7, 8]),
    },
  );
  const unframed = findings.filter((f) => f.frame === null).map((f) => `  ${f.severity} ${f.kind}: ${f.message}`);
  const inferred = transitions
    .filter((t) => t.inferred)
    .map((t) => `  ~ ${t.endpoint} ${t.from_state} → ${t.to_state}${t.frame === null ? '' : ` at frame ${t.frame}`}, inferred: ${t.cause}`);
  for (const role of ['client', 'server'] as const) {
    const last = transitions.filter((t) => t.endpoint === role).at(-1);
    const endInferred = role === 'client' ? flow.client_state_inferred : flow.server_state_inferred;
    if (endInferred && last?.inferred !== 1)
      inferred.push(`  ~ ${role} ends ${flow[`${role}_state`]}, inferred: ${endStateBasis(flow, role)}`);
  }
  const legend =
    inferred.length > 0 || steps.some((s) => s.clientInferred || s.serverInferred)
      ? ['', '  ~: state inferred, not seen in the capture; the evidence:', ...inferred]
      : [];
  // The header and the findings' lines hold the database's text too.
  return terminalText([...header(flow), '', table, ...legend, ...(unframed.length > 0 ? ['', ...unframed] : [])].join('\n'));
}

/**
 * Why an end state reached by a seen move is still inferred (docs/reconstruction.md, "Imperfect
 * captures"), from what the flow's row holds.
 */
function endStateBasis(flow: FlowRow, role: 'client' | 'server'): string {
  if (flow.evicted) return 'the connection was evicted before the capture ended; what it did after that is not known';
  if (flow.capture_loss > 0)
    return `the capture lost segments of this connection (${flow.capture_loss} gaps shown by ACKs); a lost one could have moved it`;
  if (flow.client_packets === 0 || flow.server_packets === 0) return 'only one direction of this connection was captured';
  const peerState = role === 'client' ? flow.server_state : flow.client_state;
  if (FIN_SENT_STATES.has(peerState) && !PEER_FIN_TAKEN_STATES.has(flow[`${role}_state`]))
    return 'its peer sent a FIN that nothing shows arriving: data before it was missing (its duplicate ACKs), or it resent instead of acknowledging it';
  if (WAITING_STATES.has(flow[`${role}_state`]))
    return 'it waits on the ACK of its SYN or FIN; none was captured, and nothing after it shows it still waited (no resend, no segment of its peer): the capture may have missed the answer';
  return 'the capture lost segments of other connections; one of this connection could have been lost unseen';
}

/** Without the capture, the timeline is the recorded transitions. */
export function formatTransitionTimeline(
  flow: FlowRow,
  transitions: readonly TransitionRow[],
  findings: readonly FindingRow[],
  why: string,
): string {
  const rows = transitions.map((t) => [
    formatTimestamp(t.ts_ns).slice(11, 29),
    formatOffset(t.ts_ns - flow.first_ns),
    t.frame ?? '',
    t.endpoint,
    `${t.from_state} → ${t.to_state}`,
    t.cause,
    t.inferred ? 'inferred' : '',
  ]);
  const table = formatTable(['time (UTC)', 'relative', 'frame', 'endpoint', 'transition', 'cause', ''], rows, {
    rightAligned: new Set([2]),
  });
  const notes = findings.map((f) => `  ${f.severity} ${f.kind}${f.frame !== null ? ` (frame ${f.frame})` : ''}: ${f.message}`);
  return terminalText(
    [
      ...header(flow),
      `  (${why}: showing the recorded transitions, not every segment)`,
      '',
      table,
      ...(notes.length > 0 ? ['', ...notes] : []),
    ].join('\n'),
  );
}
