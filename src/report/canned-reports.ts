import { SEVERITY_ORDER } from '../store/database-reader.js';
import type { FindingKind } from '../track/finding-catalogue.js';

/**
 * The canned reports: each is plain SQL over the documented tables, printed
 * with `--show-sql` so users can start their own queries from it.
 */
export interface CannedReport {
  name: string;
  title: string;
  sql: string;
  /** The kinds of finding the report is about (one: its name stands for that code in --fail-on). */
  findings: readonly FindingKind[];
}

/**
 * A number from a finding's details. The SQL of every report is read by SQLite and,
 * over Parquet exports, by DuckDB: json_extract gives SQLite a number and DuckDB JSON,
 * which the CAST makes a number in both.
 */
const detail = (key: string, details = 'details'): string => `CAST(json_extract(${details}, '$.${key}') AS BIGINT)`;

const ENDPOINT_ADDRESS = `CASE t.endpoint WHEN 'server' THEN f.server_ip || ':' || f.server_port ELSE f.client_ip || ':' || f.client_port END`;

export const CANNED_REPORTS: readonly CannedReport[] = [
  {
    name: 'summary',
    findings: [],
    title: 'Findings by kind, worst first',
    sql: `SELECT kind, severity,
       COUNT(*) AS findings,
       SUM(COALESCE(${detail('count')}, 1)) AS connections,
       MIN(message) AS example
FROM findings
GROUP BY kind, severity
ORDER BY ${SEVERITY_ORDER}, connections DESC, kind`,
  },
  {
    name: 'close-wait',
    findings: ['close-wait-leak'],
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
ORDER BY connections DESC, longest_s DESC, 1, 2`,
  },
  {
    name: 'time-wait',
    findings: ['time-wait-pressure'],
    title: 'Who accumulates TIME_WAIT: per host and side, with the peak held at once',
    sql: `SELECT w.host, w.side, w.time_waits, w.closed_first, w.per_second,
       (SELECT ${detail('peak', 'x.details')} FROM findings x
         WHERE x.kind = 'time-wait-pressure' AND x.host = w.host AND x.endpoint = w.side) AS peak_at_once
FROM (SELECT CASE t.endpoint WHEN 'server' THEN f.server_ip ELSE f.client_ip END AS host,
             t.endpoint AS side,
             COUNT(*) AS time_waits,
             SUM(f.closed_first_by = t.endpoint) AS closed_first,
             ROUND(COUNT(*) / (SELECT CASE WHEN MAX(last_ns) > MIN(first_ns) THEN (MAX(last_ns) - MIN(first_ns)) / 1e9 ELSE 1e-9 END FROM captures), 2) AS per_second
      FROM transitions t
      JOIN flows f ON f.id = t.flow_id
      WHERE t.to_state = 'TIME_WAIT'
      GROUP BY 1, 2) w
ORDER BY w.time_waits DESC, w.host, w.side`,
  },
  {
    name: 'half-open',
    findings: ['half-open-flood', 'syn-unanswered'],
    title: 'Unfinished handshakes per listener: SYN_RECV at the end, and SYNs nobody answered',
    sql: `SELECT server_ip || ':' || server_port AS listener,
       SUM(server_state = 'SYN_RECV') AS syn_recv,
       SUM(client_state = 'SYN_SENT' AND server_state IN ('UNKNOWN', 'CLOSED')) AS unanswered_syns,
       COUNT(DISTINCT client_ip) AS sources,
       MIN(first_frame) AS first_frame
FROM flows
WHERE server_state = 'SYN_RECV' OR client_state = 'SYN_SENT'
GROUP BY 1
ORDER BY syn_recv + unanswered_syns DESC, 1`,
  },
  {
    name: 'closing',
    findings: ['simultaneous-close', 'closing-stuck'],
    title: 'Every transition into CLOSING (FINs crossed)',
    sql: `SELECT t.flow_id AS flow, t.endpoint, ${ENDPOINT_ADDRESS} AS address,
       ROUND((t.ts_ns - c.first_ns) / 1e9, 6) AS offset_s, t.frame, t.from_state, t.cause, f.client_state, f.server_state
FROM transitions t
JOIN flows f ON f.id = t.flow_id
CROSS JOIN (SELECT MIN(first_ns) AS first_ns FROM captures) c
WHERE t.to_state = 'CLOSING'
ORDER BY t.ts_ns, t.flow_id, t.endpoint`,
  },
  {
    name: 'resets',
    findings: ['abortive-close', 'rst-out-of-window'],
    title: 'Connections ended by RST, who sent it and what was lost; RSTs ignored as out of window',
    sql: `SELECT f.id AS flow,
       f.client_ip || ':' || f.client_port AS client,
       f.server_ip || ':' || f.server_port AS server,
       COALESCE(f.closed_first_by, 'before the handshake') AS reset_by,
       ${detail('lost_bytes', 'a.details')} AS lost_bytes,
       (SELECT COUNT(*) FROM findings o WHERE o.flow_id = f.id AND o.kind = 'rst-out-of-window') AS ignored_rsts,
       f.last_frame
FROM flows f
LEFT JOIN findings a ON a.flow_id = f.id AND a.kind = 'abortive-close'
WHERE f.close_kind = 'RST'
   OR EXISTS (SELECT 1 FROM findings o WHERE o.flow_id = f.id AND o.kind = 'rst-out-of-window')
ORDER BY f.first_ns, f.id`,
  },
  {
    name: 'refused',
    findings: ['refused'],
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
ORDER BY refused DESC, 1`,
  },
  {
    name: 'keepalive',
    findings: ['keepalive'],
    title: 'Keepalive probes and how the peer answered (ACK alive, RST restarted, nothing gone)',
    sql: `SELECT flow_id AS flow, endpoint, host || ':' || port AS prober,
       ${detail('probes')} AS probes,
       ${detail('acked')} AS acked,
       ${detail('reset')} AS reset,
       ${detail('unanswered')} AS unanswered,
       frame AS first_probe_frame, severity
FROM findings
WHERE kind = 'keepalive'
ORDER BY ${SEVERITY_ORDER}, ts_ns, flow_id, endpoint`,
  },
  {
    name: 'zero-window',
    findings: ['zero-window'],
    title: 'Who advertised a zero window, for how long, and the persist probes',
    sql: `SELECT flow_id AS flow, endpoint, host || ':' || port AS receiver,
       ${detail('episodes')} AS episodes,
       ROUND(${detail('duration_ns')} / 1e9, 3) AS zero_window_s,
       ${detail('persist_probes')} AS persist_probes,
       ${detail('open_at_end')} AS still_zero_at_end,
       frame AS first_frame
FROM findings
WHERE kind = 'zero-window'
ORDER BY ${detail('duration_ns')} DESC, flow_id, endpoint`,
  },
];

export function cannedReport(name: string): CannedReport | undefined {
  return CANNED_REPORTS.find((r) => r.name === name);
}
