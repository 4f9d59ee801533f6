import { TcpState } from '../tcp/tcp-state.js';
import { checkRawRow, type DatabaseReader, type ListenerRow } from './database-reader.js';
import { decodeTransitionCode } from './transition-code.js';

/**
 * The stored flows an interval walk visited, column by column (one entry a flow,
 * in id order): 379,000 flows as objects cost more than the walk itself.
 * Times are nanoseconds after `origin` as JS numbers, the tracker's convention
 * (track/capture-time.ts).
 */
export interface StoredFlows {
  origin: bigint;
  /** The first packet's time. */
  first: number[];
  id: number[];
  ipVersion: number[];
  clientIp: string[];
  clientPort: number[];
  serverIp: string[];
  serverPort: number[];
  clientUnacked: number[];
  serverUnacked: number[];
  evicted: boolean[];
  /** Segments each end sent in the whole flow: an end that sent none and never changed state never existed (walkStateIntervals). */
  clientPackets: number[];
  serverPackets: number[];
}

/** The two reads of a walk (`:origin` the first packet's time, `:until` the last moment walked), shown beside what they draw. */
export const FLOWS_SQL = `SELECT id, first_ns - :origin, ip_version, client_ip, client_port, server_ip, server_port, client_unacked, server_unacked, evicted, client_packets, server_packets
FROM flows WHERE first_ns <= :until ORDER BY id`;
export const TRANSITIONS_SQL = `SELECT flow_id, ts_ns - :origin, code FROM transition_rows WHERE ts_ns <= :until ORDER BY flow_id, id`;

/** FLOWS_SQL's first columns as the table names them (null: computed), for checking each row as it is read. */
const FLOW_COLUMNS = [
  'id',
  null,
  'ip_version',
  'client_ip',
  'client_port',
  'server_ip',
  'server_port',
  'client_unacked',
  'server_unacked',
  'evicted',
];

/** The flows that began by `untilNs`, for walkStateIntervals. */
export function loadFlows(reader: DatabaseReader, untilNs: bigint): StoredFlows {
  const origin = originOf(reader);
  const flows: StoredFlows = {
    origin,
    first: [],
    id: [],
    ipVersion: [],
    clientIp: [],
    clientPort: [],
    serverIp: [],
    serverPort: [],
    clientUnacked: [],
    serverUnacked: [],
    evicted: [],
    clientPackets: [],
    serverPackets: [],
  };
  const params = { origin, until: untilNs };
  const flowRows = reader.db.prepare(FLOWS_SQL).raw(true).iterate(params) as IterableIterator<
    [number, number, number, string, number, string, number, number, number, number, number, number]
  >;
  for (const row of flowRows) {
    checkRawRow(reader.path, 'flows', FLOW_COLUMNS, row);
    flows.id.push(row[0]);
    flows.first.push(row[1]);
    flows.ipVersion.push(row[2]);
    flows.clientIp.push(row[3]);
    flows.clientPort.push(row[4]);
    flows.serverIp.push(row[5]);
    flows.serverPort.push(row[6]);
    flows.clientUnacked.push(row[7]);
    flows.serverUnacked.push(row[8]);
    flows.evicted.push(row[9] === 1);
    flows.clientPackets.push(row[10]);
    flows.serverPackets.push(row[11]);
  }

  return flows;
}

/** What an interval walk hands over: every span of time an endpoint spent in one state, and every listener. */
export interface StateIntervalVisitor {
  /**
   * Endpoint `server` of flow number `flow` (an index into StoredFlows) was in
   * `state` from `from` until just before `until` (Infinity: still at the last
   * time walked).
   */
  endpoint(flow: number, server: boolean, from: number, until: number, state: TcpState, inferred: boolean): void;
  /** A port seen answering SYNs, listening from `from` on. */
  listener(row: ListenerRow, from: number): void;
}

/** Nanoseconds an endpoint stays in TIME_WAIT, as the database was made with. */
export function timeWaitNsOf(reader: DatabaseReader): number {
  return Math.round(Number(reader.meta('time_wait_seconds') ?? '60') * 1e9);
}

/** The capture's first packet time: the origin the walk's relative times count from. */
export function originOf(reader: DatabaseReader): bigint {
  return reader.span().first_ns ?? 0n;
}

/**
 * Every state of every endpoint of `flows` up to `untilNs`, as intervals: the one reading
 * of the transitions behind `netstat --at` (the interval holding one moment) and
 * `timeline` (the intervals holding each of many), so the two cannot disagree.
 *
 * The rules: a flow's endpoints exist from its first packet, UNKNOWN until their
 * first transition, except an end that never changed state and sent nothing (the
 * server of an unanswered SYN): nothing shows a socket there (the kernel's `ss` lists
 * none), so it is not an endpoint at all; each transition starts a new state; a TIME_WAIT runs out
 * after the configured 2×MSL into an inferred CLOSED (the tracker wrote that
 * expiry up to the last packet; beyond it the clock still runs). One pass in
 * the table's order (flow, id) with no sort: each endpoint's transitions are in
 * time order there.
 */
export function walkStateIntervals(reader: DatabaseReader, flows: StoredFlows, untilNs: bigint, visit: StateIntervalVisitor): void {
  const { origin, first } = flows;
  const timeWaitNs = timeWaitNsOf(reader);
  const params = { origin, until: untilNs };
  const emit = (flow: number, server: boolean, from: number, until: number, state: TcpState, inferred: boolean): void => {
    if (until <= from) return;
    const expires = from + timeWaitNs;
    if (state === TcpState.TIME_WAIT && expires < until) {
      visit.endpoint(flow, server, from, expires, state, inferred);
      visit.endpoint(flow, server, expires, until, TcpState.CLOSED, true);
    } else visit.endpoint(flow, server, from, until, state, inferred);
  };
  // The endpoint being walked on each side of the current flow: since when, in which state.
  const since = [0, 0];
  const state: TcpState[] = [TcpState.UNKNOWN, TcpState.UNKNOWN];
  const inferred = [true, true];
  const moved = [false, false];
  let flow = -1;
  const closeFlow = (): void => {
    if (flow < 0) return;
    for (const side of [0, 1]) {
      const sent = side === 1 ? flows.serverPackets[flow] : flows.clientPackets[flow];
      if (moved[side] || sent > 0) emit(flow, side === 1, since[side], Infinity, state[side], inferred[side]);
    }
  };
  const openFlow = (index: number): void => {
    flow = index;
    since[0] = since[1] = first[index];
    state[0] = state[1] = TcpState.UNKNOWN;
    inferred[0] = inferred[1] = true;
    moved[0] = moved[1] = false;
  };
  const transitionRows = reader.db.prepare(TRANSITIONS_SQL).raw(true).iterate(params) as IterableIterator<[number, number, number]>;
  let next = 0;
  for (const [flowId, ts, code] of transitionRows) {
    // Only what a hand-made database can get wrong pays for the full check.
    if (typeof flowId !== 'number' || typeof code !== 'number')
      checkRawRow(reader.path, 'transition_rows', ['flow_id', null, 'code'], [flowId, ts, code]);
    if (flow < 0 || flows.id[flow] !== flowId) {
      closeFlow();
      // Flows without transitions still hold two UNKNOWN endpoints.
      while (next < flows.id.length && flows.id[next] < flowId) {
        openFlow(next++);
        closeFlow();
      }
      if (next === flows.id.length || flows.id[next] !== flowId) {
        flow = -1;
        continue;
      }
      openFlow(next++);
    }
    const t = decodeTransitionCode(code);
    const side = t.server ? 1 : 0;
    emit(flow, t.server, since[side], ts, state[side], inferred[side]);
    since[side] = Math.max(since[side], ts);
    state[side] = t.toState;
    inferred[side] = t.inferred;
    moved[side] = true;
  }
  closeFlow();
  while (next < flows.id.length) {
    openFlow(next++);
    closeFlow();
  }

  for (const listener of reader.listeners()) {
    if (listener.first_ns <= untilNs) visit.listener(listener, Number(listener.first_ns - origin));
  }
}
