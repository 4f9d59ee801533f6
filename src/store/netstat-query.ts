import { formatEndpoint } from '../decode/format-address.js';
import { TcpState } from '../tcp/tcp-state.js';
import type { Role } from '../track/records.js';
import type { DatabaseReader, FlowRow } from './database-reader.js';

/** One line of the netstat view: an endpoint as its own host would list it. */
export interface NetstatEntry {
  proto: 'tcp' | 'tcp6';
  local: string;
  remote: string;
  state: TcpState;
  flow: number;
  inferred: boolean;
  /** Sequence space sent and not yet acknowledged at that time, when known. */
  sendQ: number | null;
}

export interface NetstatQuery {
  atNs: bigint;
  /** Include CLOSED endpoints (netstat omits them). */
  all?: boolean;
  /** Send-Q per "flowId:role" at `atNs`, when the caller could compute it (see snapshot). */
  sendQueues?: ReadonlyMap<string, number>;
}

/**
 * What `netstat -tan` would have listed at `atNs` on every observed host: each
 * endpoint's state from its last transition at or before that time (TIME_WAIT
 * expiring by the configured 2×MSL when the time lies beyond the capture), plus
 * LISTEN lines for ports seen answering SYNs.
 */
export function netstatAt(reader: DatabaseReader, query: NetstatQuery): NetstatEntry[] {
  const { atNs } = query;
  const timeWaitNs = BigInt(Math.round(Number(reader.meta('time_wait_seconds') ?? '60') * 1e9));
  const lastNs = reader.span().last_ns;
  const atEnd = lastNs !== null && atNs >= lastNs;
  const flows = new Map<number, FlowRow>(reader.flows('first_ns <= ?', atNs).map((f) => [f.id, f]));
  const states = new Map<string, { state: TcpState; inferred: boolean; sinceNs: bigint }>();
  for (const row of reader.statesAt(atNs)) states.set(`${row.flow_id}:${row.endpoint}`, { state: row.state, inferred: row.inferred === 1, sinceNs: row.since_ns });
  const entries: NetstatEntry[] = [];
  for (const flow of flows.values()) {
    for (const role of ['client', 'server'] as const satisfies readonly Role[]) {
      const known = states.get(`${flow.id}:${role}`);
      let state: TcpState = known?.state ?? TcpState.UNKNOWN;
      let inferred = known?.inferred ?? true;
      // The tracker expired TIME_WAIT up to the last packet; beyond it the clock still runs.
      if (state === TcpState.TIME_WAIT && known && known.sinceNs + timeWaitNs <= atNs) {
        state = TcpState.CLOSED;
        inferred = true;
      }
      if (flow.evicted === 1 && atEnd) inferred = true;
      if (state === TcpState.CLOSED && !query.all) continue;
      const [localIp, localPort, remoteIp, remotePort] = role === 'client' ? [flow.client_ip, flow.client_port, flow.server_ip, flow.server_port] : [flow.server_ip, flow.server_port, flow.client_ip, flow.client_port];
      const sendQ = query.sendQueues?.get(`${flow.id}:${role}`) ?? (atEnd ? (role === 'client' ? flow.client_unacked : flow.server_unacked) : null);
      entries.push({ proto: flow.ip_version === 6 ? 'tcp6' : 'tcp', local: formatEndpoint(localIp, localPort), remote: formatEndpoint(remoteIp, remotePort), state, flow: flow.id, inferred, sendQ });
    }
  }
  for (const listener of reader.listeners()) {
    if (listener.first_ns > atNs) continue;
    const v6 = listener.ip_version === 6;
    entries.push({
      proto: v6 ? 'tcp6' : 'tcp',
      local: formatEndpoint(listener.ip, listener.port),
      remote: v6 ? '[::]:*' : '0.0.0.0:*',
      state: TcpState.LISTEN,
      flow: listener.first_flow_id,
      inferred: true,
      sendQ: 0,
    });
  }
  return entries;
}
