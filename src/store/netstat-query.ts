import { formatEndpoint } from '../decode/format-address.js';
import { TcpState } from '../tcp/tcp-state.js';
import type { DatabaseReader } from './database-reader.js';
import { loadFlows, originOf, walkStateIntervals } from './state-intervals.js';

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
  /** The moment, in epoch nanoseconds; default the capture's last packet. */
  atNs?: bigint;
  /** Include CLOSED endpoints (netstat omits them). */
  all?: boolean;
  /** Send-Q per "flowId:role" at `atNs`, when the caller could compute it (see snapshot). */
  sendQueues?: ReadonlyMap<string, number>;
  /** One host's view: endpoints whose local address is this (as stored: IPv6 in RFC 5952's form). */
  host?: string;
  /** Only endpoints whose local port is this. */
  port?: number;
  /** Only endpoints in this state. */
  state?: TcpState;
  /** Leave out the endpoints whose state is inferred. */
  observedOnly?: boolean;
}

/**
 * What `netstat -tan` would have listed at `atNs` on every observed host: each
 * endpoint's state from its last transition at or before that time (TIME_WAIT
 * expiring by the configured 2×MSL), plus LISTEN lines for ports seen answering
 * SYNs. At or after the last packet an evicted flow's states are inferred: the
 * tracker stopped following it. Without `atNs`, at the last packet.
 */
export function netstatAt(reader: DatabaseReader, query: NetstatQuery = {}): NetstatEntry[] {
  const lastNs = reader.span().last_ns;
  const atNs = query.atNs ?? lastNs ?? 0n;
  const atEnd = lastNs !== null && atNs >= lastNs;
  const at = Number(atNs - originOf(reader));
  const entries: NetstatEntry[] = [];
  const flows = loadFlows(reader, atNs);
  // Compared with the stored values, never with formatted text.
  const wanted = (ip: string, port: number, state: TcpState, inferred: boolean): boolean =>
    (query.host === undefined || ip === query.host) &&
    (query.port === undefined || port === query.port) &&
    (query.state === undefined || state === query.state) &&
    !(query.observedOnly && inferred);
  walkStateIntervals(reader, flows, atNs, {
    endpoint(flow, server, from, until, state, inferredThen) {
      if (at < from || at >= until || (state === TcpState.CLOSED && !query.all)) return;
      const id = flows.id[flow];
      const [localIp, localPort, remoteIp, remotePort] = server
        ? [flows.serverIp[flow], flows.serverPort[flow], flows.clientIp[flow], flows.clientPort[flow]]
        : [flows.clientIp[flow], flows.clientPort[flow], flows.serverIp[flow], flows.serverPort[flow]];
      const inferred = inferredThen || (flows.evicted[flow] && atEnd);
      if (!wanted(localIp, localPort, state, inferred)) return;
      const unacked = server ? flows.serverUnacked[flow] : flows.clientUnacked[flow];
      entries.push({
        proto: flows.ipVersion[flow] === 6 ? 'tcp6' : 'tcp',
        local: formatEndpoint(localIp, localPort),
        remote: formatEndpoint(remoteIp, remotePort),
        state,
        flow: id,
        inferred,
        sendQ: query.sendQueues?.get(`${id}:${server ? 'server' : 'client'}`) ?? (atEnd ? unacked : null),
      });
    },
    listener(listener) {
      if (!wanted(listener.ip, listener.port, TcpState.LISTEN, true)) return;
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
    },
  });
  return entries;
}
