import { formatEndpoint } from '../decode/format-address.js';
import { TcpState } from '../tcp/tcp-state.js';
import type { DatabaseReader } from './database-reader.js';

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

/** Columns of one flow with both endpoints' states at the moment asked, as the query returns them. */
type StateRow = [
  id: number,
  ipVersion: number,
  clientIp: string,
  clientPort: number,
  serverIp: string,
  serverPort: number,
  clientUnacked: number,
  serverUnacked: number,
  evicted: number,
  clientState: TcpState | null,
  clientInferred: number | null,
  clientExpired: number | null,
  serverState: TcpState | null,
  serverInferred: number | null,
  serverExpired: number | null,
];

const FLOW_COLUMNS =
  'f.id, f.ip_version, f.client_ip, f.client_port, f.server_ip, f.server_port, f.client_unacked, f.server_unacked, f.evicted';

/**
 * At or after the last packet the flows table holds every end state: only a
 * TIME_WAIT may still run out, which its entry time tells.
 */
const AT_END = `
SELECT ${FLOW_COLUMNS},
  f.client_state, f.client_state_inferred,
  f.client_state = 'TIME_WAIT' AND (SELECT MAX(t.ts_ns) FROM transitions t WHERE t.flow_id = f.id AND t.endpoint = 'client' AND t.to_state = 'TIME_WAIT') + :tw <= :at,
  f.server_state, f.server_state_inferred,
  f.server_state = 'TIME_WAIT' AND (SELECT MAX(t.ts_ns) FROM transitions t WHERE t.flow_id = f.id AND t.endpoint = 'server' AND t.to_state = 'TIME_WAIT') + :tw <= :at
FROM flows f`;

/** Before the end: each endpoint's last transition at or before the moment. */
const BEFORE_END = `
WITH latest AS (
  SELECT flow_id, endpoint, to_state, inferred, ts_ns,
         ROW_NUMBER() OVER (PARTITION BY flow_id, endpoint ORDER BY ts_ns DESC, id DESC) AS r
  FROM transitions WHERE ts_ns <= :at)
SELECT ${FLOW_COLUMNS},
  c.to_state, c.inferred, c.to_state = 'TIME_WAIT' AND c.ts_ns + :tw <= :at,
  s.to_state, s.inferred, s.to_state = 'TIME_WAIT' AND s.ts_ns + :tw <= :at
FROM flows f
LEFT JOIN latest c ON c.flow_id = f.id AND c.endpoint = 'client' AND c.r = 1
LEFT JOIN latest s ON s.flow_id = f.id AND s.endpoint = 'server' AND s.r = 1
WHERE f.first_ns <= :at`;

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
  const rows = reader.db
    .prepare(atEnd ? AT_END : BEFORE_END)
    .raw(true)
    .all({ at: atNs, tw: timeWaitNs }) as StateRow[];
  const entries: NetstatEntry[] = [];
  for (const row of rows) {
    const [id, ipVersion, clientIp, clientPort, serverIp, serverPort, clientUnacked, serverUnacked, evicted] = row;
    for (const client of [true, false]) {
      const [known, knownInferred, expired] = client ? [row[9], row[10], row[11]] : [row[12], row[13], row[14]];
      // An endpoint with no transition yet has shown nothing: UNKNOWN.
      let state: TcpState = known ?? TcpState.UNKNOWN;
      let inferred = state === TcpState.UNKNOWN || knownInferred === 1 || (evicted === 1 && atEnd);
      // The tracker expired TIME_WAIT up to the last packet; beyond it the clock still runs.
      if (expired === 1) {
        state = TcpState.CLOSED;
        inferred = true;
      }
      if (state === TcpState.CLOSED && !query.all) continue;
      const role = client ? 'client' : 'server';
      const [localIp, localPort, remoteIp, remotePort] = client
        ? [clientIp, clientPort, serverIp, serverPort]
        : [serverIp, serverPort, clientIp, clientPort];
      const sendQ = query.sendQueues?.get(`${id}:${role}`) ?? (atEnd ? (client ? clientUnacked : serverUnacked) : null);
      entries.push({
        proto: ipVersion === 6 ? 'tcp6' : 'tcp',
        local: formatEndpoint(localIp, localPort),
        remote: formatEndpoint(remoteIp, remotePort),
        state,
        flow: id,
        inferred,
        sendQ,
      });
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
