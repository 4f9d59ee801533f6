import { SEVERITY_ORDER } from '../store/database-reader.js';

/**
 * The canned reports: each is plain SQL over the documented tables, printed
 * with `--show-sql` so users can start their own queries from it.
 */
export interface CannedReport {
  name: string;
  title: string;
  sql: string;
}

const ENDPOINT_ADDRESS = `CASE t.endpoint WHEN 'server' THEN f.server_ip || ':' || f.server_port ELSE f.client_ip || ':' || f.client_port END`;

export const CANNED_REPORTS: readonly CannedReport[] = [
  {
    name: 'summary',
    title: 'Findings by kind, worst first',
    sql: `SELECT kind, severity,
       COUNT(*) AS findings,
       SUM(COALESCE(json_extract(details, '$.count'), 1)) AS connections,
       MIN(message) AS example
FROM findings
GROUP BY kind, severity
ORDER BY ${SEVERITY_ORDER}, connections DESC`,
  },
  {
    name: 'close-wait',
    title: 'Endpoints that sat in CLOSE_WAIT (the peer closed, the application did not)',
    sql: `SELECT CASE t.endpoint WHEN 'server' THEN f.server_ip || ':' || f.server_port
                         ELSE f.client_ip || ' -> ' || f.server_ip || ':' || f.server_port END AS endpoint,
       t.endpoint AS side,
       COUNT(*) AS connections,
       SUM(e.ts_ns IS NULL) AS still_at_end,
       ROUND(MAX(COALESCE(e.ts_ns, c.last_ns) - t.ts_ns) / 1e9, 3) AS longest_s,
       MIN(t.frame) AS first_frame
FROM transitions t
JOIN flows f ON f.id = t.flow_id
CROSS JOIN (SELECT MAX(last_ns) AS last_ns FROM captures) c
LEFT JOIN transitions e ON e.flow_id = t.flow_id AND e.endpoint = t.endpoint AND e.from_state = 'CLOSE_WAIT'
WHERE t.to_state = 'CLOSE_WAIT'
GROUP BY 1, 2
ORDER BY connections DESC, longest_s DESC`,
  },
  {
    name: 'time-wait',
    title: 'Who accumulates TIME_WAIT: per host and side, with the peak held at once',
    sql: `SELECT CASE t.endpoint WHEN 'server' THEN f.server_ip ELSE f.client_ip END AS host,
       t.endpoint AS side,
       COUNT(*) AS time_waits,
       SUM(f.closed_first_by = t.endpoint) AS closed_first,
       ROUND(COUNT(*) / MAX((SELECT (MAX(last_ns) - MIN(first_ns)) / 1e9 FROM captures), 1e-9), 2) AS per_second,
       (SELECT json_extract(x.details, '$.peak') FROM findings x
         WHERE x.kind = 'time-wait-pressure' AND x.host = CASE t.endpoint WHEN 'server' THEN f.server_ip ELSE f.client_ip END
           AND x.endpoint = t.endpoint) AS peak_at_once
FROM transitions t
JOIN flows f ON f.id = t.flow_id
WHERE t.to_state = 'TIME_WAIT'
GROUP BY 1, 2
ORDER BY time_waits DESC`,
  },
  {
    name: 'half-open',
    title: 'Unfinished handshakes per listener: SYN_RECV at the end, and SYNs nobody answered',
    sql: `SELECT server_ip || ':' || server_port AS listener,
       SUM(server_state = 'SYN_RECV') AS syn_recv,
       SUM(client_state = 'SYN_SENT' AND server_state IN ('UNKNOWN', 'CLOSED')) AS unanswered_syns,
       COUNT(DISTINCT client_ip) AS sources,
       MIN(first_frame) AS first_frame
FROM flows
WHERE server_state = 'SYN_RECV' OR client_state = 'SYN_SENT'
GROUP BY 1
ORDER BY syn_recv + unanswered_syns DESC`,
  },
  {
    name: 'closing',
    title: 'Every transition into CLOSING (FINs crossed)',
    sql: `SELECT t.flow_id AS flow, t.endpoint, ${ENDPOINT_ADDRESS} AS address,
       t.ts_ns, t.frame, t.from_state, t.cause, f.client_state, f.server_state
FROM transitions t
JOIN flows f ON f.id = t.flow_id
WHERE t.to_state = 'CLOSING'
ORDER BY t.ts_ns`,
  },
  {
    name: 'resets',
    title: 'Connections ended by RST, who sent it and what was lost; RSTs ignored as out of window',
    sql: `SELECT f.id AS flow,
       f.client_ip || ':' || f.client_port AS client,
       f.server_ip || ':' || f.server_port AS server,
       COALESCE(f.closed_first_by, 'before the handshake') AS reset_by,
       json_extract(a.details, '$.lost_bytes') AS lost_bytes,
       (SELECT COUNT(*) FROM findings o WHERE o.flow_id = f.id AND o.kind = 'rst-out-of-window') AS ignored_rsts,
       f.last_frame
FROM flows f
LEFT JOIN findings a ON a.flow_id = f.id AND a.kind = 'abortive-close'
WHERE f.close_kind = 'RST'
   OR EXISTS (SELECT 1 FROM findings o WHERE o.flow_id = f.id AND o.kind = 'rst-out-of-window')
ORDER BY f.first_ns`,
  },
  {
    name: 'refused',
    title: 'Connection attempts answered by RST+ACK, per port',
    sql: `SELECT f.server_ip || ':' || f.server_port AS port,
       COUNT(*) AS refused,
       COUNT(DISTINCT f.client_ip) AS clients,
       MIN(f.first_frame) AS first_frame
FROM flows f
WHERE EXISTS (SELECT 1 FROM transitions t
              WHERE t.flow_id = f.id AND t.endpoint = 'client'
                AND t.from_state = 'SYN_SENT' AND t.to_state = 'CLOSED' AND t.event = 'RECV_RST')
GROUP BY 1
ORDER BY refused DESC`,
  },
  {
    name: 'keepalive',
    title: 'Keepalive probes and how the peer answered (ACK alive, RST restarted, nothing gone)',
    sql: `SELECT flow_id AS flow, endpoint, host || ':' || port AS prober,
       json_extract(details, '$.probes') AS probes,
       json_extract(details, '$.acked') AS acked,
       json_extract(details, '$.reset') AS reset,
       json_extract(details, '$.unanswered') AS unanswered,
       frame AS first_probe_frame, severity
FROM findings
WHERE kind = 'keepalive'
ORDER BY ${SEVERITY_ORDER}, ts_ns`,
  },
  {
    name: 'zero-window',
    title: 'Who advertised a zero window, for how long, and the persist probes',
    sql: `SELECT flow_id AS flow, endpoint, host || ':' || port AS receiver,
       json_extract(details, '$.episodes') AS episodes,
       ROUND(json_extract(details, '$.duration_ns') / 1e9, 3) AS zero_window_s,
       json_extract(details, '$.persist_probes') AS persist_probes,
       json_extract(details, '$.open_at_end') AS still_zero_at_end,
       frame AS first_frame
FROM findings
WHERE kind = 'zero-window'
ORDER BY json_extract(details, '$.duration_ns') DESC`,
  },
];

export function cannedReport(name: string): CannedReport | undefined {
  return CANNED_REPORTS.find((r) => r.name === name);
}
